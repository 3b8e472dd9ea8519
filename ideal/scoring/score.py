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

from ideal.scoring import aggregate as agg
from ideal.scoring import coherence, model, where
from ideal.scoring import nowcast as nc
from ideal.scoring import pillars as pl
from ideal.scoring import uncertainty as mc
from ideal.scoring.window import LOOKS_PARTIAL

UNIT = ["country", "region", "crime_type"]
DATA = [0, 1, 3]  # the data pillars (magnitude, trend, spread); harm is the crime type's constant
# how a population figure was obtained, weakest first (a national total is as good as its weakest region)
METHOD_ORDER = ["synthetic", "modelled", "extrapolated", "interpolated", "submitted", "official"]


def period_year(period: pd.Series) -> pd.Series:
    """The year of each ISO period (2025, 2025-Q1, 2025-03 -> 2025.0; NaN if unparseable),
    computed on the distinct periods only."""
    from ideal.frames import per_unique

    return per_unique(period, lambda u: pd.to_numeric(u.astype(str).str.slice(0, 4),
                                                      errors="coerce")).astype("float64")


def _months(obs: pd.DataFrame) -> pd.Series:
    """Months of its year each row covers: a month 1, a quarter 3, a year 12 unless its
    stored coverage says fewer ('3/12: 01-03' -> 3; a quarter counted from dates 'k/3')."""
    from ideal.frames import per_unique

    kind = per_unique(obs["period"], lambda u: u.astype(str).str.len().map({4: 12, 7: 1}).where(
        ~u.astype(str).str.contains("Q"), 3)).astype("float64")
    if "coverage" not in obs:
        return kind
    cov = obs["coverage"].fillna("").astype(str)
    # a year that looks partial (validation; the file gives no months): no month is known
    stated = per_unique(cov, lambda u: pd.to_numeric(u.str.extract(r"^(\d+)/(\d+)")[0], errors="coerce")
                        .mask(u.eq(LOOKS_PARTIAL), 0))
    scale = per_unique(cov, lambda u: pd.to_numeric(u.str.extract(r"^(\d+)/(\d+)")[1], errors="coerce")
                       .mask(u.eq(LOOKS_PARTIAL), 12))
    annual_short = (kind == 12) & stated.notna()
    quarter_short = (kind == 3) & stated.notna() & (scale == 3)
    return kind.mask(annual_short, stated * 12 / scale).mask(quarter_short, stated)


def yearly_values(obs: pd.DataFrame, years: list[int], sub_annual: str = "sum",
                  annualise_from: int | None = None, partial_year: dict | None = None) -> pd.DataFrame:
    """One value per region x crime type x indicator and year: the annual row, or (when a
    region has none and the profile says so) the sum of its monthly or quarterly rows.
    ``covered``: the months of the year behind the value. With ``annualise_from`` (the
    profile's partial_year rule) a year covering at least that many months, but not 12, is
    annualised (value x 12 / months, ``partial`` says so) and a shorter one is left out, its
    row marked ``short`` (it gives no rate: the unit may carry an earlier year forward).
    With ``partial_year`` (the profile's section) and its method ``nowcast``, a partial year
    of at least ``nowcast_from_months`` months is first estimated from the months known and
    the seasonal profile of earlier complete years (ideal.scoring.nowcast: ``partial`` says
    "nowcast 6/12: lo-hi", ``lo``/``hi`` its predictive range, ``known`` the count of the
    months known, ``nowcast_sd`` its spread); a unit without monthly history is annualised.
    One pass over the observations for all years (uses a "year" column when present)."""
    from ideal.frames import per_unique

    obs = obs[obs["value"].notna()]
    if "year" not in obs:
        obs = obs.assign(year=period_year(obs["period"]))
    is_annual = per_unique(obs["period"], lambda u: u.astype(str).str.len() == 4).astype(bool)
    obs = obs.assign(year=obs["year"].astype("float64"), _annual=is_annual, _months=_months(obs))
    obs = obs[obs["year"].isin(years)]
    keys = [*UNIT, "indicator", "year"]
    annual = (obs[obs["_annual"]].groupby(keys, as_index=False)
              .agg(value=("value", "sum"), covered=("_months", "min")).assign(n_parts=1))
    out = annual
    if sub_annual == "sum":
        parts = obs[~obs["_annual"]].drop_duplicates([*keys, "period"])
        summed = (parts.groupby(keys, as_index=False)
                  .agg(value=("value", "sum"), n_parts=("period", "nunique"), covered=("_months", "sum")))
        summed = summed.merge(annual[keys], how="left", indicator=True)
        summed = summed[summed["_merge"] == "left_only"].drop(columns="_merge")
        out = pd.concat([annual, summed], ignore_index=True)
    out = out.assign(year=out["year"].astype("int64"), covered=out["covered"].clip(upper=12))
    partial = pd.Series("", index=out.index, dtype="object")
    short = pd.Series(False, index=out.index)
    spec = dict(partial_year or {})
    if annualise_from is None:
        annualise_from = spec.get("annualise_from_months")
    out = out.assign(known=np.nan, lo=np.nan, hi=np.nan, nowcast_sd=np.nan)
    if annualise_from is not None or spec.get("method") == "nowcast":
        under = out["covered"] < 12
        months = out["covered"].astype(int).astype(str) + "/12"
        now = pd.Series(False, index=out.index)
        if spec.get("method") == "nowcast" and under.any():
            est = _nowcast_partial(obs, out[under], spec)
            est.index = out.index[under]
            enough = est["value"].notna() & (out.loc[under, "covered"] >= spec.get("nowcast_from_months", 6))
            now = enough.reindex(out.index, fill_value=False)
            est = est[enough]
            span = est["lo"].round().astype("int64").astype(str) + "-" + est["hi"].round().astype("int64").astype(str)
            partial = partial.mask(now, ("nowcast " + months[now] + ": " + span).reindex(out.index))
            out.loc[now, "known"] = out.loc[now, "value"]
            out.loc[now, "value"] = est["value"]
            out.loc[now, "lo"] = est["lo"]
            out.loc[now, "hi"] = est["hi"]
            out.loc[now, "nowcast_sd"] = est["sd"]
        scaled = under & ~now & (out["covered"] >= (annualise_from if annualise_from is not None else 13))
        partial = partial.mask(scaled, "annualised " + months).mask(under & ~scaled & ~now, "partial " + months)
        out = out.assign(value=out["value"].where(~scaled, out["value"] * 12 / out["covered"]))
        short = under & ~scaled & ~now
    out = out.assign(period=out["year"].astype(str), partial=partial, short=short)
    return out[[*UNIT, "indicator", "period", "value", "n_parts", "covered", "partial",
                "short", "known", "lo", "hi", "nowcast_sd"]].reset_index(drop=True)


def _nowcast_partial(obs: pd.DataFrame, under: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """ideal.scoring.nowcast of the partial years ``under`` (rows of yearly_values), from the
    monthly and quarterly rows of their country, crime type and indicator: the months known
    come from the sub-annual rows of the year, or from an annual row's stored coverage
    ('3/12: 01-03'); value NaN where the months are not known or there is no history."""
    groups = under[["country", "crime_type", "indicator"]].drop_duplicates()
    mine = obs.merge(groups, on=["country", "crime_type", "indicator"])
    monthly = nc.months_of(mine)
    keys = [*UNIT, "indicator", "year"]
    sub_mask = pd.Series(dtype="int64", name="_sub")
    if not monthly.empty:
        bits = monthly.assign(_bit=np.left_shift(np.int64(1), monthly["month"].to_numpy(dtype="int64") - 1))
        sub_mask = bits.drop_duplicates([*keys, "month"]).groupby(keys)["_bit"].sum().rename("_sub")
    cov = mine["coverage"].fillna("").astype(str) if "coverage" in mine else pd.Series("", index=mine.index)
    annual = mine[mine["_annual"] & cov.ne("")]
    cov_mask = (annual.assign(_cov=cov[annual.index].map(nc.mask_from_coverage))
                .dropna(subset=["_cov"]).groupby(keys)["_cov"].max().rename("_cov"))
    rows = under[[*UNIT, "indicator", "year", "value"]].reset_index(drop=True)
    for part in (sub_mask, cov_mask):
        frame = part.reset_index() if len(part) else pd.DataFrame(columns=[*keys, part.name])
        rows = rows.merge(frame.astype({part.name: "float64"}), on=keys, how="left")
    mask = rows["_sub"].fillna(rows["_cov"]).fillna(0).astype("int64")
    partial = rows[[*UNIT, "indicator", "year"]].assign(known=rows["value"], mask=mask)
    est = nc.nowcast(monthly, partial, spec.get("history_years", 5), spec.get("min_history_years", 2),
                     spec.get("interval", 0.9))
    return est.assign(value=est["value"].where(mask.to_numpy() > 0))


def annual_values(obs: pd.DataFrame, year: str, sub_annual: str = "sum") -> pd.DataFrame:
    """The values of one year (see yearly_values)."""
    return yearly_values(obs, [int(year)], sub_annual)


def choose_indicator(values: pd.DataFrame, preference: list[str]) -> pd.DataFrame:
    """Per country and crime type, keep the first indicator of ``preference`` that the
    country sends: a country that has only victims for homicide (the UN-CTS convention) is
    scored on victims beside a country scored on incidents, never dropped. All regions of one
    country and crime type are compared on the same indicator."""
    rank = {ind: i for i, ind in enumerate(preference)}
    ranked = values[values["indicator"].isin(rank)]
    best = (ranked.assign(_r=ranked["indicator"].map(rank)).groupby(["country", "crime_type"])["_r"].min()
            .map(dict(enumerate(preference))).rename("chosen"))
    out = ranked.merge(best, left_on=["country", "crime_type"], right_index=True)
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
    if "method" not in population:
        population = population.assign(method=population["synthetic"].map({1: "synthetic"}).fillna("official"))
    pop = population[["country", "region", "year", "population", "synthetic", "method"]]
    weakest = pop.assign(_q=pop["method"].map({m: i for i, m in enumerate(METHOD_ORDER)}).fillna(0))
    national = (weakest.groupby(["country", "year"], as_index=False)
                .agg(population=("population", "sum"), synthetic=("synthetic", "max"), _q=("_q", "min"))
                .assign(region=lambda d: d["country"]))
    national = national.assign(method=national["_q"].astype(int).map(dict(enumerate(METHOD_ORDER)))).drop(columns="_q")
    pop = pd.concat([pop, national], ignore_index=True)
    out = values.assign(year=values["period"].str.slice(0, 4).astype("int64"))
    out = out.merge(pop, on=["country", "region", "year"], how="left")
    return out.assign(rate=out["value"] / out["population"] * per,
                      synthetic=out["synthetic"].fillna(0).astype(bool),
                      population_method=out["method"]).drop(columns=["year", "method"])


def yearly_rates(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
                 years: list[int]) -> pd.DataFrame:
    """Rate per unit, indicator and year, with the share of estimated/provisional values and
    of rows carrying validation warnings behind each figure."""
    observations = observations.assign(year=period_year(observations["period"]))
    values = yearly_values(observations, years, profile["sub_annual"], partial_year=profile.get("partial_year"))
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
    rated = rated.fillna({"estimated": 0.0, "warned": 0.0})
    # a year too short to annualise gives no rate: the unit carries an earlier year forward.
    # In one order whatever the order of the observations (read at once or by crime type)
    rated = rated.assign(rate=rated["rate"].where(~rated["short"]))
    return rated.sort_values([*UNIT, "indicator", "year"], ignore_index=True, kind="stable")


def score(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
          year: str, harm: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The default methodology end to end for ``year``. Returns (scores, unscored, info):
    one row per unit with the four pillars, coverage, composite score, level, reliability,
    rank and Monte Carlo rank interval; units left out with the reason; run-level facts
    (outlier treatment per crime type, sensitivity of the ranks per assumption)."""
    return score_rates(rates_for(observations, population, profile, year), profile, year, harm)


def rates_for(observations: pd.DataFrame, population: pd.DataFrame, profile: dict,
              year: str) -> pd.DataFrame:
    """The yearly rates the assessment of ``year`` reads (the trend windows and the years a
    value may be carried forward). Per unit: the rates of a country depend on its own
    observations and population alone, so a large assessment computes them country by
    country (the Airflow DAG maps this per country) and scores them together."""
    y = int(year)
    carry = profile["missing"]["carry_forward_years"]
    window = profile["pillars"]["trend"]["window_years"]
    longest = max([window, *profile["uncertainty"].get("trend_windows", [])])
    return yearly_rates(observations, population, profile, list(range(y - carry - longest, y + 1)))


def point_scores(rates: pd.DataFrame, profile: dict, year: str,
                 harm: pd.Series | None = None) -> dict:
    """The measurement and the profile's score of every unit, without the uncertainty analysis:
    units (national totals apart, with their flags), the units not scored with their reason,
    the national figures, the measurement (:func:`measure`), the weights, harm and the score
    (NaN where not eligible). What :func:`score_rates` starts from, and what the external
    checks (bench/checks.py: leave one country out) compare."""
    y = int(year)
    carry = profile["missing"]["carry_forward_years"]
    window = profile["pillars"]["trend"]["window_years"]
    # rows that belong to a country but to no region (CC-_X, a profile's region.no_region): part
    # of its national figure, listed apart, never ranked or mapped
    apart = _remainder(rates)
    remainder = remainder_figures(rates, apart, y, carry)
    rates = rates[~apart].reset_index(drop=True)
    units = pl.latest_values(rates, y, carry)
    # a national total (region == country) is an average over a whole country: never ranked
    # beside first-level regions, it is reported apart ("national figure only")
    whole = units["region"] == units["country"]
    national = national_figures(units[whole])
    units = units[~whole].reset_index(drop=True)
    units = units.assign(_group=pl.group_codes(units))
    regional = rates[(rates["region"] != rates["country"]) & (rates["year"] >= y - carry - window)]
    # (the longer trend windows of the uncertainty analysis read earlier years: a unit seen only
    # there is not reported as unscored)
    units, unscored = _flags_and_reasons(regional, units, y, carry, profile)
    out = {"units": units, "unscored": unscored, "national": national, "remainder": remainder}
    if units.empty:
        return out
    from ideal import reference

    if harm is None:
        harm = reference.harm_weights((profile.get("harm") or {}).get("weights", "iccs"))
    weights = np.array([profile["pillars"][p]["weight"] for p in pl.PILLARS], dtype="float64")
    base_variant = measure(rates, units, profile, harm)
    key = (profile["normalisation"]["method"], "carry_forward")
    comp = agg.threat(base_variant["matrices"][key], weights, profile["aggregation"]["method"], profile.get("harm"))[:, 0]
    return {**out, "units": base_variant["units"], "measured": base_variant, "weights": weights, "harm": harm,
            "key": key, "score": np.where(base_variant["eligible"][key], comp, np.nan)}


def score_rates(rates: pd.DataFrame, profile: dict, year: str,
                harm: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """:func:`score` from the yearly rates of every country in scope (:func:`rates_for`): the
    goalposts, the ranks and the Monte Carlo cross countries."""
    carry = profile["missing"]["carry_forward_years"]
    point = point_scores(rates, profile, year, harm)
    units, unscored, national = point["units"], point["unscored"], point["national"]
    remainder = point["remainder"]
    rates = rates[~_remainder(rates)].reset_index(drop=True)
    if units.empty:
        return units, unscored, {"national": national, "remainder": remainder}
    from ideal import reference

    harm, weights, key, comp = point["harm"], point["weights"], point["key"], point["score"]
    base_variant = point["measured"]
    units, trend, trend_se = base_variant["units"], base_variant["trend"], base_variant["trend_se"]
    matrices, eligible = base_variant["matrices"], base_variant["eligible"]
    base, treated = base_variant["base"], base_variant["treated"]
    cover = agg.coverage(matrices[key], agg.data_columns(profile))
    base_rank = agg.ranks(comp[:, None])[:, 0]
    v4 = profile["uncertainty"].get("headline") == "data"
    harm_col = units["crime_type"].map(harm).astype("float64")
    if v4:
        # v4: the headline's draws vary the data alone (ideal.scoring.uncertainty.data_draws)
        draws = mc.data_draws(rates, units, profile)
        data_r = mc.data_ranks(units, draws, profile, harm_col, weights)
        summary = mc.rank_summary(data_r)
        median, p5, p95 = summary["rank_median"], summary["rank_p5"], summary["rank_p95"]
        probabilities = {k: summary[k] for k in ("p_first", "p_top10", "p_top15")}
        where_settings = profile.get("where") or {}
        # v5's WHERE track (ideal.scoring.where); v4's profile gets it at its defaults, stored
        # beside its scores for comparison
        place = where.exceedance(units, draws["rate_model"], draws["trend"], where_settings)
        where_info = where.k_sensitivity(units, draws["rate_model"], where_settings)
    else:
        variants = mc.data_variants(rates, units, profile, harm, measure)
        joint = variants["joint"] or [(matrices, eligible)]  # no data variants: the profile's data
        plan = mc.draws(profile, weights, len(joint))
        median, p5, p95 = mc.drawn_rank_intervals(joint, plan, profile)
        probabilities = {k: np.full(len(units), np.nan) for k in ("p_first", "p_top10", "p_top15")}
        place = pd.DataFrame({c: np.full(len(units), np.nan) for c in (
            "exceed_threshold", "p_exceed", "p_rising", "rate_p5", "rate_p95")}, index=units.index).assign(
            hotspot=False, rising=False)
        where_info = None
    r = profile["reliability"]
    age_factor = 1 - units["age"] / (carry + 1)
    quality = units["population_method"].map(profile.get("population_quality", {})).fillna(0.0) \
        if "population_method" in units else 1.0
    reliability = 10 * (r["coverage"] * cover + r["age"] * age_factor +
                        r["estimated"] * (1 - units["estimated"]) + r["warnings"] * (1 - units["warned"])
                        + r.get("population", 0.0) * quality)
    scores = units.assign(
        period=year, imputed=units["age"] > 0, trend_raw=trend.to_numpy(), trend_change=np.where(np.isfinite(trend), trend, np.nan),
        trend_se=trend_se.to_numpy(),
        rate_model=units["rate_model"] if "rate_model" in units else units["rate"],
        magnitude=base["magnitude"].round(4), trend=base["trend"].round(4),
        harm=base["harm"], spread=base["spread"].round(4), coverage=cover.round(4),
        score=np.round(comp, 4), reliability=reliability.round(2), rank=base_rank,
        rank_median=median, rank_p5=p5, rank_p95=p95, **probabilities,
        **{c: place[c].to_numpy() for c in place.columns},
        enforcement=(units["indicator"].isin(reference.enforcement_indicators())
                     | units["crime_type"].isin(reference.enforcement_crimes())).to_numpy(),
        status=np.where(np.isfinite(comp), "scored", "insufficient_data"))
    scores = scores.assign(level=agg.band(scores["score"], profile["bands"]),
                           **contributions(matrices[key], weights, comp, profile["aggregation"]["method"],
                                           profile.get("harm")))

    if v4:
        sob = mc.sobol_v4(units, draws, profile, harm_col, weights, base_rank)
        sensitivity = mc.method_sensitivity(units, {k: (matrices[k], eligible[k]) for k in matrices}, profile,
                                            harm_col, weights, base_rank, draws, data_r)
        description = {**draws["description"],
                       "hyperparameters": model.summary(base_variant["fit"], model.group_names(units))}
    else:
        sob = mc.sobol(matrices, eligible, profile, weights, base_rank, joint=variants["joint"])
        sensitivity = mc.sensitivity(matrices, eligible, profile, weights, base_rank, variants["one_at_a_time"])
        description = variants["description"]
    mover = pd.Series(sob.pop("rank_movers"), dtype="object")
    scores = scores.assign(rank_mover=mover.reindex(range(len(scores))).to_numpy())
    sob["rank_movers"] = [{"country": r.country, "region": r.region, "crime_type": r.crime_type,
                           "rank": int(r.rank), "moved_most_by": r.rank_mover}
                          for r in scores[scores["rank_mover"].notna()].sort_values("rank").itertuples()]
    info = {"outliers": treated, "series": leading_series(rates, scores, profile), "national": national,
            "where": where_info,
            "remainder": remainder,
            "sensitivity": sensitivity, "monte_carlo": description,
            "sobol": sob,
            "coherence": coherence.report(matrices[key], weights, comp, scores[
                [f"contrib_{p}" for p in pl.PILLARS]].to_numpy(dtype="float64"),
                harm_scales=(profile.get("harm") or {}).get("mode") == "scale")}
    return scores.drop(columns="_group").reset_index(drop=True), unscored.reset_index(drop=True), info


def _remainder(rates: pd.DataFrame) -> pd.Series:
    """The rows of a country's remainder of no region (reference.no_region: CC-_X)."""
    from ideal import reference

    return rates["region"].astype(str).str.endswith("-" + reference.NO_REGION)


def remainder_figures(rates: pd.DataFrame, apart: pd.Series, year: int, carry: int) -> list[dict]:
    """Each country's figure of no region (CC-_X) in the latest year up to ``year`` (within the
    carry-forward): its count, the national figure it belongs to (the regions' sum plus it), its
    share of that figure, and the national rate (over the regions' population)."""
    rem = rates[apart & rates["year"].between(year - carry, year)]
    out = []
    if rem.empty:
        return out
    regional = rates[~apart & (rates["region"] != rates["country"])]
    for (cc, crime, ind), group in rem.groupby(["country", "crime_type", "indicator"], sort=True):
        row = group.sort_values("year").iloc[-1]
        yr = int(row["year"])
        parts = regional[(regional["country"] == cc) & (regional["crime_type"] == crime)
                         & (regional["indicator"] == ind) & (regional["year"] == yr)]
        total = float(parts["value"].sum()) + float(row["value"])
        population = float(parts["population"].sum()) if parts["population"].notna().all() and len(parts) else None
        out.append({"country": cc, "crime_type": crime, "indicator": ind, "data_year": yr,
                    "value": float(row["value"]), "national_value": total,
                    "share": float(row["value"]) / total if total else None, "regions": int(len(parts)),
                    "national_rate": total / population * 100_000 if population else None})
    return out


def national_figures(units: pd.DataFrame) -> list[dict]:
    """The national totals of a run (units whose region is the country), as the briefing lists
    them apart: rate, count, population and the year and treatment of the data."""
    out = []
    for r in units.sort_values(["country", "crime_type"]).itertuples():
        partial = getattr(r, "partial", "")
        out.append({"country": r.country, "crime_type": r.crime_type, "indicator": r.indicator,
                    "rate": None if pd.isna(r.rate) else round(float(r.rate), 4),
                    "value": None if pd.isna(r.value) else float(r.value),
                    "population": None if pd.isna(r.population) else float(r.population),
                    "data_year": int(r.data_year), "partial": partial if isinstance(partial, str) and partial else None})
    return out


def leading_series(rates: pd.DataFrame, scores: pd.DataFrame, profile: dict, n: int | None = None) -> list[dict]:
    """For the ``n`` highest scores (the briefing's leading threats): the yearly rates of the
    trend window up to the data year, the modelled rate of the data year with the sd of its log
    (v4), and the fitted yearly change with its standard error on the log scale (the briefing
    draws them as small multiples)."""
    n = n or profile.get("top_threats", 15)
    window = profile["pillars"]["trend"]["window_years"]
    top = scores[scores["score"].notna()].sort_values(["score", "rate"], ascending=False).head(n)
    out = []
    for r in top.itertuples():
        own = rates[(rates["country"] == r.country) & (rates["region"] == r.region)
                    & (rates["crime_type"] == r.crime_type) & rates["rate"].notna()
                    & (rates["year"] <= r.data_year) & (rates["year"] >= r.data_year - window)].sort_values("year")
        out.append({"country": r.country, "region": r.region, "crime_type": r.crime_type,
                    "years": [int(y) for y in own["year"]], "rates": [round(float(v), 3) for v in own["rate"]],
                    "level": r.rate_model if pd.notna(r.rate_model) else r.rate, "data_year": int(r.data_year),
                    "change": None if pd.isna(r.trend_change) else round(float(r.trend_change), 4),
                    "se": None if pd.isna(r.trend_se) else round(float(r.trend_se), 4),
                    "level_se": _finite(getattr(r, "rate_model_se", None))})
    return out


def _finite(x) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 4)


def measure(rates: pd.DataFrame, units: pd.DataFrame, profile: dict, harm: pd.Series,
            window: int | None = None, goalpost_factor: float = 1.0,
            spread_threshold: float | None = None, only_profile: bool = False) -> dict:
    """From yearly rates to the pillar matrices, for every normalisation and imputation choice
    the uncertainty analysis uses: the profile's measurement (defaults) or one of its variants
    (another trend window, goalposts moved by a factor, another spread threshold; resampled
    counts and other harm weights come in through ``rates`` and ``harm``). Returns units (with
    rate_model), trend, trend_se, matrices and eligible per (normalisation, imputation), and the
    profile's own pillar frame (base) with its outlier treatment. ``only_profile``: the
    profile's own normalisation with carry-forward only (what a one-at-a-time variant needs)."""
    window = window or profile["pillars"]["trend"]["window_years"]
    trend_spec = profile["pillars"]["trend"]
    fitted = None
    if profile.get("smoothing", {}).get("model") == "hierarchical":
        # v4: rates and trends from one hierarchical over-dispersed model (ideal.scoring.model)
        fitted = model.fit(model.points(rates, units, window, model.options(profile)))
        rate_model = np.where(np.isfinite(fitted.level), np.exp(fitted.level) * profile["rate_per"], units["rate"])
        units = units.assign(rate_model=rate_model,  # and the sd of its log (the trend chart's band)
                             rate_model_se=np.where(np.isfinite(fitted.level), np.sqrt(fitted.level_var), np.nan))
        trend = pd.Series(np.expm1(fitted.slope), index=units.index)
        trend_se = pd.Series(np.sqrt(fitted.slope_var), index=units.index)
    elif trend_spec.get("method", "endpoints") == "loglinear":
        trend, trend_se = pl.trend_slope(rates, units, window,
                                         shrink=profile.get("smoothing", {}).get("trend") == "empirical_bayes")
    else:
        trend, trend_se = pl.trend_raw(rates, units, window), pd.Series(np.nan, index=units.index)
    if fitted is None and profile.get("smoothing", {}).get("magnitude") == "empirical_bayes":
        units = units.assign(rate_model=pl.smoothed_rates(units, profile["rate_per"]))
    harm_col = units["crime_type"].map(harm).astype("float64")
    threshold = profile["missing"]["coverage_threshold"]
    matrices, eligible, base, treated = {}, {}, None, {}
    options = profile["uncertainty"]
    methods = [profile["normalisation"]["method"]] + ([] if only_profile else options["normalisation"])
    for method in dict.fromkeys(methods):
        for imput in (["carry_forward"] if only_profile else options["imputation"]):
            frame, how = pl.pillar_frame(units, trend, harm_col, profile, method,
                                         impute=imput == "carry_forward", goalpost_factor=goalpost_factor,
                                         spread_threshold=spread_threshold)
            m = frame[pl.PILLARS].to_numpy(dtype="float64")
            matrices[(method, imput)] = m
            eligible[(method, imput)] = (np.isfinite(m[:, 0]) & (agg.coverage(m, agg.data_columns(profile)) >= threshold))
            if method == profile["normalisation"]["method"] and imput == "carry_forward":
                base, treated = frame, how
    return {"units": units, "trend": trend, "trend_se": trend_se, "matrices": matrices,
            "eligible": eligible, "base": base, "treated": treated, "fit": fitted}


def contributions(pillars: np.ndarray, weights: np.ndarray, composite: np.ndarray,
                  method: str, harm: dict | None = None) -> dict[str, np.ndarray]:
    """Each pillar's contribution to a unit's score (points of the 0-10 score; they add up to
    it): weight x pillar over the weights of the pillars present (arithmetic); for the
    geometric mean, the score split in proportion to each pillar's weighted log term. With
    harm as a scale (v3), the data pillars' points are those of the data composite and harm's
    contribution is what the scaling took away (zero or negative)."""
    names = ["magnitude", "trend", "harm", "spread"]
    if harm and harm.get("mode", "additive") == "scale":
        data = agg.aggregate(pillars[:, agg.DATA], weights[agg.DATA], method)[:, 0]
        parts = _split(pillars[:, agg.DATA], weights[agg.DATA], data, method)
        out = {f"contrib_{names[c]}": parts[:, i] for i, c in enumerate(agg.DATA)}
        out["contrib_harm"] = np.where(np.isfinite(composite), np.round(composite - data, 4), np.nan)
        return out
    parts = _split(pillars, weights, composite, method)
    return {f"contrib_{p}": parts[:, i] for i, p in enumerate(names)}


def _split(pillars: np.ndarray, weights: np.ndarray, composite: np.ndarray, method: str) -> np.ndarray:
    have = np.isfinite(pillars)
    w = np.where(have, weights[None, :], 0.0)
    share = w / np.where(w.sum(axis=1, keepdims=True) > 0, w.sum(axis=1, keepdims=True), 1)
    if method == "geometric":
        logs = np.where(have, np.log(1 + 0.9 * np.nan_to_num(pillars)), 0.0) * share
        total = logs.sum(axis=1, keepdims=True)
        parts = np.where(total > 0, logs / np.where(total > 0, total, 1), share) * composite[:, None]
    else:
        parts = share * np.nan_to_num(pillars)
    return np.where(np.isfinite(composite)[:, None], np.round(parts, 4), np.nan)


def _flags_and_reasons(rates: pd.DataFrame, units: pd.DataFrame, y: int, carry: int,
                       profile: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(units with ``partial``: how a partial year was treated, units not scored with the
    true reason: a partial year too short to nowcast or annualise (its year and months), no
    population figure, no value in the window)."""
    spec = profile.get("partial_year", {})
    need = spec.get("nowcast_from_months") if spec.get("method") == "nowcast" else spec.get("annualise_from_months")
    window = rates[(rates["year"] >= y - carry) & (rates["year"] <= y)]
    # each unit's latest year too short to use within the window, with its months
    short = (window[window["short"]].sort_values("year").drop_duplicates(UNIT, keep="last")
             .set_index(UNIT)[["year", "covered"]])
    key = pd.MultiIndex.from_frame(units[UNIT])
    later = short.reindex(key)
    note = units["partial"].where(units["partial"].ne(""), None) if "partial" in units else None
    forward = later["year"].notna().to_numpy() & (units["data_year"].to_numpy() < later["year"].fillna(0).to_numpy())
    forward = pd.Series(forward, index=units.index)
    carried = ("carried forward: " + later["year"].fillna(0).astype(int).astype(str) + " covers "
               + later["covered"].fillna(0).astype(int).astype(str) + "/12")
    carried = carried.mask(later["covered"].fillna(-1).eq(0),
                           "carried forward: " + later["year"].fillna(0).astype(int).astype(str) + " " + LOOKS_PARTIAL)
    note = (pd.Series(None, index=units.index, dtype="object") if note is None else note).mask(
        forward, pd.Series(carried.to_numpy(), index=units.index))
    units = units.assign(partial=note)
    seen = rates[[*UNIT]].drop_duplicates().merge(units[UNIT], how="left", indicator=True)
    left = seen[seen["_merge"] == "left_only"].drop(columns="_merge")
    no_pop = (window[window["population"].isna() & window["value"].notna()].sort_values("year")
              .drop_duplicates(UNIT, keep="last").set_index(UNIT)["year"])
    reasons = []
    for u in left.itertuples(index=False):
        k = (u.country, u.region, u.crime_type)
        if k in short.index and int(short.at[k, "covered"]) == 0:
            reasons.append(f"partial year: {int(short.at[k, 'year'])} looks partial (far below the year "
                           f"before, and the file gives no months) and no complete year in {y - carry}-{y}")
        elif k in short.index:
            reasons.append(f"partial year: {int(short.at[k, 'year'])} covers {int(short.at[k, 'covered'])} "
                           f"of 12 months (fewer than the {need} needed, or no monthly history to "
                           f"nowcast it) and no complete year in {y - carry}-{y}")
        elif k in no_pop.index:
            reasons.append(f"no population figure for {int(no_pop[k])}")
        else:
            reasons.append(f"no value in {y - carry}-{y}")
    unscored = left.assign(reason=reasons) if len(left) else left.assign(reason=[])
    return units, unscored.reset_index(drop=True)


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
    """The leading group in the order of the evidence (#48): by median rank over the data
    draws, then P(top 10), then the score (v4, v5); without draws (v2, v3) highest scores
    first. Ties broken by the crime type's harm weight, then the rate."""
    ranked = scores[scores["score"].notna()].assign(
        harm_weight=scores["crime_type"].map(harm).fillna(0))
    if "rank_median" in ranked and ranked["rank_median"].notna().any() and "p_top10" in ranked \
            and ranked["p_top10"].notna().any():
        ranked = ranked.assign(_m=ranked["rank_median"].fillna(np.inf), _p=ranked["p_top10"].fillna(0))
        return ranked.sort_values(["_m", "_p", "score", "harm_weight", "rate"],
                                  ascending=[True, False, False, False, False]).head(n).drop(
            columns=["_m", "_p"]).reset_index(drop=True)
    return ranked.sort_values(["score", "harm_weight", "rate"], ascending=False).head(n).reset_index(drop=True)
