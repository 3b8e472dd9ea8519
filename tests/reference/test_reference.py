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


# regions with no figure in any source found (scripts/build_population.py; README): their units
# are listed as "no population figure", never given an invented denominator
NO_FIGURE = {"PA-NT", "VE-W"}  # Naso Tjër Di comarca (created 2020); Dependencias Federales


def test_population_covers_every_region_with_a_stated_method_and_no_synthetic_rows():
    pop = reference.population()
    regions = set(reference.regions(DEFAULT_MEMBERS)["region"])
    for year in range(2015, 2027):
        assert set(pop.loc[pop["year"] == year, "region"]) == regions - NO_FIGURE
    assert (pop["population"] > 0).all()
    assert set(pop["method"]) <= {"official", "interpolated", "extrapolated", "modelled"}
    assert pop["synthetic"].eq(0).all() and pop["source"].str.len().gt(0).all()
    official = {"MX", "AR", "CL", "CO", "PE", "BR"}  # yearly series of the statistics offices
    assert set(pop.loc[pop["method"] == "official", "country"]) >= official


def test_population_matches_the_national_figures_checked_in_the_sources():
    """Regions sum to the national figures the leads were checked against (population-
    sources.md): a region set wrong by a factor would break these."""
    pop = reference.population()
    total = pop.groupby(["country", "year"])["population"].sum()
    for cc, year, millions in (("MX", 2015, 122.37), ("MX", 2025, 133.37), ("AR", 2020, 45.38),
                               ("CL", 2025, 20.21), ("CO", 2020, 50.39), ("PE", 2015, 29.96),
                               ("BR", 2015, 204.45), ("BO", 2020, 11.63)):
        assert total[(cc, year)] / 1e6 == pytest.approx(millions, abs=0.02), (cc, year)
    share = pop.groupby(["country", "year"])["population"].transform(lambda s: s / s.sum())
    assert share.max() < 0.45  # no region holds nearly half a country (Montevideo 40 %)


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
