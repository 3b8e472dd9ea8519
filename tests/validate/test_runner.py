from datetime import date

import pandas as pd
import pytest

from ideal import reference
from ideal.config import DEFAULT_MEMBERS
from ideal.ingest.formats import read_submission
from ideal.validate import validate_submission
from ideal.validate.runner import period_start
from tests.conftest import real_file

MEMBERS = tuple(DEFAULT_MEMBERS)
TODAY = date(2026, 11, 28)
HEADER = "country,region,period,crime_type,indicator,value,obs_status\n"


def run(rows: str, submitter: str = "MX"):
    return validate_submission(read_submission((HEADER + rows).encode(), 't.csv').frame, submitter, MEMBERS, today=TODAY)


def test_clean_rows_pass():
    report = run("MX,MX-JAL,2024,0101,incidents,1873,A\nMX,MX,2024-Q3,0601,seizures_kg,10.5,A\n"
                 "MX,MX-CMX,2026-10,0401,incidents,,M\n")
    assert report.ok and report.n_errors == 0 and report.findings.empty


@pytest.mark.parametrize("row, rule, column, value", [
    ("MX,MX-JAL,2024,0101,incidents,-3,A", "value_non_negative", "value", "-3"),
    ("MX,MX-JAL,2024,0101,incidents,abc,A", "value_is_number", "value", "abc"),
    ("MX,MX-JAL,2024,101,incidents,3,A", "crime_type_known", "crime_type", "101"),
    ("MX,MX-XYZ,2024,0101,incidents,3,A", "region_code_known", "region", "MX-XYZ"),
    ("MX,CO-ANT,2024,0101,incidents,3,A", "region_in_country", "region", "CO-ANT"),
    ("MX,MX-JAL,24,0101,incidents,3,A", "period_format", "period", "24"),
    ("MX,MX-JAL,2024-13,0101,incidents,3,A", "period_format", "period", "2024-13"),
    ("MX,MX-JAL,2027,0101,incidents,3,A", "period_not_future", "period", "2027"),
    ("MX,MX-JAL,2024,0101,killings,3,A", "indicator_known", "indicator", "killings"),
    ("MX,MX-JAL,2024,0101,incidents,3,X", "obs_status_known", "obs_status", "X"),
    ("CO,CO-ANT,2024,0101,incidents,3,A", "country_is_submitter", "country", "CO"),
    ("MX,,2024,0101,incidents,3,A", "region_required", "region", ""),
])
def test_each_blocking_rule_names_row_column_value(row, rule, column, value):
    report = run("MX,MX-JAL,2023,0101,incidents,10,A\n" + row + "\n")
    assert not report.ok
    hit = report.errors[report.errors["rule"] == rule]
    assert len(hit) == 1, report.findings
    assert hit.iloc[0]["row"] == 3 and hit.iloc[0]["column"] == column
    assert hit.iloc[0]["value"] == value
    assert hit.iloc[0]["message"]  # what to do


def test_duplicates_are_blocking_and_both_rows_named():
    report = run("MX,MX-JAL,2024,0101,incidents,10,A\nMX,MX-JAL,2024,0101,incidents,11,A\n")
    dup = report.errors[report.errors["rule"] == "no_duplicate_rows"]
    assert sorted(dup["row"]) == [2, 3]


def test_warnings_do_not_block():
    report = run("MX,MX-JAL,2024,0101,incidents,10.5,E\n")
    assert report.ok and report.n_warnings == 2
    assert set(report.warnings["rule"]) == {"counts_are_whole", "value_not_estimated"}


def test_many_failures_are_capped_per_rule_with_a_total():
    rows = "".join(f"MX,MX-JAL,{1990 + i % 30},0101,incidents,-{i + 1},A\n" for i in range(300))
    report = run(rows)
    neg = report.errors[report.errors["rule"] == "value_non_negative"]
    assert report.unexpected["value_non_negative"] == 300
    assert len(neg) == 51 and "250 more rows" in neg.iloc[-1]["message"]


def test_period_start():
    got = period_start(pd.Series(["2025", "2025-Q2", "2025-11", "x", None]))
    assert got.tolist()[:3] == [202501, 202504, 202511]
    assert got.iloc[3:].isna().all()


def test_real_mexican_homicides_in_template_form_pass():
    """SESNSP state homicide counts (real file), put in the template by hand, validate clean."""
    path = real_file("mx_sesnsp_incidencia_estatal_anual", "db_incidencia_ent_nac_year_x100khab_mujeres.csv.bz2")
    src = pd.read_csv(path, dtype={"cve_ent": str})
    hom = src[(src["subtipo_de_delito"] == "Homicidio doloso") & (src["n_year"] == 2024) &
              (src["cve_ent"] != "00")]
    hom = hom.groupby("cve_ent", as_index=False)["n_delitos"].sum()
    regions = reference.crosswalk("mx_inegi_entidades").set_index("cve_ent")["region"]
    frame = pd.DataFrame({"country": "MX", "region": hom["cve_ent"].map(regions), "period": "2024",
                          "crime_type": "0101", "indicator": "incidents",
                          "value": hom["n_delitos"].astype(str), "obs_status": "A"})
    report = validate_submission(read_submission(frame.to_csv(index=False).encode(), 't.csv').frame, "MX", MEMBERS,
                                 today=TODAY)
    assert len(frame) == 32 and report.ok and report.findings.empty
