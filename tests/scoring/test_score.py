"""The methodology on tiny frames: each formula against a hand-computed example."""

import numpy as np
import pandas as pd
import pytest

from ideal import reference
from ideal.errors import ConfigError
from ideal.scoring.profile import check_profile, load_profile, profile_hash
from ideal.scoring.score import (
    add_rates,
    annual_values,
    choose_indicator,
    country_scores,
    national_totals,
    score,
    top_threats,
)
from tests.conftest import real_file

PROFILE = load_profile("default")
FAST = {**PROFILE, "uncertainty": {**PROFILE["uncertainty"], "draws": 60}}
# the v2 measurement (raw rates, endpoint trend) for the hand-worked examples of the machinery
# (normalisation, aggregation, bands, ranks); the v3 models have their own examples
V2 = load_profile("v2")  # the v2 measurement, shipped for reruns and comparisons
RAW = {**V2, "uncertainty": {**V2["uncertainty"], "draws": 60}}


def obs(rows, status="A"):
    return pd.DataFrame([(*r, status) for r in rows],
                        columns=["country", "region", "period", "crime_type", "indicator", "value",
                                 "obs_status"])


def pop(regions, years=range(2020, 2026), n=100_000):
    return pd.DataFrame([("MX", r, y, n) for r in regions for y in years],
                        columns=["country", "region", "year", "population"]).assign(synthetic=0)


def test_annual_value_prefers_annual_row_else_sums_sub_periods():
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 100.0),
             ("MX", "MX-JAL", "2025-01", "0101", "incidents", 5.0),
             ("MX", "MX-COL", "2025-01", "0101", "incidents", 3.0),
             ("MX", "MX-COL", "2025-02", "0101", "incidents", 4.0),
             ("MX", "MX-COL", "2024", "0101", "incidents", 50.0)])
    before = o.copy()
    out = annual_values(o, "2025").set_index("region")
    assert out.at["MX-JAL", "value"] == 100 and out.at["MX-JAL", "n_parts"] == 1
    assert out.at["MX-COL", "value"] == 7 and out.at["MX-COL", "n_parts"] == 2
    pd.testing.assert_frame_equal(o, before)  # input not mutated
    assert len(annual_values(o, "2025", "ignore")) == 1


def test_choose_indicator_uses_first_preferred_for_whole_crime_type():
    v = obs([("MX", "MX-JAL", "2025", "0101", "victims", 9.0),
             ("MX", "MX-JAL", "2025", "0101", "incidents", 8.0),
             ("MX", "MX-COL", "2025", "0101", "victims", 3.0),
             ("MX", "MX-COL", "2025", "0601", "seizures_kg", 3.0)])
    out = choose_indicator(v, ["incidents", "victims", "seizures_kg"])
    assert set(out.loc[out["crime_type"] == "0101", "indicator"]) == {"incidents"}
    assert out.loc[out["crime_type"] == "0601", "indicator"].tolist() == ["seizures_kg"]


def test_national_totals_kept_only_without_regions():
    v = obs([("MX", "MX", "2025", "0101", "incidents", 10.0),
             ("MX", "MX-JAL", "2025", "0101", "incidents", 4.0),
             ("PY", "PY", "2025", "0703", "incidents", 2.0)])
    kept = national_totals(v, "only_without_regions")
    assert sorted(kept["region"]) == ["MX-JAL", "PY"]
    assert len(national_totals(v, "always")) == 3
    assert national_totals(v, "never")["region"].tolist() == ["MX-JAL"]


def test_rates_per_100k_and_national_population_is_sum_of_regions():
    v = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 50.0),
             ("MX", "MX", "2025", "0703", "incidents", 30.0),
             ("MX", "MX-COL", "2025", "0101", "incidents", 1.0)])
    p = pd.DataFrame([("MX", "MX-JAL", 2025, 1_000_000, 0), ("MX", "MX-AGU", 2025, 500_000, 0)],
                     columns=["country", "region", "year", "population", "synthetic"])
    out = add_rates(v, p).set_index(["region", "crime_type"])
    assert out.at[("MX-JAL", "0101"), "rate"] == pytest.approx(5.0)
    assert out.at[("MX", "0703"), "rate"] == pytest.approx(2.0)
    assert np.isnan(out.at[("MX-COL", "0101"), "rate"])


WORKED = obs([("MX", "MX-JAL", "2022", "0101", "incidents", 10.0),
              ("MX", "MX-JAL", "2025", "0101", "incidents", 20.0),
              ("MX", "MX-COL", "2024", "0101", "incidents", 30.0),
              ("MX", "MX-COL", "2025", "0101", "incidents", 30.0),
              ("MX", "MX-AGU", "2025", "0101", "incidents", 60.0)])


def test_worked_example_end_to_end():
    """Hand-computed (goalpost 50 per 100k for homicide, trend goalposts -50 %..+50 %/year,
    harm 10, spread threshold 5, weights .40/.20/.25/.15):
    JAL rate 20 -> magnitude 4.0; trend (20/10)^(1/3)-1 = +26.0 %/yr -> 7.599; spread 2/3 -> 6.667
        score = .4*4 + .2*7.599 + .25*10 + .15*6.667 = 6.6198 (high)
    COL rate 30 -> 6.0; trend 0 -> 5.0; score = 2.4 + 1.0 + 2.5 + 1.0 = 6.9 (high)
    AGU rate 60 -> 10 (capped); no earlier year: trend missing, weights renormalised over .80:
        score = (4 + 2.5 + 1.0) / .8 = 9.375 (very high), coverage of the data pillars 2/3,
        reliability 10 x (.35 x 2/3 + .15 + .15 + .15 + .20 x 1 official population) = 8.833
    """
    scores, unscored, info = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), RAW, "2025")
    s = scores.set_index("region")
    assert s.at["MX-JAL", "magnitude"] == pytest.approx(4.0)
    assert s.at["MX-JAL", "trend"] == pytest.approx((2 ** (1 / 3) - 1 + 0.5) * 10, abs=1e-3)
    assert s.at["MX-JAL", "spread"] == pytest.approx(20 / 3, abs=1e-3)
    assert s.at["MX-JAL", "score"] == pytest.approx(6.6198, abs=1e-3)
    assert s.at["MX-COL", "score"] == pytest.approx(6.9, abs=1e-4)
    assert s.at["MX-AGU", "score"] == pytest.approx(9.375, abs=1e-4)
    assert np.isnan(s.at["MX-AGU", "trend"]) and s.at["MX-AGU", "coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert list(s.loc[["MX-AGU", "MX-COL", "MX-JAL"], "level"]) == ["very_high", "high", "high"]
    assert list(s.loc[["MX-AGU", "MX-COL", "MX-JAL"], "rank"]) == [1, 2, 3]
    assert s.at["MX-JAL", "reliability"] == 10.0 and s.at["MX-AGU", "reliability"] == pytest.approx(8.833, abs=0.006)
    assert (s["rank_p5"] <= s["rank_median"]).all() and (s["rank_median"] <= s["rank_p95"]).all()
    assert unscored.empty and set(info["sensitivity"]) == {"weights", "normalisation", "aggregation",
                                                           "imputation"}


def test_carry_forward_flags_and_insufficient_data():
    o = obs([("MX", "MX-JAL", "2024", "0101", "incidents", 20.0),      # 2025 missing: carried
             ("MX", "MX-COL", "2021", "0101", "incidents", 20.0),      # too old: not scored
             ("MX", "MX", "2025", "0703", "incidents", 5.0)])          # national only, no trend
    scores, unscored, info = score(o, pop(["MX-JAL", "MX-COL"]), FAST, "2025")
    s = scores.set_index(["region", "crime_type"])
    jal = s.loc[("MX-JAL", "0101")]
    assert jal["imputed"] and jal["data_year"] == 2024 and jal["status"] == "scored"
    assert jal["reliability"] < 10
    assert unscored.set_index("region").at["MX-COL", "reason"] == "no value in 2023-2025"
    # a national total is never ranked beside regions: it is listed apart with its figure
    assert "MX" not in set(scores["region"]) and "MX" not in set(unscored["region"])
    (nat,) = info["national"]
    assert (nat["country"], nat["crime_type"], nat["data_year"], nat["value"]) == ("MX", "0703", 2025, 5.0)


def test_national_totals_are_not_ranked_beside_regions():
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 20.0),
             ("MX", "MX-COL", "2025", "0101", "incidents", 30.0),
             ("CO", "CO", "2025", "0101", "incidents", 9000.0)])   # a country with its total only
    p = pd.concat([pop(["MX-JAL", "MX-COL"]), pop(["CO-ANT"]).assign(country="CO")], ignore_index=True)
    scores, _, info = score(o, p, FAST, "2025")
    assert sorted(scores["region"]) == ["MX-COL", "MX-JAL"] and scores["rank"].max() <= 2
    assert [n["country"] for n in info["national"]] == ["CO"] and info["national"][0]["rate"] > 0


def test_same_data_same_profile_same_scores_in_any_row_order():
    a, _, _ = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), FAST, "2025")
    b, _, _ = score(WORKED.sample(frac=1, random_state=3), pop(["MX-JAL", "MX-COL", "MX-AGU"]), FAST, "2025")
    cols = ["region", "score", "rank", "rank_median", "rank_p5", "rank_p95", "reliability"]
    pd.testing.assert_frame_equal(a.sort_values("region")[cols].reset_index(drop=True),
                                  b.sort_values("region")[cols].reset_index(drop=True))


def test_roll_up_and_top_threats():
    scores, _, _ = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), RAW, "2025")
    roll = country_scores(scores)
    assert roll.loc[0, "score"] == pytest.approx((6.6198 + 6.9 + 9.375) / 3, abs=1e-3)
    harm = reference.iccs().set_index("code")["harm_weight"]
    assert top_threats(scores, harm, 1)["region"].tolist() == ["MX-AGU"]


def test_profile_checked_and_hashed():
    assert profile_hash(PROFILE) == profile_hash(load_profile("default"))
    with pytest.raises(ConfigError, match="last band"):
        check_profile(dict(PROFILE, bands=[{"level": "x", "max": 5}]), "bad")
    with pytest.raises(ConfigError, match="missing key 'rate_per'"):
        check_profile({k: v for k, v in PROFILE.items() if k != "rate_per"}, "bad")
    bad = {**PROFILE, "pillars": {**PROFILE["pillars"], "trend": {"weight": 0.5, "window_years": 3}}}
    with pytest.raises(ConfigError, match="'pillars' weights must add up to 1"):
        check_profile(bad, "bad")
    with pytest.raises(ConfigError, match="'aggregation.method'"):
        check_profile({**PROFILE, "aggregation": {"method": "median"}}, "bad")
    with pytest.raises(ConfigError, match="'uncertainty.draws'"):
        check_profile({**PROFILE, "uncertainty": {**PROFILE["uncertainty"], "draws": "many"}}, "bad")
    # v5's keys (#48): the error names the key to fix
    for bad, key in (({"where": {**PROFILE["where"], "k": "two"}}, "'where.k'"),
                     ({"where": {**PROFILE["where"], "hotspot": 1.5}}, "'where.hotspot'"),
                     ({"where": {**PROFILE["where"], "k_range": [4, 1]}}, "'where.k_range'"),
                     ({"priorities": {**PROFILE["priorities"], "basis": "goalposts"}}, "'priorities.basis'"),
                     ({"priorities": {**PROFILE["priorities"], "min_members": 0}}, "'priorities.min_members'"),
                     ({"smoothing": {**PROFILE["smoothing"], "region_prior": "zero"}}, "'smoothing.region_prior'"),
                     ({"early_warning": {**PROFILE["early_warning"], "dispersion": "known"}},
                      "'early_warning.dispersion'")):
        with pytest.raises(ConfigError, match=key):
            check_profile({**PROFILE, **bad}, "bad")
    with pytest.raises(ConfigError, match="not found"):
        load_profile("nope")


def test_rates_match_sesnsp_published_rates():
    """Real data: our CONAPO population gives the same homicide rates SESNSP's file states."""
    path = real_file("mx_sesnsp_incidencia_estatal_anual",
                     "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2")
    src = pd.read_csv(path, dtype={"cve_ent": str})
    src = src[(src["n_year"] == 2023) & (src["cve_ent"] != "00") &
              (src["subtipo_de_delito"] == "Homicidio doloso")]
    per_state = src.groupby("cve_ent", as_index=False).agg(n=("n_delitos", "sum"),
                                                           rate=("n_delitos_x100khab", "sum"))
    regions = reference.crosswalk("mx_inegi_entidades").set_index("cve_ent")["region"]
    o = obs([("MX", regions[c], "2023", "0101", "incidents", float(n))
             for c, n in zip(per_state["cve_ent"], per_state["n"], strict=False)])
    rated = add_rates(o, reference.population()).set_index("region")
    expected = per_state.assign(region=per_state["cve_ent"].map(regions)).set_index("region")["rate"]
    assert rated["rate"].to_numpy() == pytest.approx(expected[rated.index].to_numpy(), rel=1e-4)


def test_victims_come_first_and_an_incidents_only_country_is_scored_beside():
    """UN-CTS convention (v5, #48): homicide in victims where a member sends them, incidents
    only where it does not; v4 took incidents first. Before v3, one indicator was chosen per
    crime type for everyone and the victims-only country vanished."""
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 20.0),
             ("MX", "MX-JAL", "2025", "0101", "victims", 22.0),
             ("CO", "CO-ANT", "2025", "0101", "victims", 30.0)])
    p = pd.concat([pop(["MX-JAL"]), pop(["CO-ANT"]).assign(country="CO")], ignore_index=True)
    scores, unscored, _ = score(o, p, FAST, "2025")
    used = scores.set_index("country")["indicator"].to_dict()
    assert used == {"MX": "victims", "CO": "victims"} and unscored.empty
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 20.0),
             ("CO", "CO-ANT", "2025", "0101", "victims", 30.0)])
    scores, unscored, _ = score(o, p, FAST, "2025")
    assert scores.set_index("country")["indicator"].to_dict() == {"MX": "incidents", "CO": "victims"}
    v4 = {**FAST, "indicator_preference": load_profile("v4")["indicator_preference"]}
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 20.0),
             ("MX", "MX-JAL", "2025", "0101", "victims", 22.0)])
    scores, _, _ = score(o, p, v4, "2025")
    assert scores["indicator"].tolist() == ["incidents"]


def _months(region, months, value=10.0, year=2025):
    return [("MX", region, f"{year}-{m:02d}", "0101", "incidents", value) for m in months]


def test_a_quarter_is_not_scored_as_a_year():
    """Jan-Mar 2025 alone: not a year (a rate a quarter of the truth); 2024 is carried forward
    with the reason, or the unit is listed as not scored with the true reason."""
    o = obs(_months("MX-JAL", range(1, 4)) + [("MX", "MX-JAL", "2024", "0101", "incidents", 120.0)]
            + _months("MX-COL", range(1, 4)))
    scores, unscored, _ = score(o, pop(["MX-JAL", "MX-COL"]), FAST, "2025")
    jal = scores.set_index("region").loc["MX-JAL"]
    assert jal["data_year"] == 2024 and jal["value"] == 120.0 and bool(jal["imputed"])
    assert jal["partial"] == "carried forward: 2025 covers 3/12"
    col = unscored.set_index("region").loc["MX-COL", "reason"]
    assert col.startswith("partial year: 2025 covers 3 of 12 months")


def test_nine_months_are_annualised_and_flagged():
    o = obs(_months("MX-JAL", range(1, 10), value=10.0))
    scores, _, _ = score(o, pop(["MX-JAL"]), FAST, "2025")
    row = scores.iloc[0]
    assert row["value"] == pytest.approx(120.0) and row["partial"] == "annualised 9/12"


def test_a_stored_partial_year_from_dates_is_not_a_whole_year():
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 30.0)]).assign(coverage="3/12: 01-03")
    _, unscored, _ = score(o, pop(["MX-JAL"]), FAST, "2025")
    assert unscored.iloc[0]["reason"].startswith("partial year: 2025 covers 3 of 12 months")


def test_reliability_is_lower_where_the_population_is_not_official():
    o = obs([("MX", "MX-JAL", "2025", "0101", "incidents", 20.0)])
    official, _, _ = score(o, pop(["MX-JAL"]).assign(method="official"), FAST, "2025")
    extrap, _, _ = score(o, pop(["MX-JAL"]).assign(method="extrapolated"), FAST, "2025")
    synth, _, _ = score(o, pop(["MX-JAL"]).assign(method="synthetic", synthetic=1), FAST, "2025")
    base = official.iloc[0]["reliability"]  # one year, no trend (coverage 2/3 of the data pillars)
    assert extrap.iloc[0]["reliability"] == pytest.approx(base - 10 * 0.2 * 0.4, abs=0.01)
    assert synth.iloc[0]["reliability"] == pytest.approx(base - 10 * 0.2, abs=0.01)
    assert extrap.iloc[0]["population_method"] == "extrapolated"


def test_contributions_add_up_to_the_score():
    """JAL of the worked example: .4 x 4.0 + .2 x 7.599 + .25 x 10 + .15 x 6.667 = 6.6198."""
    scores, _, _ = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), RAW, "2025")
    s = scores.set_index("region")
    parts = s[["contrib_magnitude", "contrib_trend", "contrib_harm", "contrib_spread"]]
    assert (parts.sum(axis=1) - s["score"]).abs().max() < 1e-3
    assert s.at["MX-JAL", "contrib_magnitude"] == pytest.approx(1.6, abs=1e-4)
    assert s.at["MX-JAL", "contrib_harm"] == pytest.approx(2.5, abs=1e-4)
    assert s.at["MX-AGU", "contrib_magnitude"] == pytest.approx(10 * .4 / .8, abs=1e-4)  # no trend


def test_compare_explains_a_change_by_pillar():
    """v2 -> v3 on the worked example: the change of each unit's score splits into the
    change of each pillar's points, and the pillar that moved it most is named."""
    from ideal.scoring.compare import compare

    v2, _, _ = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), RAW, "2025")
    v3, _, _ = score(WORKED, pop(["MX-JAL", "MX-COL", "MX-AGU"]), FAST, "2025")
    d = compare(v2, v3, same_method=False).set_index("region")
    parts = d[["change_magnitude", "change_trend", "change_harm", "change_spread"]].sum(axis=1)
    assert (parts - d["score_change"]).abs().max() < 1e-3
    cols = ["change_magnitude", "change_trend", "change_harm", "change_spread"]
    biggest = d.loc["MX-JAL", cols].abs().astype(float).idxmax().removeprefix("change_")
    assert d.at["MX-JAL", "driver"] == biggest  # v2 -> v3: harm no longer adds 2.5 points
