"""Each shape real national exports come in (DESIGN.md), on exports built in tests/ingest/
exports.py with their truth known: read through a profile, every figure must equal the truth
and every row left out must be named."""

from __future__ import annotations

import pandas as pd
import pytest

from ideal import reference
from ideal.errors import SubmissionError
from ideal.ingest import periods, profile, registry
from ideal.ingest.formats import read_submission
from ideal.ingest.sniff import ReadOptions
from tests.ingest import exports as E


def read(data: bytes, filename: str, text: str, **kw):
    prof = profile.parse(text, "test profile")
    with registry.trial(prof):
        return read_submission(data, filename, ReadOptions(profile=prof.name, **kw))


def iso(country: str, name: str) -> str:
    subs = reference.regions([country])
    return subs.loc[subs["name"].map(periods.fold) == periods.fold(name), "region"].iloc[0]


def rule(parsed, name: str) -> pd.DataFrame:
    return parsed.findings[parsed.findings["rule"] == name]


def test_microdata_rows_are_counted_by_region_month_and_crime():
    data, truth = E.cr_oij_microdata()
    p = read(data, "oij.csv", E.CR_PROFILE)
    f = p.frame.set_index(["region", "period", "crime_type"])["value_number"]
    iccs = {"HOMICIDIO": "0101", "ASALTO": "0401", "HURTO": "0502", "ROBO": "0502", "ROBO DE VEHICULO": "0502"}
    expected: dict = {}
    for (prov, crime, month), n in truth.items():
        if prov == "DESCONOCIDO" or crime == "SUICIDIO":
            continue
        key = (iso("CR", prov), month, iccs[crime])
        expected[key] = expected.get(key, 0) + n
    assert f[f > 0].to_dict() == {k: float(v) for k, v in expected.items()}
    # a month, region and crime type with no event is a zero, not a gap: the grid is complete
    assert len(f) == 7 * 12 * 3 and (f == 0).sum() == len(f) - len(expected)
    assert (p.frame.loc[p.frame["value_number"] == 0, "source_row"] == 0).all()
    assert set(p.frame["indicator"]) == {"incidents"}
    unknown = rule(p, "region_unknown").iloc[0]
    n_unknown = sum(n for (prov, crime, _), n in truth.items() if prov == "DESCONOCIDO")
    assert unknown["value"] == "DESCONOCIDO" and f"{n_unknown} rows" in unknown["message"]
    assert "suicide is not a crime" in rule(p, "category_out_of_scope").iloc[0]["message"]
    assert "dates in 'Fecha': %m/%d/%Y (detected); counted by month" in p.notes


@pytest.mark.parametrize("fmt,declared", [("%d/%m/%Y", None), ("%Y-%m-%d", None), ("%m/%d/%Y", "%m/%d/%Y")])
def test_dates_in_any_written_format_give_the_same_counts(fmt, declared):
    base = read(E.cr_oij_microdata()[0], "a.csv", E.CR_PROFILE).frame
    text = E.CR_PROFILE.replace("period: {date: Fecha, level: month}",
                                f"period: {{date: Fecha, level: month{', date_format: ' + repr(declared) if declared else ''}}}")
    other = read(E.cr_oij_microdata(fmt=fmt)[0], "b.csv", text).frame
    pd.testing.assert_frame_equal(base.sort_values(["region", "period", "crime_type"]).reset_index(drop=True),
                                  other.sort_values(["region", "period", "crime_type"]).reset_index(drop=True))


def test_dates_that_fit_day_first_and_month_first_are_refused_naming_the_key():
    csv = "Delito,SubDelito,Fecha,Provincia\nHOMICIDIO,X,03/04/2023,SAN JOSE\nHOMICIDIO,X,05/06/2023,LIMON\n"
    with pytest.raises(SubmissionError, match="period.date_format"):
        read(csv.encode(), "x.csv", E.CR_PROFILE)


def test_excel_serial_dates_counted_by_year_with_lost_accents_and_unknown_region():
    data, truth = E.ec_homicides()
    p = read(data, "ec.xlsx", E.EC_PROFILE)
    got = p.frame.set_index("region")["value_number"].to_dict()
    assert got == {code: float(n) for (code, _), n in truth.items()}  # MANAB? -> EC-M, LOS R?OS -> EC-R
    assert set(p.frame["period"]) == {"2023"} and set(p.frame["indicator"]) == {"victims"}
    assert rule(p, "region_unknown").iloc[0]["value"] == "SIN DATO"


def test_a_quarter_of_dates_counted_by_year_is_flagged_partial():
    csv = "Delito,SubDelito,Fecha,Provincia\n" + "".join(
        f"HOMICIDIO,X,{m:02d}/15/2023,SAN JOSE\n" for m in (1, 2, 3))
    text = E.CR_PROFILE.replace("level: month", "level: year")
    p = read(csv.encode(), "q1.csv", text)
    partial = rule(p, "period_partial").iloc[0]
    assert "only 3 of 12 months (01-03)" in partial["message"]
    assert p.frame["coverage"].tolist() == ["3/12: 01-03"]


def test_month_names_in_three_languages_any_case_and_accents():
    names = pd.Series(["janeiro", "ENE", "Sept.", "Março", "marco", "dic", "Dezembro", "feb", "7", "12", "13", "foo"])
    assert periods.month_numbers(names).tolist()[:10] == [1, 1, 9, 3, 3, 12, 12, 2, 7, 12]
    assert periods.month_numbers(names).isna().tolist()[10:] == [True, True]


def test_workbook_with_notes_sheet_title_rows_two_data_sheets_and_month_names():
    data, truth = E.br_sinesp_workbook()
    p = read(data, "sinesp.xlsx", E.BR_PROFILE)
    got = p.frame.set_index(["region", "crime_type", "period", "indicator"])["value_number"].to_dict()
    assert got == {k: float(v) for k, v in truth.items()}
    assert "sexual violence" in rule(p, "category_out_of_scope").iloc[0]["message"]
    # rows are named by their row in the sheet (title rows above the header count)
    first = p.frame[(p.frame["region"] == "BR-AC") & (p.frame["indicator"] == "incidents")]["source_row"].min()
    assert first == 4


def test_the_data_sheet_is_found_past_a_cover_sheet_and_a_wrong_sheet_names_them_all():
    data, _ = E.br_sinesp_workbook()
    one_sheet = E.BR_PROFILE.replace('read:\n  sheets: [{name: "Ocorrências"}, {name: "Vítimas"}]\n', "")
    p = read(data, "sinesp.xlsx", one_sheet)
    assert set(p.frame["indicator"]) == {"incidents"}  # the first sheet with the header
    assert any("skipped sheet(s) Notas" in n for n in p.notes)
    v = read(data, "sinesp.xlsx", one_sheet, sheet="Vítimas")
    assert set(v.frame["indicator"]) == {"victims"}
    with pytest.raises(SubmissionError, match="Notas, Ocorrências, Vítimas"):
        read(data, "sinesp.xlsx", one_sheet, sheet="Datos")


def test_every_xlsx_row_is_read_whatever_its_dimension_says():
    data, truth = E.br_sinesp_workbook(stale_dimension="A1:E2")
    p = read(data, "stale.xlsx", E.BR_PROFILE)
    assert len(p.frame) == len(truth)
    assert any("<dimension> says A1:E2" in n for n in p.notes)


def test_months_as_columns_with_totals_row_and_column():
    data, truth = E.gt_wide_months()
    p = read(data, "gt.csv", E.GT_PROFILE)
    regional = p.frame[p.frame["region"] != "GT"]
    names = {"GT-GU": "Guatemala", "GT-ES": "Escuintla", "GT-PE": "Petén"}
    got = regional.set_index(["region", "crime_type", "period"])["value_number"].to_dict()
    want = {(iso("GT", names[r]), c, m): float(v) for (r, c, m), v in truth.items()}
    assert got == want
    national = p.frame[p.frame["region"] == "GT"]  # the TOTAL row is the national figure
    assert len(national) == 24


def test_years_as_columns_and_iso_codes_without_prefix():
    data, truth = E.hn_wide_years()
    p = read(data, "hn.csv", E.HN_PROFILE)
    got = p.frame.set_index(["region", "period"])["value_number"]
    for key, value in truth.items():
        assert got[key] == value
    assert len(p.frame) == 8  # the empty 2021 cell of CR is no figure


def test_a_region_of_another_country_is_said_to_belong_to_it():
    csv = "estado,anio,delito,n\nMX-JAL,2023,homicidio,5\nCO-ANT,2023,homicidio,7\nMX-ZZZ,2023,homicidio,1\n"
    text = """
name: mx_iso
title: t
country: MX
detect: [estado, anio, delito, n]
period: {year: anio}
region: {column: estado}
category: {fixed: "0101"}
values: [{column: n, indicator: incidents}]
"""
    p = read(csv.encode(), "mx.csv", text)
    other = rule(p, "region_other_country").iloc[0]
    assert other["value"] == "CO-ANT" and "Colombia" in other["message"] and other["severity"] == "error"
    assert rule(p, "region_code_mapped").iloc[0]["value"] == "MX-ZZZ"


def test_names_with_aliases_and_totals_category_rows():
    csv = ("Provincia;Tipo;Año;Casos\nSan José;Homicidio;2023;10\nSTA ELENA;Homicidio;2023;3\n"
           "Santa Elena;Total;2023;3\nNarnia;Homicidio;2023;1\n")
    text = """
name: ec_names
title: t
country: EC
detect: [Provincia, Tipo, Año, Casos]
period: {year: Año}
region: {column: Provincia, by: name, aliases: {"STA ELENA": EC-SE, "San José": EC-P}}
category:
  columns: [Tipo]
  rules: [{when: {Tipo: "^Homicidio$"}, iccs: "0101"}]
values: [{column: Casos, indicator: incidents}]
"""
    p = read(csv.encode(), "ec.csv", text)
    assert rule(p, "totals_not_loaded").iloc[0]["value"] == "Total"
    bad = rule(p, "region_name_mapped").iloc[0]
    assert bad["value"] == "Narnia" and "region.aliases" in bad["message"]
    ok = p.frame[~p.frame["region"].str.contains("\\?")].set_index("region")["value_number"].to_dict()
    assert ok == {"EC-P": 10.0, "EC-SE": 3.0}


def test_a_month_that_is_not_a_month_is_named_with_its_column():
    csv = "cve_ent|year|month|homicides|pop_est|homicide_rate\n01|2022|janeiro|3|1000|1\n01|2022|Mesx|3|1000|1\n"
    p = read_submission(csv.encode(), "x.csv", ReadOptions(profile="mx_inegi_mensual"))
    bad = rule(p, "period_readable").iloc[0]
    assert bad["column"] == "month" and bad["value"] == "Mesx" and bad["severity"] == "error"
    assert "month = 'Mesx'" in bad["message"]


def test_monthly_and_yearly_figures_of_one_unit_are_reconciled_by_the_stated_rule():
    rows = [("A", f"2023-{m:02d}", 10.0) for m in range(1, 13)] + [("A", "2023", 100.0)]  # months: 120
    rows += [("B", "2023-01", 5.0), ("B", "2023", 70.0)]  # one month only: the year is kept
    frame = pd.DataFrame(rows, columns=["region", "period", "value_number"]).assign(
        crime_type="0101", indicator="incidents")
    out, found = periods.coverage(frame)
    kept = out.set_index(["region", "period"])["value_number"]
    assert ("A", "2023") not in kept.index and len(kept.loc["A"]) == 12
    assert list(kept.loc["B"].index) == ["2023"]
    messages = " ".join(f[5] for f in found)
    assert "complete months are kept" in messages
    assert "months 120, year 100" in messages


def test_the_rows_read_are_checked_against_the_rows_in_the_sheet(monkeypatch):
    import io

    import openpyxl

    from ideal.ingest import decode as readers

    data, truth = E.br_sinesp_workbook(stale_dimension="A1:E2")
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Ocorrências"]
    assert readers._rows_present(ws) == 2 + 5 * 12 * 2  # title, header, 120 rows of occurrences
    assert len(read(data, "ok.xlsx", E.BR_PROFILE).frame) == len(truth)
    monkeypatch.setattr(readers, "_rows_present", lambda ws: 10_000)  # rows the reader missed
    with pytest.raises(SubmissionError, match="10000 rows with values but"):
        read(data, "lost.xlsx", E.BR_PROFILE)
