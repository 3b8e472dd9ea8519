"""The simulation study (bench/simulation.py) on a small truth, with floors below its targets
so it cannot flake: v4's rates and trends follow the true ones at least about as well as the
plain reference estimators, and its 95 % trend intervals cover the truth in most units."""

from bench.simulation import study


def test_v4_follows_a_known_truth_with_calibrated_trend_intervals():
    res = study(seed=1, countries=5, regions=20, draws=10)  # 100 regions, 2 crime types
    for crime, r in res.items():
        assert r["magnitude"]["ideal_v4"] > 0.85, crime
        assert r["magnitude"]["ideal_v4"] >= r["magnitude"]["reference"] - 0.02, crime
        assert r["trend"]["ideal_v4"] >= r["trend"]["reference"] - 0.05, crime
        assert 0.8 <= r["coverage_95"] <= 1.0, crime
