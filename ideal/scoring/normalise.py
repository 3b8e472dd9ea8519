"""Outlier treatment and normalisation to 0-10 (pure functions on numpy arrays / Series).

Outliers [COINr]: when |skewness| > 2 and kurtosis > 3.5, winsorise the highest values one at a
time (up to N points) until both fall within bounds; if that is not enough, use log(1 + x).
Normalisation [OECD-JRC]: min-max between fixed goalposts (comparable across periods), z-score
or percentile rank as alternatives; higher is more threatening for every IDEAL indicator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _shape_ok(x: np.ndarray, max_skew: float, max_kurt: float) -> bool:
    """Skewness and excess kurtosis within bounds (the moment estimators of scipy.stats.skew
    and scipy.stats.kurtosis with their defaults, computed directly: this runs thousands of
    times in the sensitivity analysis)."""
    x = x[np.isfinite(x)]
    if len(x) < 4 or np.std(x) == 0:
        return True
    d = x - x.mean()
    m2, m3, m4 = (d * d).mean(), (d ** 3).mean(), (d ** 4).mean()
    return not (abs(m3 / m2 ** 1.5) > max_skew and m4 / m2 ** 2 - 3 > max_kurt)


def treat_outliers(values: pd.Series, max_skew: float = 2.0, max_kurt: float = 3.5,
                   max_points: int = 5) -> tuple[pd.Series, str]:
    """(treated values, what was done: 'none', 'winsorised:N' or 'log')."""
    x = values.to_numpy(dtype="float64").copy()
    finite = np.isfinite(x)
    if _shape_ok(x[finite], max_skew, max_kurt):
        return values.astype("float64"), "none"
    for n in range(1, max_points + 1):
        order = np.argsort(np.where(finite, x, -np.inf))[::-1]
        top = order[:n]
        x[top] = x[order[n]]  # cap the n highest at the next value
        if _shape_ok(x[finite], max_skew, max_kurt):
            return pd.Series(x, index=values.index), f"winsorised:{n}"
    return np.log1p(values.astype("float64").clip(lower=0)), "log"


def minmax_goalposts(values: pd.Series, low: float, high: float, log: bool = False) -> pd.Series:
    """0-10 between fixed goalposts, capped at both ends. With ``log`` the goalposts are
    transformed like the (log-treated) values."""
    if log:
        low, high = np.log1p(low), np.log1p(high)
    if high <= low:
        raise ValueError("the upper goalpost must be above the lower one")
    return ((values - low) / (high - low)).clip(0, 1) * 10


def minmax_log(values: pd.Series, low: float, high: float) -> pd.Series:
    """0-10 on a log scale between goalposts ``low`` > 0 and ``high`` (v3): rates of one crime
    type span two orders of magnitude across regions, so equal ratios get equal steps (a
    region at 10x another is the same distance apart whether the rates are 1 and 10 or 10 and
    100); at or below ``low`` 0, at or above ``high`` 10; zero counts score 0."""
    if not 0 < low < high:
        raise ValueError("log goalposts need 0 < low < high")
    v = values.astype("float64")
    scaled = (np.log(v.clip(lower=low)) - np.log(low)) / (np.log(high) - np.log(low))
    return scaled.clip(0, 1).mul(10).where(v.notna())


def zscore(values: pd.Series) -> pd.Series:
    """z-score clipped at +-3, mapped to 0-10 (0 = 3 sd below the mean)."""
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return pd.Series(np.where(values.notna(), 5.0, np.nan), index=values.index)
    return ((values - values.mean()) / sd).clip(-3, 3).add(3).div(6).mul(10)


def percentile_rank(values: pd.Series) -> pd.Series:
    """Percentile rank 0-10 (ties share their average rank)."""
    n = values.notna().sum()
    if n <= 1:
        return pd.Series(np.where(values.notna(), 5.0, np.nan), index=values.index)
    return (values.rank(method="average") - 1) / (n - 1) * 10
