"""Run-to-run differences: score, level and rank per unit, and whether the data or the
method caused each change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ideal.scoring import window

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


def since(run: dict, scores: pd.DataFrame, before: dict | None, before_hot: pd.DataFrame | None,
          step: float = 0.5) -> dict:
    """What changed since the previous run of the same scope (#50), for page 1: the hotspots
    new in this run (most probable first) and those no longer, the markets proposed and no
    longer proposed, the markets whose regional severity moved by ``step`` points or more, and
    the members added or no longer assessed. ``{"first": True}`` without a previous run."""
    if before is None:
        return {"first": True}
    key = ["country", "region", "crime_type", "indicator"]
    hot_now = scores[scores["hotspot"].fillna(False).astype(bool)] if "hotspot" in scores else scores.iloc[0:0]
    old = before_hot if before_hot is not None else pd.DataFrame(columns=key)
    old_keys = set(map(tuple, old[key].astype(str).to_numpy())) if len(old) else set()
    now_keys = set(map(tuple, hot_now[key].astype(str).to_numpy())) if len(hot_now) else set()
    new = hot_now[[tuple(k) not in old_keys for k in hot_now[key].astype(str).to_numpy()]] \
        .sort_values("p_exceed", ascending=False)
    info, info_b = run.get("info") or {}, before.get("info") or {}
    proposed = [m["market"] for m in info.get("priorities") or []]
    proposed_b = [m["market"] for m in info_b.get("priorities") or []]

    def regional(r: dict) -> dict:  # the markets' regional severities (not CLASI's areas)
        return {m["market"]: m["severity"] for m in ((r.get("info") or {}).get("markets") or {}).get("regional") or []
                if m.get("severity") is not None and m.get("kind", "market") == "market"}

    now_sev, old_sev = regional(run), regional(before)
    moved = sorted(((m, old_sev[m], s) for m, s in now_sev.items()
                    if m in old_sev and abs(s - old_sev[m]) >= step), key=lambda t: -abs(t[2] - t[1]))

    def assessed(r: dict) -> set[str]:
        return {c["country"] for c in (r.get("info") or {}).get("countries") or []
                if c.get("status") in (window.ASSESSED, window.NATIONAL_ONLY)}

    now_members, old_members = assessed(run), assessed(before)
    return {"first": False, "id": before["id"], "period": str(before["period"]),
            "new_hotspots": new[key + ["p_exceed", "rate"]].head(3).to_dict("records"),
            "n_new_hotspots": len(new), "n_gone_hotspots": len(old_keys - now_keys),
            "proposed": [m for m in proposed if m not in proposed_b],
            "dropped": [m for m in proposed_b if m not in proposed],
            "up": [{"market": m, "before": b, "now": s} for m, b, s in moved if s > b],
            "down": [{"market": m, "before": b, "now": s} for m, b, s in moved if s < b],
            "members_added": sorted(now_members - old_members),
            "members_removed": sorted(old_members - now_members)}
