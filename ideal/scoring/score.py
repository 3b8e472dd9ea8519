"""The skeleton methodology as pure functions: frame in, frame out, inputs never mutated.

observations (country, region, period, crime_type, indicator, value, obs_status)
  -> annual values per region x crime type (one indicator chosen per crime type)
  -> rate per 100,000 inhabitants (population reference data)
  -> min-max to 0-10 across regions, per crime type
  -> threat level bands
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNIT = ["country", "region", "crime_type"]


def annual_values(obs: pd.DataFrame, year: str, sub_annual: str = "sum") -> pd.DataFrame:
    """One value per region x crime type x indicator for ``year``: the annual row, or (when a
    region has none and the profile says so) the sum of its monthly or quarterly rows."""
    obs = obs[obs["value"].notna()]
    annual = obs[obs["period"] == year]
    out = annual.assign(n_parts=1)
    if sub_annual == "sum":
        parts = obs[obs["period"].str.startswith(f"{year}-")]
        summed = (parts.groupby([*UNIT, "indicator"], as_index=False)
                  .agg(value=("value", "sum"), n_parts=("period", "nunique")))
        summed = summed.merge(annual[[*UNIT, "indicator"]], how="left", indicator=True)
        summed = summed[summed["_merge"] == "left_only"].drop(columns="_merge")
        out = pd.concat([out, summed], ignore_index=True)
    return out.assign(period=year)[[*UNIT, "indicator", "period", "value", "n_parts"]]


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


def minmax(values: pd.Series, low: float = 0.0, high: float = 10.0) -> pd.Series:
    """Min-max rescale to [low, high]; a group with no spread scores ``low`` (no region stands
    out from the others)."""
    vmin, vmax = values.min(), values.max()
    if not np.isfinite(vmin) or vmax == vmin:
        return pd.Series(low, index=values.index, dtype="float64")
    return low + (values - vmin) / (vmax - vmin) * (high - low)


def normalise(rated: pd.DataFrame, scale: tuple[float, float] = (0, 10)) -> pd.DataFrame:
    """Score 0-10 by min-max of the rate across all regions in scope, per crime type and period."""
    scored = rated[rated["rate"].notna()]
    score = scored.groupby(["crime_type", "period"])["rate"].transform(
        lambda s: minmax(s, *scale))
    return scored.assign(score=score.round(4)).reset_index(drop=True)


def band(scores: pd.Series, bands: list[dict]) -> pd.Series:
    """Threat level for each score from the profile's bands (upper bounds inclusive)."""
    edges = [-np.inf] + [b["max"] for b in bands]
    labels = [b["level"] for b in bands]
    return pd.cut(scores, bins=edges, labels=labels, right=True).astype(str)


def score(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
          year: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole skeleton methodology. Returns (scores, unscored) where ``unscored`` lists the
    region x crime type units left out and why (no population figure)."""
    values = annual_values(observations, year, profile["sub_annual"])
    values = choose_indicator(values, profile["indicator_preference"])
    values = national_totals(values, profile["national_totals"])
    rated = add_rates(values, population, profile["rate_per"])
    unscored = rated[rated["rate"].isna()].assign(reason="no population figure")
    scored = normalise(rated, tuple(profile["normalisation"]["scale"]))
    scored = scored.assign(level=band(scored["score"], profile["bands"]))
    return scored, unscored[[*UNIT, "period", "indicator", "reason"]].reset_index(drop=True)


def country_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Roll-up per country x crime type: population-weighted mean of its regions' scores."""
    w = scores.assign(_w=scores["score"] * scores["population"])
    agg = w.groupby(["country", "crime_type"], as_index=False).agg(
        _w=("_w", "sum"), population=("population", "sum"), regions=("region", "nunique"),
        max_score=("score", "max"))
    return agg.assign(score=(agg["_w"] / agg["population"]).round(4)).drop(columns="_w")


def top_threats(scores: pd.DataFrame, harm: pd.Series, n: int) -> pd.DataFrame:
    """Highest scores first; ties broken by the crime type's harm weight, then the rate."""
    ranked = scores.assign(harm=scores["crime_type"].map(harm).fillna(0))
    return ranked.sort_values(["score", "harm", "rate"], ascending=False).head(n).reset_index(drop=True)
