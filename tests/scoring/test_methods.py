"""Normalisation, outliers, aggregation, ranks and Monte Carlo: hand-computed examples and
properties (hypothesis)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ideal.scoring import aggregate as agg
from ideal.scoring import normalise as nz
from ideal.scoring.profile import load_profile
from ideal.scoring.score import score

PROFILE = load_profile("default")
FAST = {**PROFILE, "uncertainty": {**PROFILE["uncertainty"], "draws": 40, "sobol_samples": 32, "sobol_data_draws": 4}}
V3 = load_profile("v3")  # the v3 methodology, kept for comparison
FAST3 = {**V3, "uncertainty": {**V3["uncertainty"], "draws": 40, "data_variants": 2}}
V2 = load_profile("v2")  # the v2 measurement, shipped for reruns and comparisons
RAW = {**V2, "uncertainty": {**V2["uncertainty"], "draws": 40}}


def test_minmax_goalposts_caps_and_log():
    v = pd.Series([0.0, 25.0, 50.0, 80.0])
    assert nz.minmax_goalposts(v, 0, 50).tolist() == [0, 5, 10, 10]
    assert nz.minmax_goalposts(pd.Series([np.log1p(50)]), 0, 50, log=True).iloc[0] == pytest.approx(10)
    with pytest.raises(ValueError):
        nz.minmax_goalposts(v, 5, 5)


def test_log_goalposts_hand_worked():
    # homicide goalposts [2, 200]: 20 per 100k is one decade of two above the low goalpost -> 5;
    # 2 and anything below (0 included) -> 0; 200 and above -> 10; equal ratios, equal steps
    v = pd.Series([0.0, 1.0, 2.0, 20.0, 200.0, 500.0, np.nan])
    got = nz.minmax_log(v, 2, 200)
    assert got.iloc[:6].tolist() == pytest.approx([0, 0, 0, 5, 10, 10])
    assert np.isnan(got.iloc[6])
    assert nz.minmax_log(pd.Series([6.0]), 2, 200).iloc[0] - nz.minmax_log(pd.Series([3.0]), 2, 200).iloc[0] \
        == pytest.approx(nz.minmax_log(pd.Series([60.0]), 2, 200).iloc[0] - nz.minmax_log(pd.Series([30.0]), 2, 200).iloc[0])
    with pytest.raises(ValueError):
        nz.minmax_log(v, 0, 200)


def test_goalposts_have_sources_and_do_not_saturate_the_reference_data():
    """v3's upper goalposts sit above every first-level rate of the real exports (the profile
    quotes the highest, scripts/goalposts.py prints them), so none of them scores 10."""
    from scripts.goalposts import highest
    from tests.conftest import REAL

    if not REAL.exists():
        pytest.skip("real data not present")
    top = highest(REAL)
    text = (Path(__file__).parents[2] / "ideal/scoring/profiles/default.yaml").read_text()
    goals = PROFILE["normalisation"]["goalposts"]
    assert PROFILE["normalisation"]["goalposts_scale"] == "log"
    for code, row in top.iterrows():
        low, high = goals[code]
        assert row["rate"] < high and high == pytest.approx(100 * low), code
        assert f"{row['rate']:.1f} {row['region_name'].split()[0]}" in text, code  # the source is quoted
        assert nz.minmax_log(pd.Series([row["rate"]]), low, high).iloc[0] < 10


def test_goalposts_checked_in_the_profile():
    from ideal.errors import ConfigError
    from ideal.scoring.profile import check_profile

    norm = PROFILE["normalisation"]
    for bad in ({**norm, "goalposts": {"0101": [0, 200]}}, {**norm, "goalposts": {"0101": [50, 5]}},
                {**norm, "goalposts": {"0101": "high"}}, {**norm, "goalposts_scale": "sqrt"},
                {**norm, "seizures_goalpost": [1]}):
        with pytest.raises(ConfigError, match="normalisation"):
            check_profile({**PROFILE, "normalisation": bad}, "bad")
    check_profile({**PROFILE, "normalisation": {**norm, "goalposts_scale": "linear", "goalposts": {"0101": 50}}}, "ok")


def test_zscore_and_rank():
    assert nz.zscore(pd.Series([1.0, 2.0, 3.0])).round(4).tolist() == [round(5 - 10 * 1.224745 / 6, 4), 5.0,
                                                                      round(5 + 10 * 1.224745 / 6, 4)]
    assert nz.zscore(pd.Series([2.0, 2.0])).tolist() == [5.0, 5.0]
    assert nz.percentile_rank(pd.Series([10.0, 30.0, 20.0])).tolist() == [0.0, 10.0, 5.0]


def test_outlier_rule_winsorises_then_logs():
    calm = pd.Series([1.0, 2, 3, 4, 5, 6])
    assert nz.treat_outliers(calm)[1] == "none"
    one_spike = pd.Series([1.0] * 30 + [2.0] * 10 + [100.0])
    treated, how = nz.treat_outliers(one_spike)
    assert how == "winsorised:1" and treated.max() == 2.0
    heavy = pd.Series(np.r_[np.ones(40), np.geomspace(10, 10_000, 12)])
    treated, how = nz.treat_outliers(heavy, max_points=2)
    assert how == "log" and treated.max() == pytest.approx(np.log1p(10_000))


def test_arithmetic_and_geometric_by_hand():
    p = np.array([[4.0, 6.0], [10.0, np.nan]])
    w = np.array([0.5, 0.5])
    assert agg.aggregate(p, w, "arithmetic")[:, 0].tolist() == [5.0, 10.0]
    geo = agg.aggregate(p, w, "geometric")[0, 0]
    assert geo == pytest.approx((np.sqrt((1 + 0.9 * 4) * (1 + 0.9 * 6)) - 1) / 0.9)
    assert geo < 5.0  # a low pillar is not fully compensated
    assert agg.coverage(p).tolist() == [1.0, 0.5]
    with pytest.raises(ValueError):
        agg.aggregate(p, w, "median")


def test_ranks_highest_first_nan_last():
    r = agg.ranks(np.array([[1.0], [np.nan], [7.0], [3.0]]))[:, 0]
    assert r[0] == 3 and np.isnan(r[1]) and r[2] == 1 and r[3] == 2


def test_bands():
    got = agg.band(pd.Series([0.0, 2.0, 2.01, 6.0, 8.5, 10.0, np.nan]), PROFILE["bands"]).tolist()
    assert got[:6] == ["very_low", "very_low", "low", "medium", "very_high", "very_high"]
    assert pd.isna(got[6])


def frame(rates: dict[str, list[float]], country="MX") -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, pops = [], []
    for region, series in rates.items():
        for j, r in enumerate(series):
            year = 2025 - len(series) + 1 + j
            rows.append((country, region, str(year), "0101", "incidents", r, "A"))
            pops.append((country, region, year, 100_000, 0))
    o = pd.DataFrame(rows, columns=["country", "region", "period", "crime_type", "indicator", "value",
                                    "obs_status"])
    p = pd.DataFrame(pops, columns=["country", "region", "year", "population", "synthetic"])
    return o, p


rates = st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=4)
regions = st.dictionaries(st.sampled_from(["MX-JAL", "MX-COL", "MX-AGU", "MX-SON", "MX-YUC"]),
                          rates, min_size=1, max_size=5)


@settings(max_examples=25, deadline=None)
@given(regions)
def test_scores_within_0_10_and_intervals_ordered(data):
    o, p = frame(data)
    s, _, _ = score(o, p, FAST, "2025")
    scored = s[s["status"] == "scored"]
    assert scored["score"].between(0, 10).all()
    assert scored["reliability"].between(0, 10).all()
    assert (scored["rank_p5"] <= scored["rank_p95"]).all()


# derandomized: the same examples on every run (a fresh random search found the v3 defect
# below about one run in ten, which would make the suite fail by chance)
@settings(max_examples=20, deadline=None, derandomize=True)
@given(regions, st.floats(1, 200))
def test_score_is_monotone_in_the_rate(data, bump):
    o, p = frame(data)
    before, _, _ = score(o, p, FAST, "2025")
    region = sorted(data)[0]
    last = o.index[(o["region"] == region) & (o["period"] == "2025")]
    higher = o.copy()
    higher.loc[last, "value"] = higher.loc[last, "value"] + bump
    after, _, _ = score(higher, p, FAST, "2025")
    b = before.set_index("region").at[region, "score"]
    a = after.set_index("region").at[region, "score"]
    assert a >= b - 1e-9


def test_v3_spread_counterexample_is_monotone_in_v4():
    """v3's defect (issue 31), found by test_score_is_monotone_in_the_rate: Aguascalientes's
    2025 count + 195 lowered its v3 score from 10.0 to 9.6 (the spread, a share of the country's
    regions above 5, fell when Yucatán's smoothed magnitude went from 5.03 to 4.99). v4 has no
    spread: the higher count raises the score."""
    data = {"MX-AGU": [55.0, 174.894, 252.656, 462.149], "MX-JAL": [0.0, 111.611, 145.554],
            "MX-COL": [356.570, 0.0, 473.203], "MX-SON": [427.869, 0.0, 0.0, 426.810],
            "MX-YUC": [0.0, 0.0, 17.781]}
    o, p = frame(data)
    before, _, _ = score(o, p, FAST, "2025")
    higher = o.copy()
    last = higher.index[(higher["region"] == "MX-AGU") & (higher["period"] == "2025")]
    higher.loc[last, "value"] += 195.33
    after, _, _ = score(higher, p, FAST, "2025")
    assert after.set_index("region").at["MX-AGU", "score"] >= before.set_index("region").at["MX-AGU", "score"]


@settings(max_examples=15, deadline=None)
@given(regions, regions)
def test_unrelated_country_changes_nothing_with_fixed_goalposts_in_v3(data, other):
    """v3 smoothed per country; v4 pools the members (its leave-one-country-out check is in
    bench/checks.py)."""
    o, p = frame(data)
    base, _, _ = score(o, p, FAST3, "2025")
    o2, p2 = frame({r.replace("MX-", "CO-"): v for r, v in other.items()}, country="CO")
    both, _, _ = score(pd.concat([o, o2]), pd.concat([p, p2]), FAST3, "2025")
    cols = ["region", "score", "magnitude", "trend", "spread", "reliability"]
    mx = both[both["country"] == "MX"].sort_values("region")[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(base.sort_values("region")[cols].reset_index(drop=True), mx)


def test_compare_attributes_changes_to_data_or_method():
    from ideal.scoring.compare import compare

    o, p = frame({"MX-JAL": [10.0, 20.0], "MX-COL": [30.0, 30.0]})
    a, _, _ = score(o, p, FAST, "2025")
    o2 = o.copy()
    o2.loc[(o2["region"] == "MX-JAL") & (o2["period"] == "2025"), "value"] = 45.0
    b, _, _ = score(o2, p, FAST, "2025")
    d = compare(a, b, same_method=True).set_index("region")
    assert d.at["MX-JAL", "cause"] == "data" and d.at["MX-JAL", "score_change"] > 0
    geo = {**FAST, "aggregation": {"method": "geometric"}}
    c, _, _ = score(o, p, geo, "2025")
    d = compare(a, c, same_method=False).set_index("region")
    assert set(d["cause"]) <= {"method", "none"} and "method" in set(d["cause"])


def test_direction_log_option_and_region_roll_up():
    from ideal.scoring.score import region_scores

    o, p = frame({"MX-JAL": [10.0], "MX-COL": [40.0]})
    base, _, _ = score(o, p, RAW, "2025")
    neg = {**RAW, "normalisation": {**RAW["normalisation"], "direction": {"incidents": "negative"}}}
    rev, _, _ = score(o, p, neg, "2025")
    b, r = base.set_index("region"), rev.set_index("region")
    assert r.at["MX-JAL", "magnitude"] == pytest.approx(10 - b.at["MX-JAL", "magnitude"])
    logged = {**RAW, "outliers": {**RAW["outliers"], "method": "log"}}
    lg, _, info = score(o, p, logged, "2025")
    assert info["outliers"] == {"0101": "log"}
    assert lg.set_index("region").at["MX-JAL", "magnitude"] == pytest.approx(np.log1p(10) / np.log1p(50) * 10, abs=1e-4)
    roll = region_scores(base)
    assert roll.loc[0, "score"] == pytest.approx(base["score"].mean()) and roll.loc[0, "countries"] == 1


# --- v3: the counts modelled -------------------------------------------------------------

def _units(rows):
    """units as score() builds them: country, region, crime_type, indicator, value, population, rate."""
    df = pd.DataFrame(rows, columns=["country", "region", "crime_type", "indicator", "value", "population"])
    return df.assign(rate=df["value"] / df["population"] * 1e5)


def test_empirical_bayes_rate_pulls_a_small_region_to_its_country():
    """Marshall (1991) by hand: m = 101 / 1,001,000 = 1.00899e-4; rates 1.0e-4 (BIG) and 1.0e-3
    (SMALL: 1 event in 1,000); s2 = (1e6 (1e-4 - m)^2 + 1e3 (1e-3 - m)^2) / 1,001,000 = 8.0795e-10;
    A = s2 - m / 500,500 = 6.0636e-10; shrink BIG = A / (A + m / 1e6) = 0.8573, SMALL = A / (A +
    m / 1e3) = 0.0059765: BIG 10.0128, SMALL 10.6274 per 100,000 (the lone event moves the
    small province from 100 to 10.6, next to its country's 10.1)."""
    from ideal.scoring.pillars import smoothed_rates

    u = _units([("MX", "MX-BIG", "0101", "incidents", 100, 1_000_000),
                ("MX", "MX-SMALL", "0101", "incidents", 1, 1_000)])
    out = smoothed_rates(u, 1e5)
    assert out.tolist() == pytest.approx([10.0128, 10.6274], abs=1e-3)
    # real differences survive: two big regions far apart keep most of their difference
    v = _units([("MX", "MX-A", "0101", "incidents", 1000, 1_000_000),
                ("MX", "MX-B", "0101", "incidents", 100, 1_000_000)])
    a, b = smoothed_rates(v, 1e5).tolist()
    assert a == pytest.approx(100, rel=0.01) and b == pytest.approx(10, rel=0.1)


def test_poisson_slope_is_the_yearly_change_and_finite_from_zero():
    from ideal.scoring.pillars import trend_slope

    years = [2023, 2024, 2025]
    rates = pd.DataFrame({"country": "MX", "region": "MX-A", "crime_type": "0101", "year": years,
                          "value": [999.5, 1099.5, 1209.5], "population": 1e6})  # +0.5 each: x1.1 a year
    units = pd.DataFrame({"country": ["MX"], "region": ["MX-A"], "crime_type": ["0101"], "data_year": [2025]})
    change, se = trend_slope(rates, units, 3, shrink=False)
    assert change.iloc[0] == pytest.approx(0.10, abs=1e-6) and se.iloc[0] < 0.05
    zero = rates.assign(value=[0.0, 0.0, 5.0])
    change, _ = trend_slope(zero, units, 3, shrink=False)
    assert np.isfinite(change.iloc[0]) and change.iloc[0] > 1  # 0 -> 5: a big rise, not +infinity


def test_trend_shrinks_towards_the_country_when_the_data_do_not_support_a_difference():
    """Same true trend everywhere (flat), Poisson noise only: the shrunk slopes sit closer
    together than the raw ones."""
    from ideal.scoring.pillars import trend_slope

    rng = np.random.default_rng(7)
    regions = [f"MX-{i}" for i in range(12)]
    rows = [("MX", r, "0101", y, float(rng.poisson(20)), 1e6) for r in regions for y in (2023, 2024, 2025)]
    rates = pd.DataFrame(rows, columns=["country", "region", "crime_type", "year", "value", "population"])
    units = pd.DataFrame({"country": "MX", "region": regions, "crime_type": "0101", "data_year": 2025})
    raw, _ = trend_slope(rates, units, 3, shrink=False)
    shrunk, _ = trend_slope(rates, units, 3, shrink=True)
    assert shrunk.std() < 0.5 * raw.std()


def test_ties_share_the_best_rank_and_direction_reverses_trend_too():
    r = agg.ranks(np.array([[5.0], [7.0], [7.0], [np.nan], [1.0]]))[:, 0]
    assert r[:3].tolist() == [3, 1, 1] and np.isnan(r[3]) and r[4] == 4
    o, p = frame({"MX-JAL": [10.0, 20.0, 40.0], "MX-COL": [40.0, 40.0, 40.0]})
    base, _, _ = score(o, p, RAW, "2025")
    neg = {**RAW, "normalisation": {**RAW["normalisation"], "direction": {"incidents": "negative"}}}
    rev, _, _ = score(o, p, neg, "2025")
    b, v = base.set_index("region"), rev.set_index("region")
    assert v.at["MX-JAL", "trend"] == pytest.approx(10 - b.at["MX-JAL", "trend"])


def test_coverage_counts_the_data_pillars_only():
    m = np.array([[5.0, np.nan, 9.0, np.nan]])  # magnitude, trend missing, harm, spread missing
    assert agg.coverage(m)[0] == 0.5 and agg.coverage(m, [0, 1, 3])[0] == pytest.approx(1 / 3)


def test_coherence_by_hand():
    """Two identical data pillars and a noise-free third: alpha 1; a constant harm pillar
    carries 25 % of the nominal weight and none of the score's variance."""
    from ideal.scoring import coherence

    x = np.array([[1.0, 1.0, 5.0, 1.0], [2.0, 2.0, 5.0, 2.0], [3.0, 3.0, 5.0, 3.0], [4.0, 4.0, 5.0, 4.0]])
    w = np.array([0.4, 0.2, 0.25, 0.15])
    score = (x * w).sum(axis=1)
    r = coherence.report(x, w, score)
    assert r["cronbach_alpha"] == pytest.approx(1.0) and r["first_component_share"] == pytest.approx(1.0)
    assert r["correlations"]["magnitude-trend"] == pytest.approx(1.0)
    assert r["correlations"]["magnitude-harm"] is None  # harm constant: no correlation
    assert r["weights"]["harm"]["effective"] == pytest.approx(0.0)
    assert r["weights"]["magnitude"]["effective"] == pytest.approx(0.4 / 0.75, abs=1e-3)
    assert sum(v["effective"] for v in r["weights"].values()) == pytest.approx(1.0)
    # harm as a scale (v3): no nominal weight of its own; the data pillars' renormalised
    scaled = coherence.report(x, w, score, harm_scales=True)["weights"]
    assert scaled["harm"]["nominal"] is None
    assert scaled["magnitude"]["nominal"] == pytest.approx(0.533, abs=1e-3)
    assert sum(v["nominal"] for k, v in scaled.items() if k != "harm") == pytest.approx(1.0, abs=1e-3)


def test_harm_scales_the_threat_so_no_count_is_no_threat():
    """v3 by hand (RAW measurement, harm as a scale, floor .5): JAL homicide (harm 10) with rate 0
    in 2025 after 0 in 2024: magnitude 0, trend 5 (flat), spread 0 -> data composite
    (.4 x 0 + .2 x 5 + .15 x 0) / .75 = 1.333, x (0.5 + 0.5 x 10 / 10) = 1.333: very low.
    v2 (additive) gave (0 + 1 + 2.5 + 0) = 3.5: low, out of harm alone."""
    o, p = frame({"MX-JAL": [0.0, 0.0], "MX-COL": [0.0, 0.0]})
    scale = {**RAW, "harm": {"mode": "scale", "floor": 0.5}}
    v3, _, _ = score(o, p, scale, "2025")
    v2, _, _ = score(o, p, RAW, "2025")
    jal3, jal2 = v3.set_index("region").loc["MX-JAL"], v2.set_index("region").loc["MX-JAL"]
    assert jal3["score"] == pytest.approx(1.3333, abs=1e-3) and jal3["level"] == "very_low"
    assert jal2["score"] == pytest.approx(3.5, abs=1e-3) and jal2["level"] == "low"
    parts = jal3[["contrib_magnitude", "contrib_trend", "contrib_harm", "contrib_spread"]]
    assert parts.sum() == pytest.approx(jal3["score"], abs=1e-3) and jal3["contrib_harm"] == pytest.approx(0.0)


def test_sobol_indices_are_seeded_bounded_and_name_each_leaders_mover():
    # two countries, regions of very different rates and trends (far beyond Poisson noise, so
    # smoothing keeps them apart): the order depends on the weights and the method
    mx = frame(dict(zip(["MX-AGU", "MX-BCN", "MX-BCS", "MX-CAM"],
                        [[200.0, 180.0, 160.0], [20.0, 22.0, 24.0], [90.0, 80.0, 70.0], [5.0, 6.0, 8.0]], strict=True)))
    gt = frame(dict(zip(["GT-01", "GT-02", "GT-03", "GT-04"],
                        [[10.0, 20.0, 40.0], [100.0, 110.0, 120.0], [50.0, 45.0, 40.0], [30.0, 60.0, 90.0]], strict=True)), "GT")
    o, p = pd.concat([mx[0], gt[0]], ignore_index=True), pd.concat([mx[1], gt[1]], ignore_index=True)
    prof = {**FAST, "uncertainty": {**FAST["uncertainty"], "sobol_samples": 64}}
    a, _, info = score(o, p, prof, "2025")
    b, _, again = score(o, p, prof, "2025")
    s = info["sobol"]
    assert s == again["sobol"]  # seeded
    # v4: the method's choices and the data as one factor; imputation is in the one-at-a-time table
    assert set(s["factors"]) == {"weight_magnitude", "weight_trend", "normalisation", "aggregation",
                                 "harm_floor", "harm_weights", "data"}
    assert {"normalisation", "aggregation", "weights", "harm_weights", "harm_floor", "imputation",
            "data"} <= set(info["sensitivity"])
    for f in s["factors"].values():
        assert f["ST"] is None or -0.5 <= f["ST"] <= 1.5
    assert set(s["convergence"]) == {"max_change_half_to_full", "indices_in_0_1", "converged"}
    assert s["rank_movers"] and all(m["moved_most_by"] in s["factors"] for m in s["rank_movers"])
    assert s["per_unit"] and all(set(u["ST"]) == set(s["factors"]) for u in s["per_unit"])


def test_sobol_at_1024_base_samples_lies_in_0_1_and_converges():
    """The profile's 1024 base samples (#31): every index within [0, 1] up to its interval, and
    the indices of half the samples within 0.05 of all of them."""
    rng = np.random.default_rng(2)  # twenty states, levels and trends of their own
    states = ["AGU", "BCN", "BCS", "CAM", "CHP", "CHH", "COA", "COL", "DUR", "GUA", "GRO", "HID", "JAL",
              "MEX", "MIC", "MOR", "NAY", "NLE", "OAX", "PUE"]
    data = {f"MX-{r}": [float(x) for x in np.round(np.exp(rng.normal(4, 1)) * np.exp(rng.normal(0, 0.2) * np.arange(4)))]
            for r in states}
    prof = {**FAST, "uncertainty": {**FAST["uncertainty"], "sobol_samples": 1024}}
    _, _, info = score(*frame(data), prof, "2025")
    s = info["sobol"]
    assert s["base_samples"] == 1024 and s["convergence"]["indices_in_0_1"] and s["convergence"]["converged"]
    for f in s["factors"].values():
        assert f["S1"] - f["S1_conf"] <= 1 and f["ST"] + f["ST_conf"] >= 0


def test_counts_resampled_from_their_poisson_distribution():
    from ideal.scoring.uncertainty import resample_counts

    rates = pd.DataFrame({"country": "MX", "region": ["MX-JAL", "MX-COL", "MX-AGU"], "crime_type": "0101",
                          "indicator": ["incidents", "seizures_kg", "incidents"], "year": 2025,
                          "value": [40.0, 12.5, 7.0], "population": 100_000.0, "rate": [40.0, 12.5, np.nan]})
    a = resample_counts(rates, np.random.default_rng(1), 100_000)
    b = resample_counts(rates, np.random.default_rng(1), 100_000)
    assert a.equals(b) and rates["value"].tolist() == [40.0, 12.5, 7.0]  # seeded, input untouched
    assert a.at[1, "value"] == 12.5  # kilograms are not counts
    assert np.isnan(a.at[2, "rate"])  # a missing rate stays missing (a year too short to use)
    draws = [resample_counts(rates, np.random.default_rng(s), 100_000).at[0, "value"] for s in range(400)]
    assert all(float(d).is_integer() for d in draws)
    assert np.mean(draws) == pytest.approx(40, abs=1.5) and np.var(draws) == pytest.approx(40, rel=0.3)


def _noisy(population: int):
    # ten regions of one country whose true rates differ by 1 % each: at 10,000 inhabitants the
    # counts are about 3 and their noise dwarfs the differences; at 10 million they do not
    rows, pops = [], []
    for i in range(10):
        region = f"MX-{['AGU', 'BCN', 'BCS', 'CAM', 'CHH', 'CHP', 'COA', 'COL', 'DUR', 'GUA'][i]}"
        for year in (2022, 2023, 2024, 2025):
            rows.append(("MX", region, str(year), "0101", "incidents", round(population * 3e-4 * (1 + i / 100) * (1 + i / 10 * (year - 2022) / 10)), "A"))
            pops.append(("MX", region, year, population, 0))
    o = pd.DataFrame(rows, columns=["country", "region", "period", "crime_type", "indicator", "value", "obs_status"])
    gt = frame({"GT-01": [50.0, 60.0, 70.0, 80.0]}, "GT")
    o = pd.concat([o, gt[0]], ignore_index=True)
    p = pd.concat([pd.DataFrame(pops, columns=["country", "region", "year", "population", "synthetic"]), gt[1]],
                  ignore_index=True)
    return o, p


def test_v4_probabilities_of_ranking_and_wider_intervals_for_small_counts():
    """v4's headline draws vary the data alone: the probabilities of ranking first add up to
    one over the units (no ties in continuous draws), the top-10 and top-15 ones are at least
    the first's, and a small population's ranks are wider than a large one's."""
    width = {}
    for label, pop_size in (("small", 10_000), ("large", 10_000_000)):
        o, p = _noisy(pop_size)
        s, _, info = score(o, p, FAST, "2025")
        assert s["p_first"].sum() == pytest.approx(1.0, abs=0.03)
        assert (s["p_top10"] >= s["p_first"]).all() and (s["p_top15"] >= s["p_top10"]).all()
        assert info["monte_carlo"]["draws"] == 40 and info["monte_carlo"]["method"] == "held at the profile's"
        width[label] = (s["rank_p95"] - s["rank_p5"]).mean()
    assert width["small"] > width["large"] + 1


def test_rank_intervals_carry_the_noise_of_small_counts():
    """v3 (kept for comparison): counts resampled from Poisson widen a small region's ranks."""
    prof = {**FAST3, "uncertainty": {**FAST3["uncertainty"], "draws": 200, "data_variants": 8}}
    still = {**prof, "uncertainty": {**prof["uncertainty"], "resample_counts": False}}
    width = {}
    for label, pop_size in (("small", 10_000), ("large", 10_000_000)):
        o, p = _noisy(pop_size)
        s, _, info = score(o, p, prof, "2025")
        s0, _, _ = score(o, p, still, "2025")
        w = (s["rank_p95"] - s["rank_p5"]).mean()
        w0 = (s0["rank_p95"] - s0["rank_p5"]).mean()
        width[label] = (w, w0)
        assert info["monte_carlo"]["resample_counts"] is True and info["monte_carlo"]["data_variants"] == 8
        assert {"counts", "trend_window", "goalposts", "harm_weights", "spread_threshold"} <= set(info["sensitivity"])
    # resampling widens the intervals of the small regions, much more than of the large ones
    assert width["small"][0] > width["small"][1] + 1
    assert width["small"][0] - width["small"][1] > width["large"][0] - width["large"][1]


def test_one_at_a_time_leaves_out_the_profiles_own_choice():
    o, p = frame({"MX-JAL": [10.0, 20.0], "MX-COL": [40.0, 30.0]})
    only = {**FAST, "uncertainty": {**FAST["uncertainty"], "normalisation": ["minmax"], "aggregation": ["arithmetic"],
                                    "trend_windows": [3], "spread_thresholds": [5.0], "goalpost_spread": 0,
                                    "harm_spread": 0, "resample_counts": False, "data_variants": 0}}
    s, _, info = score(o, p, only, "2025")
    sens = info["sensitivity"]
    # only the profile's own option is listed for these: nothing varies, no shift
    assert sens["normalisation"] == 0 and sens["aggregation"] == 0
    assert not {"counts", "trend_window", "goalposts", "harm_weights", "spread_threshold"} & set(sens)
    assert s["rank_p5"].notna().all()  # the draws still run, on the profile's data


def test_trend_is_stored_with_its_interval():
    """Each score keeps the yearly change of its trend and the slope's standard error; the
    annex CSV gives the 95 % interval, wider for a region with few events."""
    import io

    from ideal.report.annex import scores_csv

    o, p = frame({"MX-JAL": [100.0, 120.0, 144.0, 172.8], "MX-COL": [2.0, 3.0, 2.0, 4.0]})
    s, _, _ = score(o, p, FAST, "2025")
    assert {"rate_model", "trend_change", "trend_se"} <= set(s)
    table = pd.read_csv(io.StringIO(scores_csv(s))).set_index("region")
    assert (table["trend_low"] <= table["trend_change"]).all() and (table["trend_change"] <= table["trend_high"]).all()
    width = table["trend_high"] - table["trend_low"]
    assert width["MX-COL"] > 3 * width["MX-JAL"]


def test_rank_intervals_drawn_in_blocks_equal_those_of_all_draws_at_once():
    """The Monte Carlo's ranks computed a block of draws at a time (bounded memory) give the
    same median and 5-95 % ranks as all draws at once."""
    from ideal.scoring import uncertainty as mc

    rng = np.random.default_rng(3)
    units, pillars = 300, 4
    key = ("minmax", "carry_forward")
    matrices = {key: rng.uniform(0, 10, (units, pillars))}
    matrices[key][rng.random((units, pillars)) < 0.05] = np.nan
    eligible = {key: rng.random(units) > 0.1}
    profile = {"uncertainty": {"seed": 5, "draws": 250, "weight_spread": 0.2,
                               "normalisation": ["minmax"], "aggregation": ["arithmetic", "geometric"],
                               "imputation": ["carry_forward"]}}
    plan = mc.draws(profile, np.full(pillars, 0.25), 1)
    whole = mc.rank_intervals(mc.composite_draws([(matrices, eligible)], plan, profile))
    blocks = mc.drawn_rank_intervals([(matrices, eligible)], plan, profile, per_block=37)
    for a, b in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(whole[0][~eligible[key]]).all()
