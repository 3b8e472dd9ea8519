import pandas as pd
import pytest

from ideal import reference
from ideal.config import DEFAULT_MEMBERS, get_settings
from ideal.errors import ConfigError
from tests.conftest import real_file

REQUIRED_ICCS = ["0101", "0204", "0601", "0703", "07041", "0903", "09012", "09051", "1003",
                 "0401", "020221", "02051"]


def test_default_members_are_the_18_partners(ideal_env):
    assert ideal_env.members == tuple(DEFAULT_MEMBERS)
    assert len(ideal_env.members) == 18


def test_members_configurable_and_checked(monkeypatch):
    monkeypatch.setenv("IDEAL_MEMBERS", "mx, co")
    assert get_settings().members == ("MX", "CO")
    monkeypatch.setenv("IDEAL_MEMBERS", "MX XX")
    with pytest.raises(ConfigError, match="XX"):
        get_settings()


def test_first_level_regions_of_members_from_pycountry():
    regions = reference.regions(DEFAULT_MEMBERS)
    assert len(regions) == 355
    assert {"MX-JAL", "CO-ANT", "AR-C", "BR-SP"} <= set(regions["region"])
    assert regions["region"].is_unique


def test_iccs_has_required_codes_and_three_languages():
    iccs = reference.iccs().set_index("code")
    assert set(REQUIRED_ICCS) <= set(iccs.index)
    for code in REQUIRED_ICCS:
        for lang in ("en", "es", "pt"):
            assert iccs.at[code, f"name_{lang}"].strip()
        assert 1 <= iccs.at[code, "harm_weight"] <= 10
    # every parent named in the file is in the file, and codes nest under their parent
    for code, parent in iccs["parent"].items():
        if parent:
            assert parent in iccs.index and code.startswith(parent)
    assert reference.crime_name("020221", "es") == "Secuestro"


def test_indicators_have_units():
    ind = reference.indicators().set_index("code")
    assert ind.at["seizures_kg", "unit"] == "kg"
    assert ind.at["incidents", "kind"] == "count"


def test_population_covers_every_region_and_marks_synthetic():
    pop = reference.population()
    regions = set(reference.regions(DEFAULT_MEMBERS)["region"])
    for year in range(2015, 2027):
        assert set(pop.loc[pop["year"] == year, "region"]) == regions
    assert (pop["population"] > 0).all()
    assert set(pop.loc[pop["country"] == "MX", "synthetic"]) == {0}
    assert set(pop.loc[pop["country"] != "MX", "synthetic"]) == {1}
    assert pop["source"].str.len().gt(0).all()


def test_mexican_population_is_conapo_mid_year():
    """The shipped Mexican figures equal CONAPO's mid-year totals (real file)."""
    conapo = pd.read_csv(real_file("mx_conapo_poblacion_estatal",
                                   "conapo_pob_ent_gender_1950_2070.csv"), dtype={"cve_ent": str})
    jal = conapo[(conapo["cve_ent"] == "14") & (conapo["genero"] == "Total") &
                 (conapo["n_year"] == 2024)]["pob_mid_year"].iloc[0]
    pop = reference.population()
    ours = pop[(pop["region"] == "MX-JAL") & (pop["year"] == 2024)]["population"].iloc[0]
    assert ours == round(jal)
    national = conapo[(conapo["cve_ent"] == "00") & (conapo["genero"] == "Total") &
                      (conapo["n_year"] == 2024)]["pob_mid_year"].iloc[0]
    assert pop[(pop["country"] == "MX") & (pop["year"] == 2024)]["population"].sum() == \
        pytest.approx(national, abs=32)


def test_country_names_localised():
    assert reference.country_name("BR", "es") == "Brasil"
    assert reference.country_name("MX", "en") == "Mexico"
    assert reference.country_name("DO", "es") == "República Dominicana"
