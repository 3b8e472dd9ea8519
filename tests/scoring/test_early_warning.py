"""Early warning on generated monthly series whose truth is known: surges injected into some,
none in the others. Reports the share of surges detected and the false alarms per 100 unchanged
series (the closing note quotes them); asserts floors well below the measured figures."""

import numpy as np
import pandas as pd
import pytest

from ideal.scoring.early_warning import detect, early_warning

MONTHS = pd.period_range("2023-01", "2025-12", freq="M").strftime("%Y-%m").tolist()  # 36


def generated(n: int, factor: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """n series of 36 months, means log-uniform from 1 to 60 a month; with factor != 1 the mean
    is multiplied from a random month of the monitored last 12 (its index returned)."""
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.uniform(np.log(1), np.log(60), n))
    start = rng.integers(24, 33, n) if factor != 1 else np.full(n, 99)
    t = np.arange(36)
    mean = mu[:, None] * np.where(t[None, :] >= start[:, None], factor, 1.0)
    counts = rng.poisson(mean).astype(float)
    index = pd.MultiIndex.from_arrays([["MX"] * n, [f"MX-{i:03d}" for i in range(n)], ["0101"] * n,
                                       ["incidents"] * n], names=["country", "region", "crime_type", "indicator"])
    return pd.DataFrame(counts, index=index, columns=MONTHS), start


def rates(n: int = 400, seed: int = 7) -> dict:
    null, _ = generated(n, 1.0, seed)
    false_alarms = len(detect(null)) / n * 100
    out = {"false_alarms_per_100": round(false_alarms, 2)}
    for factor in (1.5, 2.0, 3.0):
        surged, start = generated(n, factor, seed + int(factor * 10))
        found = detect(surged).set_index("region")
        detected = sum(1 for i, r in enumerate(surged.index.get_level_values("region"))
                       if r in found.index and MONTHS.index(found.at[r, "alarm"]) >= start[i])
        out[f"detected_x{factor:g}"] = round(detected / n, 3)
    return out


def test_surges_are_found_and_unchanged_series_rarely_alarm():
    r = rates()
    print("early warning on generated series:", r)
    assert r["false_alarms_per_100"] <= 6
    assert r["detected_x2"] >= 0.7 and r["detected_x3"] >= 0.9
    assert r["detected_x1.5"] >= 0.3


def test_an_alarm_says_when_the_rise_started_and_how_big_it_is():
    counts = [10.0] * 24 + [10, 11, 9, 10, 30, 31, 29, 30, 32, 30, 31, 30]
    series = pd.DataFrame([counts], columns=MONTHS, index=pd.MultiIndex.from_tuples(
        [("MX", "MX-JAL", "0101", "incidents")], names=["country", "region", "crime_type", "indicator"]))
    (row,) = detect(series).to_dict("records")
    # z = 2(sqrt(30.375) - sqrt(10.375)) = 4.58 a month: S = 4.08 in May, 8.16 in June (> h = 5)
    assert row["started"] == "2025-05" and row["alarm"] == "2025-06"
    assert row["baseline"] == 10 and row["ratio"] == pytest.approx(3.04, abs=0.01) and row["months"] == 8


def test_sparse_or_annual_series_raise_nothing():
    obs = pd.DataFrame({"country": "MX", "region": "MX-JAL", "crime_type": "0101", "indicator": "incidents",
                        "period": ["2023", "2024", "2025"], "value": [10.0, 50.0, 200.0]})
    assert early_warning(obs, "2025", ["incidents"]).empty
    rare = [0.0] * 24 + [0, 0, 3, 4, 5, 2, 0, 0, 0, 0, 0, 0]  # a baseline mean under 1 a month
    monthly = pd.DataFrame({"country": "MX", "region": "MX-JAL", "crime_type": "0101", "indicator": "incidents",
                            "period": MONTHS, "value": rare})
    assert early_warning(monthly, "2025", ["incidents"]).empty


# v4: regression baseline, Simes per series, Benjamini-Hochberg across series (bench/early_warning.py)

def test_v5_meets_its_false_alarm_and_detection_figures_on_simulated_series():
    """The study of `make bench` on 1,000 series (trends +-15 %/year, seasonality up to +-40 %,
    over-dispersion): floors a little below the bench's targets."""
    from bench.early_warning import study

    r = study(n=1000, seed=11)
    assert r["false_alarm_share_per_year"] <= 0.02
    assert r["doublings_found_within_3_months"] >= 0.75


def test_v5_with_nothing_changed_rarely_raises_any_alarm_where_v4_did():
    """#48: with nothing changed in 1,000 series, Benjamini-Hochberg at 5 % should raise any
    alarm in at most 5 % of runs; with each series' dispersion taken as known (v4) the far-tail
    p-values are too small and a third of runs raise one. 15 runs, fixed seeds: about one
    expected at 5 %, at most 2 allowed (the bench measures it on 1,000 runs: 6.7 %, v4 38.6 %)."""
    from bench.early_warning import V4, null_runs

    v5 = null_runs(15, seed=500)
    v4 = null_runs(15, seed=500, settings=V4)
    assert v5["runs_with_an_alarm"] <= 2
    assert v4["runs_with_an_alarm"] >= 4


def test_dispersion_posterior_keeps_small_series_near_poisson_and_learns_large_ones():
    """The shared prior: a small series' dispersion stays near 1 whatever its own noisy
    estimate; a large over-dispersed series' posterior centres on its own estimate."""
    from ideal.scoring.early_warning import dispersion_posterior

    rng = np.random.default_rng(3)
    n = 400
    mean = np.where(np.arange(n) < 200, 5.0, 400.0)
    true_phi = 1 + 0.03 * mean
    pearson = true_phi * rng.chisquare(32, n) / 32
    nodes, weights = dispersion_posterior(pearson, np.full(n, 32.0), mean)
    assert np.allclose(weights.sum(axis=1), 1)
    post_mean = (nodes * weights).sum(axis=1)
    assert np.all(post_mean[:200] < 1.5)                    # small: 1 + 0.03 x 5 = 1.15
    large = post_mean[200:] / true_phi[200:]
    assert 0.9 < np.median(large) < 1.1                     # large: 13, learnt from the data


def test_v4_ordinary_trend_and_seasons_do_not_alarm_where_v3_did():
    """+10 %/year and +-20 % seasons around 50 a month, negative-binomial noise: the v3 CUSUM
    alarms on many of them, the v4 regression baseline follows each series' own trend and
    seasons."""
    from ideal.scoring.early_warning import detect_regression

    rng = np.random.default_rng(5)
    months = pd.period_range("2021-01", "2024-12", freq="M").strftime("%Y-%m").tolist()  # 48
    t = np.arange(48)
    n = 300
    mean = 50 * 1.1 ** (t / 12) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    lam = rng.gamma(1 / 0.02, mean[None, :] * 0.02, size=(n, 48))
    counts = rng.poisson(lam).astype(float)
    index = pd.MultiIndex.from_arrays([["MX"] * n, [f"MX-{i:03d}" for i in range(n)], ["0101"] * n,
                                       ["incidents"] * n], names=["country", "region", "crime_type", "indicator"])
    series = pd.DataFrame(counts, index=index, columns=months)
    alarms, info = detect_regression(series)
    assert info["series"] == n and info["countries"] == 1
    assert len(alarms) / n <= 0.02
    assert len(detect(series)) / n > 0.2  # v3's CUSUM against a flat mean: the trend alarms


def test_v4_says_what_it_monitored_and_nothing_without_three_years():
    from ideal.scoring.early_warning import detect_regression

    short, _ = generated(20, 1.0, 3)  # 36 months: 24 baseline months, fewer than 36 + 12
    alarms, info = detect_regression(short.iloc[:, :20])
    assert alarms.empty and info["series"] == 0
    alarms, info = detect_regression(pd.DataFrame())
    assert alarms.empty and info["series"] == 0 and info["countries"] == 0


def test_benjamini_hochberg_by_hand():
    from ideal.scoring.early_warning import benjamini_hochberg

    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # q = 0.05: k/m x q = 0.005, 0.010, 0.015, ...: the largest p(k) <= k q / m is p(2) = 0.008
    assert benjamini_hochberg(p, 0.05) == 0.008
    assert benjamini_hochberg(np.array([0.5, 0.9]), 0.05) == -1.0
    assert benjamini_hochberg(np.array([0.0, 0.9]), 0.05) == 0.0  # a p-value of 0 is rejected
