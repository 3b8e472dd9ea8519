"""The methodology as pure functions: frame in, frame out, inputs never mutated.

observations (country, region, period, crime_type, indicator, value, obs_status)
  -> annual values per unit (country x region x crime type) and year, one indicator per crime
     type, national totals only where no regions were sent
  -> rates per 100,000 inhabitants (population reference data)
  -> pillars magnitude, trend, harm, spread (ideal.scoring.pillars), normalised to 0-10
  -> composite score (ideal.scoring.aggregate), threat level, reliability
  -> Monte Carlo rank interval and sensitivity (ideal.scoring.uncertainty)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNIT = ["country", "region", "crime_type"]


def period_year(period: pd.Series) -> pd.Series:
    """The year of each ISO period (2025, 2025-Q1, 2025-03 -> 2025.0; NaN if unparseable),
    computed on the distinct periods only."""
    from ideal.frames import per_unique

    return per_unique(period, lambda u: pd.to_numeric(u.astype(str).str.slice(0, 4),
                                                      errors="coerce")).astype("float64")


def yearly_values(obs: pd.DataFrame, years: list[int], sub_annual: str = "sum") -> pd.DataFrame:
    """One value per region x crime type x indicator and year: the annual row, or (when a
    region has none and the profile says so) the sum of its monthly or quarterly rows.
    One pass over the observations for all years (uses a "year" column when present)."""
    from ideal.frames import per_unique

    obs = obs[obs["value"].notna()]
    if "year" not in obs:
        obs = obs.assign(year=period_year(obs["period"]))
    is_annual = per_unique(obs["period"], lambda u: u.astype(str).str.len() == 4).astype(bool)
    obs = obs.assign(year=obs["year"].astype("float64"), _annual=is_annual)
    obs = obs[obs["year"].isin(years)]
    keys = [*UNIT, "indicator", "year"]
    annual = (obs[obs["_annual"]].groupby(keys, as_index=False)
              .agg(value=("value", "sum")).assign(n_parts=1))
    out = annual
    if sub_annual == "sum":
        summed = (obs[~obs["_annual"]].groupby(keys, as_index=False)
                  .agg(value=("value", "sum"), n_parts=("period", "nunique")))
        summed = summed.merge(annual[keys], how="left", indicator=True)
        summed = summed[summed["_merge"] == "left_only"].drop(columns="_merge")
        out = pd.concat([annual, summed], ignore_index=True)
    out = out.assign(year=out["year"].astype("int64"))
    return out.assign(period=out["year"].astype(str))[[*UNIT, "indicator", "period", "value", "n_parts"]]


def annual_values(obs: pd.DataFrame, year: str, sub_annual: str = "sum") -> pd.DataFrame:
    """The values of one year (see yearly_values)."""
    return yearly_values(obs, [int(year)], sub_annual)


def choose_indicator(values: pd.DataFrame, preference: list[str]) -> pd.DataFrame:
    """Per crime type, keep the first indicator of ``preference`` that the data has, so all
    regions of a crime type are compared on the same indicator."""
    rank = {ind: i for i, ind in enumerate(preference)}
    ranked = values[values["indicator"].isin(rank)]
    best = (ranked.assign(_r=ranked["indicator"].map(rank)).groupby("crime_type")["_r"].min()
            .map(dict(enumerate(preference))).rename("chosen"))
    out = ranked.merge(best, left_on="crime_type", right_index=True)
    return out[out["indicator"] == out["chosen"]].drop(columns="chosen").reset_index(drop=True)


def national_totals(values: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Apply the profile's rule on national-total rows (region == country)."""
    is_total = values["region"] == values["country"]
    if rule == "always":
        return values
    if rule == "never":
        return values[~is_total].reset_index(drop=True)
    has_regions = values[~is_total].groupby(["country", "crime_type"]).size().rename("n_reg")
    flagged = values.merge(has_regions, left_on=["country", "crime_type"], right_index=True,
                           how="left")
    keep = ~is_total | flagged["n_reg"].isna()
    return values[keep.to_numpy()].reset_index(drop=True)


def add_rates(values: pd.DataFrame, population: pd.DataFrame, per: float = 100_000) -> pd.DataFrame:
    """Join population for the region and year and compute the rate. National totals use the
    sum of the country's regions. Rows without population get NaN rate."""
    pop = population[["country", "region", "year", "population", "synthetic"]]
    national = (pop.groupby(["country", "year"], as_index=False)
                .agg(population=("population", "sum"), synthetic=("synthetic", "max"))
                .assign(region=lambda d: d["country"]))
    pop = pd.concat([pop, national], ignore_index=True)
    out = values.assign(year=values["period"].str.slice(0, 4).astype("int64"))
    out = out.merge(pop, on=["country", "region", "year"], how="left")
    return out.assign(rate=out["value"] / out["population"] * per,
                      synthetic=out["synthetic"].fillna(0).astype(bool)).drop(columns="year")


def yearly_rates(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
                 years: list[int]) -> pd.DataFrame:
    """Rate per unit, indicator and year, with the share of estimated/provisional values and
    of rows carrying validation warnings behind each figure."""
    observations = observations.assign(year=period_year(observations["period"]))
    values = yearly_values(observations, years, profile["sub_annual"])
    values = choose_indicator(values, profile["indicator_preference"])
    values = national_totals(values, profile["national_totals"])
    rated = add_rates(values, population, profile["rate_per"])
    obs = observations.assign(est=observations["obs_status"].isin(["E", "P"]),
                              warned=observations.get("warned", False))
    obs = obs[obs["year"].isin(years)].astype({"year": "int64"})
    quality = obs.groupby([*UNIT, "indicator", "year"], as_index=False).agg(
        estimated=("est", "mean"), warned=("warned", "mean"))
    rated = rated.assign(year=rated["period"].astype(int)).merge(
        quality, on=[*UNIT, "indicator", "year"], how="left")
    return rated.fillna({"estimated": 0.0, "warned": 0.0})


def score(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
          year: str, harm: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The default methodology end to end for ``year``. Returns (scores, unscored, info):
    one row per unit with the four pillars, coverage, composite score, level, reliability,
    rank and Monte Carlo rank interval; units left out with the reason; run-level facts
    (outlier treatment per crime type, sensitivity of the ranks per assumption)."""
    from ideal.scoring import aggregate as agg
    from ideal.scoring import pillars as pl
    from ideal.scoring import uncertainty as mc

    y = int(year)
    carry = profile["missing"]["carry_forward_years"]
    window = profile["pillars"]["trend"]["window_years"]
    rates = yearly_rates(observations, population, profile, list(range(y - carry - window, y + 1)))
    no_pop = rates[rates["rate"].isna() & (rates["year"] == y)].assign(reason="no population figure")
    units = pl.latest_values(rates, y, carry)
    seen = rates[[*UNIT]].drop_duplicates().merge(units[UNIT], how="left", indicator=True)
    stale = seen[seen["_merge"] == "left_only"].drop(columns="_merge").assign(
        reason=f"no value in {y - carry}-{y}")
    unscored = pd.concat([no_pop[[*UNIT, "reason"]], stale], ignore_index=True).drop_duplicates(UNIT)
    if units.empty:
        return units, unscored, {}
    trend = pl.trend_raw(rates, units, window)
    if harm is None:
        from ideal import reference
        harm = reference.iccs().set_index("code")["harm_weight"]
    harm_col = units["crime_type"].map(harm).astype("float64")
    weights = np.array([profile["pillars"][p]["weight"] for p in pl.PILLARS], dtype="float64")
    threshold = profile["missing"]["coverage_threshold"]
    matrices, eligible, treated = {}, {}, {}
    options = profile["uncertainty"]
    for method in dict.fromkeys([profile["normalisation"]["method"], *options["normalisation"]]):
        for imput in options["imputation"]:
            frame, how = pl.pillar_frame(units, trend, harm_col, profile, method,
                                         impute=imput == "carry_forward")
            m = frame[pl.PILLARS].to_numpy(dtype="float64")
            matrices[(method, imput)] = m
            eligible[(method, imput)] = (np.isfinite(m[:, 0]) & (agg.coverage(m) >= threshold))
            if method == profile["normalisation"]["method"] and imput == "carry_forward":
                base, treated = frame, how
    key = (profile["normalisation"]["method"], "carry_forward")
    comp = agg.aggregate(matrices[key], weights, profile["aggregation"]["method"])[:, 0]
    comp = np.where(eligible[key], comp, np.nan)
    cover = agg.coverage(matrices[key])
    base_rank = agg.ranks(comp[:, None])[:, 0]
    plan = mc.draws(profile, weights)
    median, p5, p95 = mc.rank_intervals(mc.composite_draws(matrices, eligible, plan, profile))
    r = profile["reliability"]
    age_factor = 1 - units["age"] / (carry + 1)
    reliability = 10 * (r["coverage"] * cover + r["age"] * age_factor +
                        r["estimated"] * (1 - units["estimated"]) + r["warnings"] * (1 - units["warned"]))
    scores = units.assign(
        period=year, imputed=units["age"] > 0, trend_raw=trend.to_numpy(),
        magnitude=base["magnitude"].round(4), trend=base["trend"].round(4),
        harm=base["harm"], spread=base["spread"].round(4), coverage=cover.round(4),
        score=np.round(comp, 4), reliability=reliability.round(2), rank=base_rank,
        rank_median=median, rank_p5=p5, rank_p95=p95,
        status=np.where(np.isfinite(comp), "scored", "insufficient_data"))
    scores = scores.assign(level=agg.band(scores["score"], profile["bands"]))
    info = {"outliers": treated,
            "sensitivity": mc.sensitivity(matrices, eligible, profile, weights, base_rank)}
    return scores.reset_index(drop=True), unscored.reset_index(drop=True), info


def country_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Roll-up per country x crime type: population-weighted mean of its regions' scores."""
    scores = scores[scores["score"].notna()]
    w = scores.assign(_w=scores["score"] * scores["population"])
    agg = w.groupby(["country", "crime_type"], as_index=False).agg(
        _w=("_w", "sum"), population=("population", "sum"), regions=("region", "nunique"),
        max_score=("score", "max"))
    return agg.assign(score=(agg["_w"] / agg["population"]).round(4)).drop(columns="_w")


def region_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Roll-up per crime type over the whole region (all countries in scope): population-
    weighted mean of the units' scores."""
    scores = scores[scores["score"].notna()]
    w = scores.assign(_w=scores["score"] * scores["population"])
    agg = w.groupby("crime_type", as_index=False).agg(_w=("_w", "sum"), population=("population", "sum"),
                                                      countries=("country", "nunique"))
    return agg.assign(score=(agg["_w"] / agg["population"]).round(4)).drop(columns="_w")


def top_threats(scores: pd.DataFrame, harm: pd.Series, n: int) -> pd.DataFrame:
    """Highest scores first; ties broken by the crime type's harm weight, then the rate."""
    ranked = scores[scores["score"].notna()].assign(
        harm_weight=scores["crime_type"].map(harm).fillna(0))
    return ranked.sort_values(["score", "harm_weight", "rate"], ascending=False).head(n).reset_index(drop=True)
