"""The four pillars of a threat, per unit (country x region x crime type) [SOCTA, GOCI]:

magnitude  the rate per 100,000 inhabitants in the assessed year (or the latest year within the
           carry-forward window, flagged), outlier-treated and normalised per crime type;
trend      the change of that rate per year over the window (compound annual change);
harm       the crime type's harm weight (ICCS reference, 1-10);
spread     the share of the country's regions where the magnitude of the crime type is at or
           above a threshold, x 10 (national-only units have no spread).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ideal.scoring import normalise as nz

UNIT = ["country", "region", "crime_type"]
PILLARS = ["magnitude", "trend", "harm", "spread"]


def latest_values(rates: pd.DataFrame, year: int, carry: int) -> pd.DataFrame:
    """Per unit, the rate of ``year`` or of the latest earlier year within ``carry`` years:
    columns UNIT + indicator, rate, population, synthetic, data_year, age."""
    window = rates[(rates["year"] <= year) & (rates["year"] >= year - carry) & rates["rate"].notna()]
    latest = window.sort_values("year").groupby(UNIT, as_index=False).last()
    return latest.assign(data_year=latest["year"], age=year - latest["year"]).drop(columns="year")


def trend_raw(rates: pd.DataFrame, units: pd.DataFrame, window: int) -> pd.Series:
    """Compound annual change of the rate from the earliest year within ``window`` years
    before the unit's data year to its data year; NaN without an earlier year."""
    earlier = units[UNIT + ["data_year", "rate"]].merge(rates[UNIT + ["year", "rate"]], on=UNIT,
                                                        suffixes=("", "_0"))
    earlier = earlier[(earlier["year"] < earlier["data_year"]) &
                      (earlier["year"] >= earlier["data_year"] - window) & earlier["rate_0"].notna()]
    first = earlier.sort_values("year").groupby(UNIT, as_index=False).first()
    dt = first["data_year"] - first["year"]
    r0, r1 = first["rate_0"], first["rate"]
    change = np.where(r0 > 0, (r1.clip(lower=0) / r0.where(r0 > 0)) ** (1 / dt) - 1,
                      np.where(r1 > 0, np.inf, 0.0))
    first = first.assign(trend_raw=change)
    return units[UNIT].merge(first[UNIT + ["trend_raw"]], on=UNIT, how="left")["trend_raw"]


def normalise_by_crime(values: pd.Series, crime: pd.Series, method: str, goalposts: dict,
                       outliers: dict | None = None) -> tuple[pd.Series, dict]:
    """Normalise per crime type with ``method``; returns (0-10 scores, treatment per crime)."""
    out = pd.Series(np.nan, index=values.index)
    treated = {}
    rule = (outliers or {}).get("method", "auto")
    for code, idx in values.groupby(crime).groups.items():
        v = values.loc[idx]
        how = "none"
        if outliers and rule == "log":
            v, how = np.log1p(v.clip(lower=0)), "log"
        # fixed goalposts cap outliers by themselves and keep a unit's score independent of
        # the other units; the data-driven methods need the COINr treatment
        elif outliers and rule == "auto" and method != "minmax":
            v, how = nz.treat_outliers(v, outliers["skewness"], outliers["kurtosis"],
                                       outliers["max_winsorised"])
        treated[code] = how
        if method == "minmax":
            out.loc[idx] = nz.minmax_goalposts(v, 0.0, goalposts[code], log=how == "log")
        elif method == "zscore":
            out.loc[idx] = nz.zscore(v)
        elif method == "rank":
            out.loc[idx] = nz.percentile_rank(v)
        else:
            raise ValueError(f"unknown normalisation {method!r}")
    return out, treated


def magnitude_goalposts(units: pd.DataFrame, profile: dict) -> dict:
    norm = profile["normalisation"]
    return {c: (norm["seizures_goalpost"] if ind == "seizures_kg" else norm["goalposts"].get(c, 100))
            for c, ind in units.groupby("crime_type")["indicator"].first().items()}


def pillar_frame(units: pd.DataFrame, trend: pd.Series, harm: pd.Series, profile: dict,
                 method: str, impute: bool) -> tuple[pd.DataFrame, dict]:
    """The four pillars (0-10, NaN = missing) for one normalisation method and imputation
    choice. Without imputation, units whose latest value is older than the year have no
    magnitude (and so no score)."""
    rate = units["rate"].where(impute | (units["age"] == 0))
    magnitude, treated = normalise_by_crime(rate, units["crime_type"], method,
                                            magnitude_goalposts(units, profile), profile["outliers"])
    # direction per indicator: "negative" means more of it is less threat
    directions = profile["normalisation"].get("direction", {})
    negative = units["indicator"].map(directions).eq("negative")
    magnitude = magnitude.where(~negative, 10 - magnitude)
    tg = profile["normalisation"]["trend_goalposts"]
    t = trend.where(rate.notna()).clip(lower=tg[0] * 2, upper=tg[1] * 2)
    if method == "minmax":
        trend_score = ((t - tg[0]) / (tg[1] - tg[0])).clip(0, 1) * 10
    else:
        trend_score, _ = normalise_by_crime(t, units["crime_type"], method, {}, None)
    threshold = profile["pillars"]["spread"]["region_threshold"]
    regional = units["region"] != units["country"]
    above = (magnitude >= threshold).where(magnitude.notna() & regional)
    share = above.groupby([units["country"], units["crime_type"]]).transform("mean") * 10
    return pd.DataFrame({"magnitude": magnitude, "trend": trend_score,
                         "harm": harm.where(rate.notna()), "spread": share}), treated
