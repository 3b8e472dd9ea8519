"""The statistical coherence of a run's pillars (OECD/JRC Handbook step 4; COINr's
`get_corr`, `get_cronbach`, `get_PCA`): how the pillars relate to each other and to the score,
stored with each run and shown in the methodology annex.

- correlations: Pearson between pillars, on the units that have both;
- Cronbach's alpha of the data pillars (internal consistency; harm is a constant per crime
  type and is left out);
- the share of variance of the first principal component of the standardised pillars;
- effective weights: each pillar's share of the score's variance, cov(w x pillar, score) /
  var(score), beside its nominal weight - a pillar that carries 25 % of the weight but 5 % of
  the variance does not steer the ranking.
"""

from __future__ import annotations

import numpy as np

PILLARS = ["magnitude", "trend", "harm", "spread"]
DATA = [0, 1, 3]


def cronbach_alpha(x: np.ndarray) -> float:
    """alpha = k / (k - 1) x (1 - sum of item variances / variance of the sum), rows complete."""
    x = x[np.isfinite(x).all(axis=1)]
    k = x.shape[1]
    if len(x) < 3 or k < 2:
        return float("nan")
    total = x.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total)) if total > 0 else float("nan")


def first_component_share(x: np.ndarray) -> float:
    """Share of the variance of the standardised columns explained by the first principal
    component (complete rows; constant columns left out)."""
    x = x[np.isfinite(x).all(axis=1)]
    sd = x.std(axis=0, ddof=1) if len(x) > 1 else np.zeros(x.shape[1])
    x = x[:, sd > 0]
    if x.shape[1] < 2 or len(x) < 3:
        return float("nan")
    eig = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))
    return float(eig.max() / eig.sum())


def effective_weights(pillars: np.ndarray, weights: np.ndarray, score: np.ndarray) -> list[float]:
    """cov(weight x pillar, score) / var(score) per pillar, over the units with every pillar."""
    ok = np.isfinite(pillars).all(axis=1) & np.isfinite(score)
    if ok.sum() < 3 or np.var(score[ok]) == 0:
        return [float("nan")] * pillars.shape[1]
    s = score[ok] - score[ok].mean()
    out = []
    for i in range(pillars.shape[1]):
        part = weights[i] * pillars[ok, i] / weights.sum()
        out.append(float(np.mean((part - part.mean()) * s) / np.mean(s * s)))
    return out


def report(pillars: np.ndarray, weights: np.ndarray, score: np.ndarray,
           parts: np.ndarray | None = None, harm_scales: bool = False) -> dict:
    """The coherence of one run (JSON-ready). ``parts``: each pillar's contribution to each
    score (units x pillars, adding up to it); the effective weights are then
    cov(contribution, score) / var(score), right whatever the aggregation. ``harm_scales``
    (v3, v4): harm is not a weighted pillar but a multiplier, so it has no nominal weight and the
    data pillars' nominal weights are theirs renormalised; their effective weights are measured
    against the data composite they make (v4: before, against the score, which the scaling
    distorts); harm's effective share is what the scaling does to the score's variance
    (negative when it narrows the scores)."""
    corr = {}
    for i in range(len(PILLARS)):
        for j in range(i + 1, len(PILLARS)):
            both = np.isfinite(pillars[:, i]) & np.isfinite(pillars[:, j])
            a, b = pillars[both, i], pillars[both, j]
            corr[f"{PILLARS[i]}-{PILLARS[j]}"] = (round(float(np.corrcoef(a, b)[0, 1]), 3)
                                                   if both.sum() > 2 and a.std() > 0 and b.std() > 0 else None)
    if parts is not None:
        ok = np.isfinite(parts).all(axis=1) & np.isfinite(score)
        s = score[ok] - score[ok].mean()
        eff = ([float(np.mean((parts[ok, i] - parts[ok, i].mean()) * s) / np.mean(s * s))
                for i in range(parts.shape[1])] if ok.sum() > 2 and np.mean(s * s) > 0
               else [float("nan")] * parts.shape[1])
    else:
        eff = effective_weights(pillars, weights, score)
    if harm_scales and parts is not None:
        # harm is a multiplier, not a weighted pillar: the data pillars' nominal weights are
        # those of the data composite, so their effective weights are measured against it (the
        # sum of their contributions before the harm scaling); harm's own figure stays its
        # share of the score's variance
        data_parts = np.nan_to_num(parts[:, DATA])
        have = np.isfinite(score)
        total = data_parts[have].sum(axis=1)
        c = total - total.mean()
        if have.sum() > 2 and np.mean(c * c) > 0:
            for j, col in enumerate(DATA):
                x = data_parts[have, j] - data_parts[have, j].mean()
                eff[col] = float(np.mean(x * c) / np.mean(c * c))
    if harm_scales:
        data = np.zeros_like(weights, dtype="float64")
        data[DATA] = weights[DATA] / weights[DATA].sum()
        nominal = np.where(np.isin(np.arange(len(weights)), DATA), data, np.nan)
    else:
        nominal = weights / weights.sum()
    used = [c for c in DATA if np.isfinite(pillars[:, c]).any()]  # v4: the spread is not a pillar
    return {
        "correlations": corr,
        "cronbach_alpha": _round(cronbach_alpha(pillars[:, used])),
        "first_component_share": _round(first_component_share(pillars[:, used])),
        "weights": {p: {"nominal": _round(float(nominal[i])), "effective": _round(eff[i])}
                    for i, p in enumerate(PILLARS)},
    }


def _round(x: float) -> float | None:
    return None if x != x else round(x, 3)
