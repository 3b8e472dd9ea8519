"""Normalisation, outliers, aggregation, ranks and Monte Carlo: hand-computed examples and
properties (hypothesis)."""

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
FAST = {**PROFILE, "uncertainty": {**PROFILE["uncertainty"], "draws": 40}}


def test_minmax_goalposts_caps_and_log():
    v = pd.Series([0.0, 25.0, 50.0, 80.0])
    assert nz.minmax_goalposts(v, 0, 50).tolist() == [0, 5, 10, 10]
    assert nz.minmax_goalposts(pd.Series([np.log1p(50)]), 0, 50, log=True).iloc[0] == pytest.approx(10)
    with pytest.raises(ValueError):
        nz.minmax_goalposts(v, 5, 5)


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


@settings(max_examples=20, deadline=None)
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


@settings(max_examples=15, deadline=None)
@given(regions, regions)
def test_unrelated_country_changes_nothing_with_fixed_goalposts(data, other):
    o, p = frame(data)
    base, _, _ = score(o, p, FAST, "2025")
    o2, p2 = frame({r.replace("MX-", "CO-"): v for r, v in other.items()}, country="CO")
    both, _, _ = score(pd.concat([o, o2]), pd.concat([p, p2]), FAST, "2025")
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
    base, _, _ = score(o, p, FAST, "2025")
    neg = {**FAST, "normalisation": {**FAST["normalisation"], "direction": {"incidents": "negative"}}}
    rev, _, _ = score(o, p, neg, "2025")
    b, r = base.set_index("region"), rev.set_index("region")
    assert r.at["MX-JAL", "magnitude"] == pytest.approx(10 - b.at["MX-JAL", "magnitude"])
    logged = {**FAST, "outliers": {**FAST["outliers"], "method": "log"}}
    lg, _, info = score(o, p, logged, "2025")
    assert info["outliers"] == {"0101": "log"}
    assert lg.set_index("region").at["MX-JAL", "magnitude"] == pytest.approx(np.log1p(10) / np.log1p(50) * 10, abs=1e-4)
    roll = region_scores(base)
    assert roll.loc[0, "score"] == pytest.approx(base["score"].mean()) and roll.loc[0, "countries"] == 1
