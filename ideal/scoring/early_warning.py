"""Early warning: the regions and crime types whose recent months rise beyond what their own
history explains.

For each monthly series (country x region x crime type, one indicator per country and crime
type as the scoring chooses), the months before the monitored window are the baseline: their
mean is the expected monthly count. Each monitored month's count is put on a variance-
stabilised scale (Anscombe: 2(sqrt(x + 3/8) - sqrt(mean + 3/8)), about N(0, 1) for a Poisson
count), divided by the baseline's own spread on that scale (so an overdispersed series needs a
larger rise), and accumulated in an upper CUSUM [Page 1954; Lucas 1985 for counts]:
S_t = max(0, S_{t-1} + z_t - k). An alarm is raised the first month S exceeds h; the rise is
taken to have started the month after S was last at zero, and its size is the mean count since
then over the baseline mean. k = 0.5 and h = 5 give about 930 months between false alarms for a
series that does not change (Montgomery, Introduction to Statistical Quality Control, CUSUM
tables); the benchmark in tests/scoring/test_early_warning.py measures it on generated series.
Pure functions: frames in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ideal.frames import per_unique

UNIT = ["country", "region", "crime_type"]
DEFAULTS = {"monitor_months": 12, "baseline_months": 24, "min_baseline_months": 12,
            "k": 0.5, "h": 5.0, "min_baseline_mean": 1.0}


def monthly_series(obs: pd.DataFrame, preference: list[str], end: str) -> pd.DataFrame:
    """Units x months (columns 'YYYY-MM' up to ``end``) of the monthly counts, one indicator
    per country and crime type (the first of ``preference`` it sends monthly); national rows
    only where a country sent no regions; missing months stay NaN."""
    m = obs[per_unique(obs["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}-\d{2}"))
            .fillna(False).astype(bool) & obs["value"].notna() & obs["indicator"].isin(preference)]
    m = m[m["period"] <= end]
    if m.empty:
        return pd.DataFrame()
    rank = {ind: i for i, ind in enumerate(preference)}
    best = m.assign(_r=m["indicator"].map(rank)).groupby(["country", "crime_type"])["_r"].transform("min")
    m = m[m["indicator"].map(rank) == best]
    regional = m[m["region"] != m["country"]].groupby(["country", "crime_type"]).size()
    national_ok = ~pd.MultiIndex.from_frame(m[["country", "crime_type"]]).isin(regional.index)
    m = m[(m["region"] != m["country"]).to_numpy() | national_ok]
    table = m.pivot_table(index=UNIT + ["indicator"], columns="period", values="value", aggfunc="sum")
    return table.sort_index(axis=1)


def detect(series: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Alarms of the monitored window (the last ``monitor_months`` columns): one row per unit
    whose CUSUM crossed h, with the month it started, the month of the alarm, the baseline and
    recent monthly means and their ratio; sorted by the size of the rise."""
    cfg = {**DEFAULTS, **(settings or {})}
    cols = ["country", "region", "crime_type", "indicator", "started", "alarm", "baseline",
            "recent", "ratio", "months"]
    if series.empty:
        return pd.DataFrame(columns=cols)
    monitor, base_n = int(cfg["monitor_months"]), int(cfg["baseline_months"])
    months = list(series.columns)
    if len(months) <= monitor:
        return pd.DataFrame(columns=cols)
    watched = months[-monitor:]
    base = series[months[-monitor - base_n:-monitor]].to_numpy(dtype="float64")
    x = series[watched].to_numpy(dtype="float64")
    n_base = np.isfinite(base).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mu = np.nanmean(np.where(np.isfinite(base), base, np.nan), axis=1)
    usable = (n_base >= cfg["min_baseline_months"]) & (mu >= cfg["min_baseline_mean"])
    anscombe = lambda v: 2 * np.sqrt(np.clip(v, 0, None) + 0.375)  # noqa: E731
    zb = anscombe(base) - anscombe(mu)[:, None]
    mad = np.nanmedian(np.abs(zb - np.nanmedian(zb, axis=1, keepdims=True)), axis=1) * 1.4826
    sigma = np.maximum(np.nan_to_num(mad, nan=1.0), 1.0)  # never below Poisson's own spread
    z = (anscombe(x) - anscombe(mu)[:, None]) / sigma[:, None]
    s = np.zeros(len(series))
    last_zero = np.full(len(series), -1)
    alarm = np.full(len(series), -1)
    for t in range(monitor):
        step = np.where(np.isfinite(z[:, t]), z[:, t] - cfg["k"], 0.0)  # a missing month adds nothing
        s = np.maximum(0.0, s + step)
        last_zero = np.where((s == 0) & (alarm < 0), t, last_zero)
        alarm = np.where((alarm < 0) & (s > cfg["h"]) & usable, t, alarm)
    hit = np.flatnonzero(alarm >= 0)
    rows = []
    keys = series.index.to_frame(index=False)
    for i in hit:
        start = last_zero[i] + 1
        recent = np.nanmean(x[i, start:])
        rows.append({**keys.iloc[i].to_dict(), "started": watched[start], "alarm": watched[alarm[i]],
                     "baseline": round(float(mu[i]), 2), "recent": round(float(recent), 2),
                     "ratio": round(float(recent / mu[i]), 2), "months": int(monitor - start)})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["ratio", "recent"], ascending=False, ignore_index=True)


def monthly_up_to(obs: pd.DataFrame, year: str, preference: list[str]) -> pd.DataFrame:
    """The monthly series (:func:`monthly_series`) of the months up to the end of ``year``.
    Each series is one country's: a large assessment builds them country by country and
    gathers them (:func:`gathered`)."""
    is_month = per_unique(obs["period"], lambda u: u.astype(str).str.fullmatch(r"\d{4}-\d{2}"))
    monthly = obs[is_month.fillna(False).astype(bool)]
    inside = monthly[per_unique(monthly["period"], lambda u: u.astype(str).str.slice(0, 4) <= str(year))
                     .fillna(False).astype(bool)]
    if inside.empty:
        return pd.DataFrame()
    return monthly_series(inside, preference, str(inside["period"].max()))


def gathered(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The series of several countries as one table, the months in order (a month one
    country lacks is missing, NaN, for it)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts).sort_index().sort_index(axis=1)


def early_warning(obs: pd.DataFrame, year: str, preference: list[str], settings: dict | None = None) -> pd.DataFrame:
    """The alarms of the monitored window ending with the last month of ``year`` that has data."""
    return detect(monthly_up_to(obs, year, preference), settings)
