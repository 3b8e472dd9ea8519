"""The full-year value of a partial year, estimated from the months known and the seasonal
profile of earlier complete years, with a predictive interval (pure).

The model, for one unit (country x region x crime type x indicator) whose year Y is known for
the months M only (K events in them) and whose rest R (the other months) is to be estimated:

  log(R / K) = -logit(s_Y),   s_Y = the share of the year's events that fall in M.

s_Y is estimated by the mean of logit(s_j) over the unit's complete years j in the
``history_years`` before Y (at least ``min_history_years``; else the country's, the sum of its
regions' complete years, the unit having too little history) [ratio-to-seasonal-share
estimator: Wallis & Thomas 1971; the "seasonal naive" benchmark of Hyndman & Athanasopoulos,
*Forecasting: principles and practice*, 3rd ed., 5.2]. Its uncertainty has three parts:

* this year's Poisson noise in the months known and in the rest: 1/K + 1/R;
* the year-to-year variation of the share beyond Poisson noise (trends within the year,
  irregular months): tau2, the method-of-moments excess variance of logit(s_j) around the
  unit's mean, sample variance minus the Poisson part 1/k_j + 1/(S_j - k_j), pooled over the
  regions of a country for the crime type and indicator (one region has 2-5 years: too few
  for its own variance) [DerSimonian & Laird 1986, the same moment estimator];
* the error of the mean share: (tau2 + Poisson part) / n for n history years; with the
  country's profile, the between-region variance of the mean shares around the country's (B)
  is added.

R has a log-normal predictive distribution, log(R + 1/2) ~ N(log(R_hat + 1/2), sigma^2);
the interval is its ``interval`` central range, K + R. Half an event keeps zero counts finite.
Measured on the INEGI monthly homicides (32 states, 2000-2022): ``python -m
scripts.nowcast_study`` and the README's table.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.stats import norm

KEYS = ["country", "region", "crime_type", "indicator"]
GROUP = ["country", "crime_type", "indicator"]
MONTH_COLUMNS = [f"m{i}" for i in range(1, 13)]


def months_of(obs: pd.DataFrame) -> pd.DataFrame:
    """Monthly values from observations with ISO periods: ``YYYY-MM`` as they are, a quarter
    spread evenly over its three months (shares of months that make up whole quarters are
    then exact). Columns KEYS, year, month, value."""
    period = obs["period"].astype(str)
    monthly = obs[period.str.len() == 7]
    if monthly.empty:
        return pd.DataFrame(columns=[*KEYS, "year", "month", "value"])
    p = monthly["period"].astype(str)
    year = p.str.slice(0, 4).astype("int64")
    quarter = p.str.slice(5, 6) == "Q"
    part = pd.to_numeric(p.str.slice(5).str.lstrip("Q"), errors="coerce")
    plain = monthly[~quarter].assign(year=year[~quarter], month=part[~quarter])
    q = monthly[quarter].assign(year=year[quarter], _q=part[quarter])
    spread = pd.concat([q.assign(month=(q["_q"] - 1) * 3 + k, value=q["value"] / 3) for k in (1, 2, 3)],
                       ignore_index=True).drop(columns="_q") if len(q) else q.drop(columns="_q")
    out = pd.concat([plain, spread], ignore_index=True)
    out = out[out["month"].between(1, 12) & out["value"].notna()]
    return (out.groupby([*KEYS, "year", "month"], as_index=False)["value"].sum()
            .astype({"month": "int64"}))


def mask_of(months: list[int] | tuple[int, ...]) -> int:
    return int(sum(1 << (m - 1) for m in set(months)))


def mask_from_coverage(text: str) -> int | None:
    """'3/12: 01-03' or '5/12: 01-03, 06, 08' -> the months' bit mask; None when the text does
    not say which months."""
    if not isinstance(text, str) or ":" not in text or "/12" not in text:
        return None
    months: list[int] = []
    for part in text.split(":", 1)[1].split(","):
        a, _, b = part.strip().partition("-")
        if not re.fullmatch(r"[0-9]+", a.strip()) or (b and not re.fullmatch(r"[0-9]+", b.strip())):
            return None
        months += list(range(int(a), int(b or a) + 1))
    return mask_of(months) if months and all(1 <= m <= 12 for m in months) else None


def complete_years(months: pd.DataFrame) -> pd.DataFrame:
    """The unit-years with all 12 months, one row each with the months as columns m1..m12."""
    if months.empty:
        return pd.DataFrame(columns=[*KEYS, "year", *MONTH_COLUMNS])
    wide = months.pivot_table(index=[*KEYS, "year"], columns="month", values="value", aggfunc="sum")
    wide = wide.reindex(columns=range(1, 13))
    wide = wide[wide.notna().all(axis=1)]
    wide.columns = MONTH_COLUMNS
    return wide.reset_index()


def _shares(partial: pd.DataFrame, history: pd.DataFrame, on: list[str], years: int) -> pd.DataFrame:
    """Per partial row (``_p``) and history year: logit of the share of the year in the known
    months (continuity-corrected) and its Poisson variance."""
    h = partial[["_p", "year", "_mask", *on]].merge(history, on=on, suffixes=("", "_h"))
    h = h[(h["year_h"] < h["year"]) & (h["year_h"] >= h["year"] - years)]
    if h.empty:
        return h.assign(l=[], v=[])
    m = h[MONTH_COLUMNS].to_numpy(dtype="float64").clip(min=0)
    bits = (h["_mask"].to_numpy()[:, None] >> np.arange(12)[None, :]) & 1
    k = (m * bits).sum(axis=1)
    rest = m.sum(axis=1) - k
    return h.assign(l=np.log((k + 0.5) / (rest + 0.5)), v=1 / (k + 0.5) + 1 / (rest + 0.5))[
        ["_p", *on, "year_h", "l", "v"]]


def _moments(s: pd.DataFrame) -> pd.DataFrame:
    """Per partial row: n years, mean logit share, mean Poisson variance, and the excess
    variance terms of each year (n/(n-1) (l - mean)^2 - v)."""
    g = s.groupby("_p")
    out = pd.DataFrame({"n": g.size(), "lbar": g["l"].mean(), "vbar": g["v"].mean()})
    d = s.merge(out, left_on="_p", right_index=True)
    d = d[d["n"] > 1]
    excess = (d["l"] - d["lbar"]) ** 2 * d["n"] / (d["n"] - 1) - d["v"]
    return out.assign(excess=excess.groupby(d["_p"]).mean().reindex(out.index))


def nowcast(months: pd.DataFrame, partial: pd.DataFrame, history_years: int = 5,
            min_history_years: int = 2, interval: float = 0.9) -> pd.DataFrame:
    """Full-year estimates of ``partial`` (KEYS, year, known: the events of the months known,
    mask: their bit mask) from ``months`` (months_of: the unit's and its country's other
    years). Returns ``partial`` with value, lo, hi (the ``interval`` predictive range), sd
    (of log(rest + 1/2)), rest, source (unit, country, or None: no seasonal history) and
    history (years used)."""
    out = partial.reset_index(drop=True).assign(_p=lambda d: np.arange(len(d)), _mask=lambda d: d["mask"].astype("int64"))
    blank = out.assign(value=np.nan, lo=np.nan, hi=np.nan, sd=np.nan, rest=np.nan, source=None, history=0)
    if out.empty or months.empty:
        return blank.drop(columns=["_p", "_mask"])
    units = complete_years(months)
    regional = units[units["region"] != units["country"]]
    country = regional.groupby([*GROUP, "year"], as_index=False)[MONTH_COLUMNS].sum()
    own = _moments(_shares(out, units, KEYS, history_years))
    ctry = _moments(_shares(out, country, GROUP, history_years))
    res = out.join(own.add_prefix("u_"), on="_p").join(ctry.add_prefix("c_"), on="_p")
    use_unit = res["u_n"].fillna(0) >= min_history_years
    use_country = ~use_unit & (res["c_n"].fillna(0) >= min_history_years)
    # tau2 pooled over the regions of a country (crime type, indicator): the excess variance of
    # the units' own shares; B: how far the units' mean shares lie from the country's
    pool = res[use_unit].assign(e2=lambda d: (d["u_lbar"] - d["c_lbar"]) ** 2,
                                ev=lambda d: d["u_excess"].clip(lower=0).fillna(0) / d["u_n"] + d["u_vbar"] / d["u_n"])
    tau2 = pool.groupby(GROUP)["u_excess"].mean().clip(lower=0).rename("tau2")
    between = (pool.dropna(subset=["e2"]).groupby(GROUP).apply(
        lambda g: max(float(g["e2"].mean() - g["ev"].mean()), 0.0), include_groups=False).rename("B")
        if pool["e2"].notna().any() else pd.Series(dtype="float64", name="B"))
    for part in (tau2, between):
        frame = part.reset_index() if len(part) else pd.DataFrame(columns=[*GROUP, part.name])
        res = res.merge(frame.astype({part.name: "float64"}), on=GROUP, how="left")
    res = res.sort_values("_p").reset_index(drop=True)
    # no region with history of its own: the country series' own excess variance, counted twice
    # (once for the year's variation, once for the unknown distance of the unit from the country)
    fallback = res["c_excess"].clip(lower=0).fillna(0)
    t2 = res["tau2"].fillna(fallback).to_numpy(dtype="float64")
    b = res["B"].fillna(fallback).to_numpy(dtype="float64")
    use_unit, use_country = use_unit.to_numpy(), use_country.to_numpy()
    u_n, u_lbar, u_vbar = (res[c].to_numpy(dtype="float64") for c in ("u_n", "u_lbar", "u_vbar"))
    c_n, c_lbar, c_vbar = (res[c].to_numpy(dtype="float64") for c in ("c_n", "c_lbar", "c_vbar"))
    with np.errstate(invalid="ignore", divide="ignore"):
        # the unit's own mean share pulled towards the country's by how little its years say
        # (empirical Bayes: weight B / (B + its mean's sampling variance))
        own_var = (t2 + u_vbar) / u_n
        w = np.where(np.isfinite(c_lbar), b / (b + own_var), 1.0)
        w = np.nan_to_num(w, nan=1.0)
        lbar = np.where(use_unit, np.where(np.isfinite(c_lbar), c_lbar + w * (u_lbar - c_lbar), u_lbar), c_lbar)
        est_var = np.where(use_unit, w * own_var + (1 - w) ** 2 * (t2 + c_vbar) / np.where(c_n > 0, c_n, 1),
                           (t2 + c_vbar) / c_n + b)
    known = res["known"].to_numpy(dtype="float64").clip(min=0)
    rest = ((known + 0.5) * np.exp(-lbar) - 0.5).clip(min=0)
    var = t2 + 1 / (known + 0.5) + 1 / (rest + 0.5) + est_var
    n = np.where(use_unit, u_n, c_n)
    sd = np.sqrt(var)
    z = norm.ppf(0.5 + interval / 2)
    ok = use_unit | use_country
    low = (np.exp(np.log(rest + 0.5) - z * sd) - 0.5).clip(min=0)
    high = np.exp(np.log(rest + 0.5) + z * sd) - 0.5
    return out.assign(
        value=np.where(ok, known + rest, np.nan), lo=np.where(ok, known + low, np.nan),
        hi=np.where(ok, known + high, np.nan), sd=np.where(ok, sd, np.nan),
        rest=np.where(ok, rest, np.nan),
        source=np.where(use_unit, "unit", np.where(use_country, "country", None)),
        history=np.where(ok, np.nan_to_num(n), 0).astype("int64")).drop(columns=["_p", "_mask"])
