"""Monte Carlo uncertainty of the ranks, and which assumption moves them most [COINr].

Each draw perturbs every pillar weight within +-spread (renormalised) and picks a
normalisation method, an aggregation method and an imputation choice. The pillar matrices of
each (normalisation, imputation) pair are computed once; a draw is then a matrix product, so
1000 draws over thousands of units need no Python loop over rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from ideal.scoring.aggregate import ranks, threat


def draws(profile: dict, base_weights: np.ndarray) -> dict:
    cfg = profile["uncertainty"]
    rng = np.random.default_rng(cfg["seed"])
    n = cfg["draws"]
    spread = cfg["weight_spread"]
    weights = base_weights * rng.uniform(1 - spread, 1 + spread, size=(n, len(base_weights)))
    return {
        "weights": weights / weights.sum(axis=1, keepdims=True),
        "normalisation": rng.integers(0, len(cfg["normalisation"]), n),
        "aggregation": rng.integers(0, len(cfg["aggregation"]), n),
        "imputation": rng.integers(0, len(cfg["imputation"]), n),
    }


def composite_draws(matrices: dict, eligible: dict, plan: dict, profile: dict) -> np.ndarray:
    """units x draws composite scores. ``matrices[(norm, imput)]`` is units x pillars;
    ``eligible[(norm, imput)]`` says which units may be scored under that choice."""
    cfg = profile["uncertainty"]
    n = len(plan["weights"])
    units = next(iter(matrices.values())).shape[0]
    out = np.full((units, n), np.nan)
    for ni, norm in enumerate(cfg["normalisation"]):
        for ii, imput in enumerate(cfg["imputation"]):
            for ai, agg in enumerate(cfg["aggregation"]):
                sel = np.flatnonzero((plan["normalisation"] == ni) & (plan["imputation"] == ii)
                                     & (plan["aggregation"] == ai))
                if len(sel):
                    comp = threat(matrices[(norm, imput)], plan["weights"][sel], agg, profile.get("harm"))
                    out[:, sel] = np.where(eligible[(norm, imput)][:, None], comp, np.nan)
    return out


def rank_intervals(composites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median rank and 5th-95th percentile rank per unit over the draws (NaN-aware)."""
    r = ranks(composites)
    with warnings.catch_warnings():  # units never scored in any draw: NaN, as they should be
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanmedian(r, axis=1), np.nanpercentile(r, 5, axis=1),
                np.nanpercentile(r, 95, axis=1))


def sensitivity(matrices: dict, eligible: dict, profile: dict, base_weights: np.ndarray,
                base_rank: np.ndarray) -> dict:
    """Average absolute rank shift when one assumption varies and the others stay at the
    profile's choice (one at a time), per assumption, over the scored units."""
    cfg = profile["uncertainty"]
    default = (profile["normalisation"]["method"], "carry_forward")
    agg0 = profile["aggregation"]["method"]
    scored = np.isfinite(base_rank)
    harm = profile.get("harm")

    def shift(comp: np.ndarray) -> float:
        r = ranks(comp)
        d = np.abs(r - base_rank[:, None])[scored]
        d = d[np.isfinite(d)]
        return float(d.mean()) if d.size else 0.0

    rng = np.random.default_rng(cfg["seed"] + 1)
    n = max(50, cfg["draws"] // 5)
    w = base_weights * rng.uniform(1 - cfg["weight_spread"], 1 + cfg["weight_spread"],
                                   size=(n, len(base_weights)))
    w /= w.sum(axis=1, keepdims=True)
    out = {"weights": shift(np.where(eligible[default][:, None],
                                     threat(matrices[default], w, agg0, harm), np.nan))}
    one = base_weights[None, :]
    out["normalisation"] = float(np.mean([shift(np.where(eligible[(m, "carry_forward")][:, None],
                                                         threat(matrices[(m, "carry_forward")], one, agg0, harm), np.nan))
                                          for m in cfg["normalisation"]]))
    out["aggregation"] = float(np.mean([shift(np.where(eligible[default][:, None],
                                                       threat(matrices[default], one, a, harm), np.nan))
                                        for a in cfg["aggregation"]]))
    out["imputation"] = float(np.mean([shift(np.where(eligible[(default[0], i)][:, None],
                                                      threat(matrices[(default[0], i)], one, agg0, harm), np.nan))
                                       for i in cfg["imputation"]]))
    return out
