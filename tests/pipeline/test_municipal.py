"""Municipalities as a second region level: reference lists of BR, CO and MX, submissions at
that level validated against them, stored as sent, and added up to their first-level region
for the regional picture (on SQLite and PostgreSQL)."""

import pycountry
import pytest

from ideal import reference
from ideal.pipeline.submission import submit_bytes
from ideal.store.runs import current_observations

HEADER = "country,region,period,crime_type,indicator,value,obs_status\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def test_reference_lists_of_the_statistics_offices():
    m = reference.municipalities()
    assert m.groupby("country").size().to_dict() == {"BR": 5570, "CO": 1123, "MX": 2475}
    assert not m["region"].duplicated().any()
    for cc, group in m.groupby("country"):
        first = {s.code for s in pycountry.subdivisions.get(country_code=cc) if s.parent_code is None}
        assert set(group["parent"]) <= first, cc
    # every state of Brazil and Mexico has municipalities; Bogotá belongs to the capital district
    assert m[m["country"] == "BR"]["parent"].nunique() == 27
    assert m[m["country"] == "MX"]["parent"].nunique() == 32
    assert reference.first_level("CO-11001") == "CO-DC" and reference.first_level("CO-ANT") == "CO-ANT"
    assert reference.region_name("CO-05001") == "Medellín (CO-05001), Antioquia"
    assert reference.region_name("BR-3550308") == "BR-3550308, São Paulo"
    assert "MX-09015" in reference.valid_region_codes(["MX"])
    assert "CO-05001" not in reference.valid_region_codes(["MX"])


def test_municipal_rows_are_added_up_to_their_region(engine):
    # Medellín and Bello (Antioquia), Bogotá; Barranquilla (Atlántico) beside a departmental
    # value for Atlántico sent in another file: the departmental value is taken as sent
    first = submit_bytes(_csv("CO,CO-05001,2024,0101,victims,5,A", "CO,CO-05088,2024,0101,victims,7,P",
                              "CO,CO-11001,2024,0101,victims,10,A", "CO,CO-08001,2024,0101,victims,100,A",
                              "CO,CO-05001,2024,0102,victims,,M", "CO,CO-05088,2024,0102,victims,2,A"),
                         "municipios.csv", "CO", engine)
    assert first.ok, first.findings
    second = submit_bytes(_csv("CO,CO-ATL,2024,0101,victims,4,A"), "departamentos.csv", "CO", engine)
    assert second.ok, second.findings
    got = current_observations(engine, 2024, 2024, country="CO").set_index(["region", "crime_type"])
    assert set(got.index.get_level_values("region")) == {"CO-ANT", "CO-DC", "CO-ATL"}
    assert got.loc[("CO-ANT", "0101"), "value"] == 12 and got.loc[("CO-ANT", "0101"), "obs_status"] == "P"
    assert got.loc[("CO-DC", "0101"), "value"] == 10 and got.loc[("CO-DC", "0101"), "obs_status"] == "A"
    assert got.loc[("CO-ATL", "0101"), "value"] == 4  # not 104
    # a part missing: the sum is short, so estimated
    assert got.loc[("CO-ANT", "0102"), "value"] == 2 and got.loc[("CO-ANT", "0102"), "obs_status"] == "E"
    # every country read at once gives the same rows
    both = current_observations(engine, 2024, 2024).set_index(["region", "crime_type"])
    assert both.loc[("CO-ANT", "0101"), "value"] == 12


def test_both_levels_in_one_file_keep_the_municipalities_and_say_so(engine):
    r = submit_bytes(_csv("MX,MX-09015,2024,0101,incidents,3,A", "MX,MX-09007,2024,0101,incidents,4,A",
                          "MX,MX-CMX,2024,0101,incidents,9,A"), "mx.csv", "MX", engine)
    assert r.ok
    found = r.findings.set_index("rule").loc["regions_beside_municipalities"]
    # in the steward's language (Spanish for Mexico)
    assert "Se envían 1 totales regionales junto a sus municipios" in found["message"]
    assert "total 9, municipios 7" in found["message"]
    got = current_observations(engine, 2024, 2024, country="MX")
    assert got["value"].tolist() == [7.0] and got["region"].tolist() == ["MX-CMX"]


@pytest.mark.parametrize("code", ["CO-99999", "CO-0500", "MX-05001"])
def test_an_unknown_municipal_code_is_refused(engine, code):
    r = submit_bytes(_csv(f"CO,{code},2024,0101,victims,5,A"), "x.csv", "CO", engine)
    assert not r.ok
    assert "region_code_known" in set(r.findings["rule"])
