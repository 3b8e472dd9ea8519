"""Run-to-run differences: score, level and rank per unit, and whether the data or the
method caused each change."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNIT = ["country", "region", "crime_type"]
PILLARS = ["magnitude", "trend", "harm", "spread"]


def compare(a: pd.DataFrame, b: pd.DataFrame, same_method: bool) -> pd.DataFrame:
    """One row per unit in either run: score/level/rank in A and B, their change, and the
    cause: 'data' (inputs differ, same profile), 'method' (same inputs, other profile),
    'data and method', 'none', 'new' or 'gone'."""
    cols = UNIT + ["rate", "data_year", "score", "level", "rank"]
    parts = [f"contrib_{p}" for p in PILLARS]
    a = a.assign(**{c: a[c] if c in a else np.nan for c in parts})
    b = b.assign(**{c: b[c] if c in b else np.nan for c in parts})
    m = a[cols + parts].merge(b[cols + parts], on=UNIT, how="outer", suffixes=("_a", "_b"), indicator=True)
    rate_a, rate_b = m["rate_a"].to_numpy(float), m["rate_b"].to_numpy(float)
    data_changed = ~np.isclose(rate_a, rate_b, rtol=1e-9, equal_nan=True) | \
        (m["data_year_a"].fillna(-1) != m["data_year_b"].fillna(-1)).to_numpy()
    score_changed = ~np.isclose(m["score_a"].to_numpy(float), m["score_b"].to_numpy(float),
                                atol=1e-9, equal_nan=True)
    method_changed = np.full(len(m), not same_method)
    cause = np.select(
        [(m["_merge"] == "right_only").to_numpy(), (m["_merge"] == "left_only").to_numpy(),
         data_changed & method_changed, data_changed, method_changed & score_changed],
        ["new", "gone", "data and method", "data", "method"], default="none")
    # by pillar: the change of each pillar's points in the score (they add up to the score's
    # change); the pillar that moved it most explains the change (e.g. v2 -> v3: the trend)
    deltas = pd.DataFrame({p: m[f"contrib_{p}_b"] - m[f"contrib_{p}_a"] for p in PILLARS})
    known = deltas.notna().any(axis=1)
    driver = deltas.abs().fillna(-1).idxmax(axis=1).where(known, None)
    m = m.drop(columns=[f"contrib_{p}_{s}" for p in PILLARS for s in "ab"])
    return m.drop(columns="_merge").assign(
        score_change=m["score_b"] - m["score_a"], rank_change=m["rank_a"] - m["rank_b"],
        level_changed=m["level_a"].fillna("") != m["level_b"].fillna(""), cause=cause,
        **{f"change_{p}": deltas[p].round(4) for p in PILLARS}, driver=driver,
    ).sort_values("rank_change", key=lambda s: -s.abs(), na_position="last", ignore_index=True)
