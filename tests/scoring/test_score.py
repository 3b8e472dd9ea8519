import numpy as np
import pandas as pd
import pytest

from ideal import reference
from ideal.errors import ConfigError
from ideal.scoring.profile import check_profile, load_profile, profile_hash
from ideal.scoring.score import (add_rates, annual_values, band, choose_indicator, country_scores,
                                 minmax, national_totals, normalise, score, top_threats)
from tests.conftest import real_file

PROFILE = load_profile("default")


def obs(rows):
    return pd.DataFrame(rows, columns=["country", "region", "period", "crime_type", "indicator",
                                       "value"])


def pop(rows):
    return pd.DataFrame(rows, columns=["country", "region", "year", "population"]).assign(synthetic=0)


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
    p = pop([("MX", "MX-JAL", 2025, 1_000_000), ("MX", "MX-AGU", 2025, 500_000)])
    out = add_rates(v, p).set_index(["region", "crime_type"])
    assert out.at[("MX-JAL", "0101"), "rate"] == pytest.approx(5.0)
    assert out.at[("MX", "0703"), "rate"] == pytest.approx(2.0)
    assert np.isnan(out.at[("MX-COL", "0101"), "rate"])


def test_minmax_and_no_spread():
    assert minmax(pd.Series([2.0, 4.0, 6.0])).tolist() == [0.0, 5.0, 10.0]
    assert minmax(pd.Series([3.0, 3.0])).tolist() == [0.0, 0.0]


def test_bands_upper_bounds_inclusive():
    assert band(pd.Series([0.0, 2.0, 2.01, 6.0, 8.5, 10.0]), PROFILE["bands"]).tolist() == \
        ["very_low", "very_low", "low", "medium", "very_high", "very_high"]


def test_score_end_to_end_on_tiny_frame():
    o = obs([("MX", f"MX-{r}", "2025", "0101", "incidents", v)
             for r, v in [("JAL", 10.0), ("COL", 20.0), ("AGU", 40.0)]] +
            [("MX", "MX-ZAC", "2025", "0101", "incidents", 5.0)])
    p = pop([("MX", f"MX-{r}", 2025, 100_000) for r in ("JAL", "COL", "AGU")])
    scores, unscored = score(o, p, PROFILE, "2025")
    s = scores.set_index("region")
    assert s.at["MX-JAL", "score"] == 0 and s.at["MX-AGU", "score"] == 10
    assert s.at["MX-COL", "score"] == pytest.approx(10 / 3, abs=1e-3)
    assert s.at["MX-AGU", "level"] == "very_high"
    assert unscored["region"].tolist() == ["MX-ZAC"]
    roll = country_scores(scores)
    assert roll.loc[0, "score"] == pytest.approx((0 + 10 / 3 + 10) / 3, abs=1e-3)
    harm = reference.iccs().set_index("code")["harm_weight"]
    assert top_threats(scores, harm, 1)["region"].tolist() == ["MX-AGU"]


def test_profile_checked_and_hashed(tmp_path):
    assert profile_hash(PROFILE) == profile_hash(load_profile("default"))
    bad = dict(PROFILE, bands=[{"level": "x", "max": 5}])
    with pytest.raises(ConfigError, match="last band"):
        check_profile(bad, "bad")
    with pytest.raises(ConfigError, match="missing key 'rate_per'"):
        check_profile({k: v for k, v in PROFILE.items() if k != "rate_per"}, "bad")
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
             for c, n in zip(per_state["cve_ent"], per_state["n"])])
    rated = add_rates(o, reference.population()).set_index("region")
    expected = per_state.assign(region=per_state["cve_ent"].map(regions)).set_index("region")["rate"]
    assert rated["rate"].to_numpy() == pytest.approx(expected[rated.index].to_numpy(), rel=1e-4)
