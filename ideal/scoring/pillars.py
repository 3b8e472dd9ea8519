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


def trend_slope(rates: pd.DataFrame, units: pd.DataFrame, window: int,
                shrink: bool = True) -> tuple[pd.Series, pd.Series]:
    """(yearly change, its standard error on the log scale) per unit: the slope of a Poisson
    log-linear model, count_t ~ Poisson(population_t x exp(a + b t)), over every year of the
    window up to the unit's data year, fitted by Newton steps on all units at once, with half
    an event added to each count (so 0 -> n is a finite change, and a few events weigh
    little). With ``shrink``, empirical-Bayes shrinkage of each slope towards its country's
    precision-weighted mean slope for the crime type, by the share of the slopes' spread that
    is not noise (between-region variance by DerSimonian-Laird, per country and crime type): a
    slope the data do not support moves to the country's trend."""
    cols = UNIT + ["data_year"]
    pts = units[cols].reset_index(drop=True).reset_index(names="_u").merge(
        rates[UNIT + ["year", "value", "population"]], on=UNIT)
    pts = pts[(pts["year"] <= pts["data_year"]) & (pts["year"] >= pts["data_year"] - window)
              & pts["population"].gt(0) & pts["value"].notna()]
    n_units = len(units)
    u = pts["_u"].to_numpy()
    t = (pts["year"] - pts["data_year"]).to_numpy(dtype="float64")
    y = pts["value"].clip(lower=0).to_numpy(dtype="float64") + 0.5
    off = np.log(pts["population"].to_numpy(dtype="float64"))
    years = np.bincount(u, minlength=n_units)
    fit = years >= 2
    s = lambda v: np.bincount(u, weights=v, minlength=n_units)  # noqa: E731 - per-unit sums
    a = np.log(s(y) / s(np.exp(off)))  # start: the flat rate
    b = np.zeros(n_units)
    for _ in range(25):
        mu = np.exp(off + a[u] + b[u] * t)
        g0, g1 = s(y - mu), s(t * (y - mu))
        h00, h01, h11 = s(mu), s(t * mu), s(t * t * mu)
        det = h00 * h11 - h01 * h01
        ok = fit & (det > 0)
        da = np.where(ok, (h11 * g0 - h01 * g1) / np.where(ok, det, 1), 0.0)
        db = np.where(ok, (h00 * g1 - h01 * g0) / np.where(ok, det, 1), 0.0)
        a, b = a + da, b + np.clip(db, -2, 2)
        if np.nanmax(np.abs(db), initial=0) < 1e-10:
            break
    mu = np.exp(off + a[u] + b[u] * t)
    h00, h01, h11 = s(mu), s(t * mu), s(t * t * mu)
    det = h00 * h11 - h01 * h01
    se2 = np.where(fit & (det > 0), h00 / np.where(det > 0, det, 1), np.nan)
    b = np.where(np.isfinite(se2), b, np.nan)
    est = pd.DataFrame({"country": units["country"].to_numpy(), "crime_type": units["crime_type"].to_numpy(),
                        "b": b, "se2": se2})
    if shrink:
        have = est["b"].notna()
        e = est[have]
        w = 1 / e["se2"]
        keys = [e["country"], e["crime_type"]]
        sw = w.groupby(keys).transform("sum")
        m = (e["b"] * w).groupby(keys).transform("sum") / sw
        # DerSimonian-Laird: tau2 = (Q - (k - 1)) / (sum w - sum w^2 / sum w), Q = sum w (b - m)^2
        q = (w * (e["b"] - m) ** 2).groupby(keys).transform("sum")
        k = w.groupby(keys).transform("size")
        c = sw - (w * w).groupby(keys).transform("sum") / sw
        tau2 = ((q - (k - 1)) / c.where(c > 0)).clip(lower=0).fillna(0)
        est.loc[have, "b"] = m + (e["b"] - m) * (tau2 / (tau2 + e["se2"])).fillna(0)
    return (pd.Series(np.expm1(est["b"].to_numpy()), index=units.index),
            pd.Series(np.sqrt(est["se2"].to_numpy()), index=units.index))


def smoothed_rates(units: pd.DataFrame, per: float) -> pd.Series:
    """Empirical-Bayes rates (Marshall 1991, global Poisson-Gamma moments) per country, crime
    type and indicator: each region's rate pulled towards its country's rate for the crime type
    by how little its own count says (a small population's single event moves little). Per
    country, so another country's data never change a country's scores. Counts only; other
    units keep their rate."""
    out = units["rate"].copy()
    counts = units["indicator"].isin(["incidents", "victims", "persons_arrested"])
    ok = counts & units["population"].gt(0) & units["value"].notna()
    u = units[ok]
    y = u["value"].clip(lower=0).astype("float64")
    n = u["population"].astype("float64")
    keys = [u["country"], u["crime_type"], u["indicator"]]
    m = y.groupby(keys).transform("sum") / n.groupby(keys).transform("sum")
    r = y / n
    s2 = (n * (r - m) ** 2).groupby(keys).transform("sum") / n.groupby(keys).transform("sum")
    a = (s2 - m / n.groupby(keys).transform("mean")).clip(lower=0)
    shrink = (a / (a + m / n)).where(a > 0, 0.0)
    out.loc[u.index] = (m + (r - m) * shrink) * per
    return out


def normalise_by_crime(values: pd.Series, crime: pd.Series, method: str, goalposts: dict,
                       outliers: dict | None = None) -> tuple[pd.Series, dict]:
    """Normalise per crime type with ``method``; returns (0-10 scores, treatment per crime)."""
    out = pd.Series(np.nan, index=values.index)
    treated = {}
    rule = (outliers or {}).get("method", "auto")
    if method == "minmax" and not (outliers and rule == "log"):
        # fixed goalposts, no outlier treatment: every crime type at once
        codes = pd.unique(crime.dropna())
        spec = pd.DataFrame([goalposts[c] for c in codes], index=codes, columns=["low", "high", "scale"])
        g = spec.reindex(crime.to_numpy())
        v = values.to_numpy(dtype="float64")
        low, high = g["low"].to_numpy(dtype="float64"), g["high"].to_numpy(dtype="float64")
        log = (g["scale"] == "log").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            lin = (v - low) / (high - low)
            lg = (np.log(np.maximum(v, low)) - np.log(low)) / (np.log(high) - np.log(low))
        scaled = np.clip(np.where(log, lg, lin), 0, 1) * 10
        return (pd.Series(np.where(np.isfinite(v), scaled, np.nan), index=values.index),
                dict.fromkeys(sorted(codes), "none"))
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
            low, high, scale = goalposts[code]
            out.loc[idx] = (nz.minmax_log(v, low, high) if scale == "log" and how != "log"
                            else nz.minmax_goalposts(v, low if scale != "log" else 0.0, high,
                                                     log=how == "log"))
        elif method == "zscore":
            out.loc[idx] = nz.zscore(v)
        elif method == "rank":
            out.loc[idx] = nz.percentile_rank(v)
        else:
            raise ValueError(f"unknown normalisation {method!r}")
    return out, treated


def goalpost(spec, scale: str, factor: float = 1.0) -> tuple[float, float, str]:
    """(low, high, scale) from a profile goalpost: a number is the upper goalpost of a linear
    scale from 0 (v2); a pair [low, high] is read on the profile's ``goalposts_scale``.
    ``factor`` moves both goalposts (the uncertainty analysis varies them)."""
    if isinstance(spec, (int, float)):
        return 0.0, float(spec) * factor, "linear"
    low, high = spec
    return float(low) * factor, float(high) * factor, scale


def magnitude_goalposts(units: pd.DataFrame, profile: dict, factor: float = 1.0) -> dict:
    """Per crime type in ``units``, its (low, high, scale) goalposts of the magnitude."""
    norm = profile["normalisation"]
    scale = norm.get("goalposts_scale", "linear")
    return {c: goalpost(norm["seizures_goalpost"] if ind == "seizures_kg" else norm["goalposts"].get(c, 100),
                        scale, factor)
            for c, ind in units.groupby("crime_type")["indicator"].first().items()}


def group_codes(units: pd.DataFrame) -> np.ndarray:
    """An integer per country x crime type (the groups the spread is computed over)."""
    return units.groupby(["country", "crime_type"], sort=False).ngroup().to_numpy()


def pillar_frame(units: pd.DataFrame, trend: pd.Series, harm: pd.Series, profile: dict,
                 method: str, impute: bool, goalpost_factor: float = 1.0,
                 spread_threshold: float | None = None) -> tuple[pd.DataFrame, dict]:
    """The four pillars (0-10, NaN = missing) for one normalisation method and imputation
    choice. Without imputation, units whose latest value is older than the year have no
    magnitude (and so no score)."""
    model = units["rate_model"] if "rate_model" in units else units["rate"]
    rate = model.where(impute | (units["age"] == 0))
    magnitude, treated = normalise_by_crime(rate, units["crime_type"], method,
                                            magnitude_goalposts(units, profile, goalpost_factor),
                                            profile["outliers"])
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
    trend_score = trend_score.where(~negative, 10 - trend_score)  # direction applies to trend too
    threshold = profile["pillars"]["spread"]["region_threshold"] if spread_threshold is None else spread_threshold
    regional = units["region"] != units["country"]
    # share of the country's regions at or above the threshold (one bincount per group code)
    group = units["_group"].to_numpy() if "_group" in units else group_codes(units)
    valid = (magnitude.notna() & regional).to_numpy()
    above = (magnitude >= threshold).to_numpy() & valid
    n_valid = np.bincount(group, weights=valid, minlength=group.max() + 1 if len(group) else 0)
    n_above = np.bincount(group, weights=above, minlength=len(n_valid))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = pd.Series((n_above / np.where(n_valid > 0, n_valid, np.nan))[group] * 10, index=units.index)
    if profile["pillars"]["spread"]["weight"] == 0:  # v4: not a pillar (a country constant)
        share = pd.Series(np.nan, index=units.index)
    return pd.DataFrame({"magnitude": magnitude, "trend": trend_score,
                         "harm": harm.where(rate.notna()), "spread": share}), treated
