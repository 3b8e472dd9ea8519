"""The nowcast of a partial year (ideal.scoring.nowcast) on simulated truth: strongly seasonal
monthly counts with over-dispersion, where the plain x12/n annualisation is biased."""

import numpy as np
import pandas as pd
import pytest

from ideal.scoring import nowcast as nc


def simulate(n_units: int = 240, years: range = range(2015, 2023), seed: int = 7) -> pd.DataFrame:
    """Monthly counts: a level per unit (20-400 a month), a seasonal profile of amplitude 40 %
    peaking in the southern summer (shared by the country, shifted a little per unit), a trend
    of -5 to +10 % a year and log-normal month-to-month noise (sd 0.12) on top of Poisson."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        level = rng.uniform(20, 400)
        phase = rng.normal(0, 0.3)
        growth = rng.uniform(-0.05, 0.10)
        for i, y in enumerate(years):
            for m in range(1, 13):
                mu = level * (1 + growth) ** (i + m / 12) * (1 + 0.4 * np.cos(2 * np.pi * (m - 1) / 12 + phase))
                mu *= np.exp(rng.normal(0, 0.12))
                rows.append(("XX", f"XX-{u:03d}", "0101", "incidents", y, m, float(rng.poisson(mu))))
    return pd.DataFrame(rows, columns=[*nc.KEYS, "year", "month", "value"])


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return simulate()


def held_out(series: pd.DataFrame, known: int, year: int = 2022) -> tuple[pd.DataFrame, pd.Series]:
    """(the partial rows of ``year`` knowing its first ``known`` months, the true full years)."""
    this = series[series["year"] == year]
    truth = this.groupby(nc.KEYS)["value"].sum()
    part = (this[this["month"] <= known].groupby(nc.KEYS, as_index=False)["value"].sum()
            .rename(columns={"value": "known"}).assign(year=year, mask=nc.mask_of(range(1, known + 1))))
    return part, truth


@pytest.mark.parametrize("known", [3, 6, 9])
def test_the_nowcast_beats_x12_over_n_and_its_intervals_hold(series, known):
    """Three years held out in turn (720 unit-years), each nowcast from the five before."""
    err_now, err_x12, covered = [], [], []
    for year in (2020, 2021, 2022):
        part, truth = held_out(series, known, year)
        est = nc.nowcast(series[series["year"] < year], part, history_years=5, interval=0.9).set_index(nc.KEYS)
        t = truth.reindex(est.index)
        assert (est["source"] == "unit").all() and (est["history"] == 5).all()
        err_now.append((est["value"] / t - 1).abs())
        err_x12.append((est["known"] * 12 / known / t - 1).abs())
        covered.append((t >= est["lo"]) & (t <= est["hi"]))
    assert pd.concat(err_now).median() < 0.7 * pd.concat(err_x12).median()  # x12/n misses the season
    assert 0.85 <= pd.concat(covered).mean() <= 0.95, pd.concat(covered).mean()


def test_the_interval_grows_as_fewer_months_are_known(series):
    widths = []
    for known in (9, 6, 3):
        part, _ = held_out(series, known)
        est = nc.nowcast(series[series["year"] < 2022], part)
        widths.append(float(((est["hi"] - est["lo"]) / est["value"]).median()))
    assert widths[0] < widths[1] < widths[2]


def test_a_unit_without_history_borrows_its_countrys_profile(series):
    part, truth = held_out(series, 6)
    history = series[series["year"] < 2022]
    lonely = part["region"].iloc[0]
    history = history[(history["region"] != lonely) | (history["year"] == 2021)]  # one year only
    est = nc.nowcast(history, part, min_history_years=2).set_index("region")
    assert est.at[lonely, "source"] == "country"
    assert est.at[lonely, "lo"] <= est.at[lonely, "value"] <= est.at[lonely, "hi"]
    others = est.drop(index=lonely)
    assert (others["source"] == "unit").all()
    # borrowed: wider than the unit's own would be
    own = nc.nowcast(series[series["year"] < 2022], part).set_index("region")
    assert (est.at[lonely, "hi"] - est.at[lonely, "lo"]) > (own.at[lonely, "hi"] - own.at[lonely, "lo"])


def test_no_history_no_nowcast():
    months = pd.DataFrame(columns=[*nc.KEYS, "year", "month", "value"])
    part = pd.DataFrame([("XX", "XX-A", "0101", "incidents", 2022, 30.0, nc.mask_of([1, 2, 3]))],
                        columns=[*nc.KEYS, "year", "known", "mask"])
    est = nc.nowcast(months, part)
    assert est["value"].isna().all() and est["source"].isna().all()


def test_months_of_spreads_quarters_and_reads_months():
    obs = pd.DataFrame([("XX", "XX-A", "0101", "incidents", "2022-Q1", 30.0),
                        ("XX", "XX-A", "0101", "incidents", "2022-04", 7.0),
                        ("XX", "XX-A", "0101", "incidents", "2022", 99.0)],
                       columns=[*nc.KEYS, "period", "value"])
    m = nc.months_of(obs).set_index("month")["value"]
    assert m.to_dict() == {1: 10.0, 2: 10.0, 3: 10.0, 4: 7.0}


def test_mask_from_coverage():
    assert nc.mask_from_coverage("3/12: 01-03") == 0b111
    assert nc.mask_from_coverage("5/12: 01-03, 06, 08") == nc.mask_of([1, 2, 3, 6, 8])
    assert nc.mask_from_coverage("3/12") is None
    assert nc.mask_from_coverage(None) is None
