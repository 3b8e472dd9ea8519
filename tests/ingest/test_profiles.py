"""The real national files of ../shared/data/real through their crosswalk profiles: each
quirk the README lists is reported to the steward, not silently fixed."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ideal.ingest import registry
from ideal.ingest.formats import read_submission
from ideal.ingest.sniff import ReadOptions
from tests.conftest import real_file


def parse(*parts):
    path = real_file(*parts)
    return read_submission(path.read_bytes(), path.name)


def rules(parsed):
    return dict(zip(parsed.findings["rule"], parsed.findings["message"], strict=False))


@pytest.fixture(scope="module")
def sesnsp():
    return parse("mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2")


def test_profiles_load_and_are_detected_by_columns():
    assert set(registry.names()) == {"mx_sesnsp_estatal", "mx_inegi_mensual",
                                         "ar_snic_provincias", "co_homicidios_municipal"}


def test_sesnsp(sesnsp):
    assert sesnsp.format == "profile:mx_sesnsp_estatal" and "compression: bzip2" in sesnsp.notes
    f = sesnsp.frame
    # 32 states + the national rows, 11 years, 8 ICCS codes mapped
    assert set(f["crime_type"]) == {"0101", "020221", "0204", "02051", "0401", "0502", "0601", "0703"}
    assert f["region"].nunique() == 33 and "MX" in set(f["region"])
    assert f["period"].nunique() == 11
    # homicidio doloso + feminicidio summed for Jalisco 2024, checked against the source
    src = pd.read_csv(real_file("mx_sesnsp_incidencia_estatal_anual",
                                "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2"), dtype={"cve_ent": str})
    want = src[(src["cve_ent"] == "14") & (src["n_year"] == 2024) &
               src["subtipo_de_delito"].isin(["Homicidio doloso", "Feminicidio"])]["n_delitos"].sum()
    got = f[(f["region"] == "MX-JAL") & (f["period"] == "2024") & (f["crime_type"] == "0101")]
    assert got["value_number"].tolist() == [want]
    r = rules(sesnsp)
    assert "category_out_of_scope" in r and "Homicidio culposo" in r["category_out_of_scope"]
    assert "category_unmapped" not in r  # every SESNSP category is mapped or stated out of scope
    # its rates are CONAPO's: no rate warning
    assert "rate_matches_count_population" not in r


def test_inegi_pipe_file_and_its_outdated_population():
    p = parse("mx_inegi_homicidios_estatal_mensual", "mexico-state-month-homicide-rates-2000-2022.csv")
    assert "separator: pipe" in p.notes and len(p.frame) == 32 * 23 * 12
    assert p.frame["period"].iloc[0] == "2000-01" and set(p.frame["indicator"]) == {"victims"}
    msg = rules(p)["rate_matches_count_population"]
    assert "2020:" in msg and "outdated" in msg


def test_snic_parent_and_child_codes_and_suicide_denominator():
    p = parse("ar_snic_provincias", "snic-provincias.csv")
    r = rules(p)
    assert "parent categories 11, 14, 21, 22, 28, 29" in r["parent_and_child_categories"]
    assert "keep the sub-categories" in r["parent_and_child_categories"]
    assert "Suicidios" in r["rate_denominator_consistent"]
    assert "line endings: CRLF (Windows)" in p.notes
    assert any("empty 'cantidad_victimas'" in n for n in p.notes)
    f = p.frame
    # no double counting: drugs 2018 in Buenos Aires equal the parent code 28 of the source
    src = pd.read_csv(real_file("ar_snic_provincias", "snic-provincias.csv"), dtype=str, keep_default_na=False)
    parent = float(src[(src["provincia_id"] == "06") & (src["anio"] == "2018") &
                       (src["codigo_delito_snic_id"] == "28")]["cantidad_hechos"].iloc[0])
    got = f[(f["region"] == "AR-B") & (f["period"] == "2018") & (f["crime_type"] == "0601") &
            (f["indicator"] == "incidents")]["value_number"]
    assert got.tolist() == [parent]
    # trafficking (14_1 + 14_2) exists from 2017 only; leading-dot decimals parsed
    assert f.loc[f["crime_type"] == "0204", "period"].min() == "2017"


def test_colombia_rolled_up_with_code_and_name_errors_reported():
    p = parse("co_homicidios_municipal_2024", "datos3.csv")
    f = p.frame
    assert len(f) == 33 and set(f["period"]) == {"2024"}
    src = pd.read_csv(real_file("co_homicidios_municipal_2024", "datos3.csv"))
    assert f["value_number"].sum() == src["homicidios"].sum()
    bogota = f[f["region"] == "CO-DC"]["value_number"].iloc[0]
    assert bogota == src[src["codigo_dane"] == 11001]["homicidios"].iloc[0]
    r = rules(p)
    assert "'CUNDINAMARCA' does not match code 11001 (CO-DC)" in r["region_name_matches_code"]
    assert "91407" in r["municipality_name_unique"] and "Leticia" in p.findings.set_index("rule").at[
        "municipality_name_unique", "value"]
    assert any("zeros are implicit" in n for n in p.notes)


def test_unmapped_category_is_reported_never_dropped_silently():
    data = ("n_year,cve_ent,nombre_estado,bien_juridico_afectado,tipo_de_delito,subtipo_de_delito,"
            "modalidad,n_delitos,n_delitos_x100khab,n_delitos_x100kmujeres\n"
            "2024,14,Jalisco,x,Homicidio,Homicidio doloso,Con arma de fuego,10,0.1,NA\n"
            "2024,14,Jalisco,x,Piratería,Piratería,Piratería,5,0.05,NA\n")
    p = read_submission(data.encode(), "mx.csv")
    r = rules(p)
    assert "Piratería" in r["category_unmapped"] and "5" not in p.frame["value"].tolist()
    assert p.frame["value_number"].tolist() == [10]


def test_profile_can_be_forced_and_unknown_profile_is_named():
    data = real_file("co_homicidios_municipal_2024", "datos3.csv").read_bytes()
    assert read_submission(data, "x.csv", ReadOptions(profile="co_homicidios_municipal")).format.endswith("municipal")
    with pytest.raises(Exception, match="no crosswalk profile 'nope'"):
        read_submission(data, "x.csv", ReadOptions(profile="nope"))


def test_colombia_at_the_municipal_level_with_a_municipal_profile(ideal_env):
    """The same file read with `municipal: true`: every municipality is kept with its DIVIPOLA
    code (the assessment adds them up to departments), a code not in DIVIPOLA is an error."""
    shipped = yaml.safe_load((Path(registry.__file__).parent / "profiles" / "co_homicidios_municipal.yaml").read_text())
    shipped["name"] = "co_homicidios_municipios"
    shipped["region"] = {"column": "codigo_dane", "pad": 5, "municipal": True}
    folder = ideal_env.home / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "co_homicidios_municipios.yaml").write_text(yaml.safe_dump(shipped, allow_unicode=True))
    data = real_file("co_homicidios_municipal_2024", "datos3.csv").read_bytes()
    p = read_submission(data, "datos3.csv", ReadOptions(profile="co_homicidios_municipios"))
    f = p.frame
    src = pd.read_csv(real_file("co_homicidios_municipal_2024", "datos3.csv"))
    assert len(f) == len(src) == 797 and f["region"].str.fullmatch(r"CO-\d{5}").all()
    assert f["value_number"].sum() == src["homicidios"].sum()
    assert f.loc[f["region"] == "CO-11001", "value_number"].iloc[0] == src.loc[src["codigo_dane"] == 11001, "homicidios"].iloc[0]
    assert {"CO-91001", "CO-91407"} <= set(f["region"])  # the two 'Leticia' rows stay two municipalities
    bad = data.replace(b"ANTIOQUIA,5819,Toledo", b"ANTIOQUIA,5999,Toledo")
    p = read_submission(bad, "datos3.csv", ReadOptions(profile="co_homicidios_municipios"))
    found = p.findings.set_index("rule").loc["region_code_mapped"]
    assert found["value"] == "05999" and "municipal codes of CO" in found["message"]
