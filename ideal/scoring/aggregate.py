"""Aggregation of pillar scores into the composite, coverage, and threat bands.

Arithmetic: weighted mean of the available pillars (weights renormalised over them).
Geometric [INFORM]: weighted geometric mean on a 1-10 rescale (x' = 1 + 0.9 x), mapped back to
0-10, so a low pillar cannot be fully compensated by a high one. A unit whose coverage (share
of its pillars with a value) is below the threshold gets no score: "insufficient data".
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def coverage(pillars: np.ndarray, data: list[int] | None = None) -> np.ndarray:
    """Share of non-missing pillars per unit (rows of ``pillars``); with ``data``, among those
    columns only (the data pillars: harm is a constant of the crime type and always present,
    so counting it would let the coverage threshold never bite)."""
    cols = pillars if data is None else pillars[:, data]
    return np.isfinite(cols).mean(axis=1)


def aggregate(pillars: np.ndarray, weights: np.ndarray, method: str = "arithmetic") -> np.ndarray:
    """Composite 0-10 for each row of ``pillars`` (units x pillars, NaN = missing) and each row
    of ``weights`` (draws x pillars). Returns units x draws; vectorised, no loop over rows."""
    weights = np.atleast_2d(weights)
    have = np.isfinite(pillars).astype("float64")
    wsum = have @ weights.T
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            out = (np.nan_to_num(pillars) @ weights.T) / wsum
        elif method == "geometric":
            logs = np.where(have > 0, np.log(1 + 0.9 * np.nan_to_num(pillars)), 0.0)
            out = (np.exp((logs @ weights.T) / wsum) - 1) / 0.9
        else:
            raise ValueError(f"unknown aggregation {method!r}")
    return np.where(wsum > 0, out, np.nan)


DATA = [0, 1, 3]  # magnitude, trend, spread; column 2 is harm
HARM = 2
PILLARS = ["magnitude", "trend", "harm", "spread"]


def data_columns(profile: dict) -> list[int]:
    """The data pillars the profile weighs (v4 gives the spread no weight: it is left out of
    the coverage too)."""
    return [c for c in DATA if profile["pillars"][PILLARS[c]]["weight"] > 0]


def threat(pillars: np.ndarray, weights: np.ndarray, method: str = "arithmetic",
           harm: dict | None = None) -> np.ndarray:
    """The threat score, units x draws. ``harm`` (the profile's harm block): with mode
    ``scale`` (v3) the data pillars are aggregated and the crime type's harm scales the result,
    score = data composite x (floor + (1 - floor) x harm / 10): no count means no threat
    whatever the harm, and a harmful crime keeps its full data score. Mode ``additive`` (v2):
    harm is a fourth pillar averaged with the others."""
    if not harm or harm.get("mode", "additive") == "additive":
        return aggregate(pillars, weights, method)
    weights = np.atleast_2d(weights)
    data = aggregate(pillars[:, DATA], weights[:, DATA], method)
    floor = float(harm.get("floor", 0.5))
    factor = floor + (1 - floor) * np.nan_to_num(pillars[:, HARM], nan=10.0) / 10
    return data * factor[:, None]


def band(scores: pd.Series, bands: list[dict]) -> pd.Series:
    """Threat level for each score from the profile's bands (upper bounds inclusive)."""
    edges = [-np.inf] + [b["max"] for b in bands]
    labels = [b["level"] for b in bands]
    return pd.cut(scores, bins=edges, labels=labels, right=True).astype("object").where(scores.notna())


def ranks(composite: np.ndarray) -> np.ndarray:
    """Rank 1 = highest threat, per column (draw); ties share the best rank ('min', as COINr),
    never broken by row order; NaN stays NaN. units x draws."""
    from scipy.stats import rankdata

    filled = np.where(np.isfinite(composite), -composite, np.inf)
    out = rankdata(filled, method="min", axis=0).astype("float64")
    return np.where(np.isfinite(composite), out, np.nan)
