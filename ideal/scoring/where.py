"""Methodology v5's WHERE track (#48): within each crime type and indicator, how likely a
region's rate is well above the members' usual level, and how likely it is rising. No
goalposts, no cross-crime scale: every crime type can have hotspots.

Per unit i of a crime type and indicator g (the data draws of ideal.scoring.uncertainty,
``data_draws``: the counts, the hyperparameters and the population redrawn):

    threshold_g   = k x median over the members' regions of g of their recorded rate of the
                    data year (held fixed, as the threshold of a disease map is)
    P(exceed)_i   = share of the draws with rate_i > threshold_g
    P(rising)_i   = share of the draws with yearly change_i > 0 (units with a trend)
    hotspot_i     = P(exceed)_i >= ``hotspot`` (0.8: Richardson, Thomson, Best & Elliott 2004,
                    "Interpreting posterior relative risk estimates in disease-mapping
                    studies", Environ Health Perspect 112, who find that decision rule keeps
                    false positives low where the excess is real but small in sparse areas)

The modelled rate's 90 % interval (the 5th and 95th percentiles of the draws) is kept beside
the recorded rate, which is the headline (#48: the official figure first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP = ["crime_type", "indicator"]


def thresholds(units: pd.DataFrame, k: float) -> pd.Series:
    """k x the median recorded rate of the data year per crime type and indicator (the
    members' regions, national totals excluded by the caller)."""
    rate = units["rate"].where(units["rate"].notna() & np.isfinite(units["rate"].astype("float64")))
    med = rate.groupby([units[c] for c in GROUP]).transform("median")
    return (k * med).astype("float64")


def _exceed(units: pd.DataFrame, r: np.ndarray, k: float, hot: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(threshold, P(exceed) rounded as stored, hotspot) per unit at ``k``."""
    thr = thresholds(units, k).to_numpy()
    with np.errstate(invalid="ignore"):
        p = np.round(np.where(np.isfinite(thr), np.nanmean(r > thr[:, None], axis=1), np.nan), 4)
    return thr, p, np.where(np.isfinite(p), p >= hot, False)


def exceedance(units: pd.DataFrame, rate_draws: np.ndarray, trend_draws: np.ndarray, settings: dict) -> pd.DataFrame:
    """Per unit (in the order of ``units``): the threshold, P(exceed), P(rising), whether it is a
    hotspot and whether it is rising, and the 90 % interval of the modelled rate."""
    r = rate_draws.astype("float64")
    t = trend_draws.astype("float64")
    thr, p_exceed, hotspot = _exceed(units, r, float(settings.get("k", 2.0)), float(settings.get("hotspot", 0.8)))
    with np.errstate(invalid="ignore"):
        finite_t = np.isfinite(t).sum(axis=1)
        p_rising = np.where(finite_t > 0, (np.isfinite(t) & (t > 0)).sum(axis=1) / np.maximum(finite_t, 1), np.nan)
        finite_r = np.isfinite(r).all(axis=1)
        safe = np.where(finite_r[:, None], r, 0.0)
        low, high = (np.where(finite_r, np.percentile(safe, 5, axis=1), np.nan),
                     np.where(finite_r, np.percentile(safe, 95, axis=1), np.nan)) if r.shape[1] else \
            (np.full(len(r), np.nan),) * 2
    rising = float(settings.get("rising", 0.8))
    return pd.DataFrame({"exceed_threshold": np.round(thr, 4), "p_exceed": p_exceed,
                         "p_rising": np.round(p_rising, 4), "hotspot": hotspot,
                         "rising": np.where(np.isfinite(p_rising), p_rising >= rising, False),
                         "rate_p5": np.round(low, 4), "rate_p95": np.round(high, 4)}, index=units.index)


def k_sensitivity(units: pd.DataFrame, rate_draws: np.ndarray, settings: dict) -> dict:
    """How many hotspots (and which crime types have one) at k, at each end of ``k_range`` and
    at k x 0.5 and k x 2 (#48: the analysis that tells how far the hotspots follow k)."""
    k = float(settings.get("k", 2.0))
    ends = [float(x) for x in settings.get("k_range", [k / 2, k * 2])]
    r = rate_draws.astype("float64")
    out = []
    for kk in dict.fromkeys([k / 2, ends[0], k, ends[-1], k * 2]):
        hot = _exceed(units, r, kk, float(settings.get("hotspot", 0.8)))[2].astype(bool)
        out.append({"k": round(kk, 3), "hotspots": int(hot.sum()),
                    "crime_types": sorted(units.loc[hot, "crime_type"].astype(str).unique().tolist())})
    return {"k": k, "hotspot": float(settings.get("hotspot", 0.8)), "by_k": out}
