"""Reading what stewards send: the template in CSV dialects and XLSX, SDMX-CSV, bad files."""

import bz2
import io
import os
import stat
import zipfile

import openpyxl
import pytest

from ideal.contracts import CANONICAL_COLUMNS
from ideal.errors import SubmissionError
from ideal.ingest.archive import archive, sha256_bytes
from ideal.ingest.formats import read_submission
from ideal.ingest.sniff import ReadOptions

HEADER = "country,region,period,crime_type,indicator,value,obs_status\n"
GOOD = (HEADER + "MX,MX-JAL,2024,0101,incidents,1873,A\nMX,MX-JAL,2024,0101,victims,2011,\n").encode()


def test_template_as_text_keeping_leading_zeros():
    p = read_submission(GOOD, "t.csv")
    df = p.frame
    assert list(df.columns) == CANONICAL_COLUMNS and p.format == "template-csv"
    assert df["crime_type"].tolist() == ["0101", "0101"]
    assert df["source_row"].tolist() == [2, 3]
    assert df["obs_status"].tolist() == ["A", "A"]  # empty status means normal
    assert df["value_number"].tolist() == [1873, 2011]


def test_bom_semicolon_crlf_decimal_comma_and_thousands():
    text = (HEADER.replace(",", ";") + "MX;MX-JAL;2024;0601;seizures_kg;1.234,5;A\n"
            "MX;MX-COL;2024;0601;seizures_kg;12,25;A\n").replace("\n", "\r\n")
    p = read_submission(b"\xef\xbb\xbf" + text.encode(), "t.csv")
    assert p.frame["value_number"].tolist() == [1234.5, 12.25]
    assert "encoding: UTF-8 with BOM" in p.notes and "separator: semicolon" in p.notes
    assert "decimal mark in 'value': comma" in p.notes and "line endings: CRLF (Windows)" in p.notes


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_tab_and_pipe(sep):
    p = read_submission(GOOD.decode().replace(",", sep).encode(), "t.txt")
    assert p.frame["region"].tolist() == ["MX-JAL", "MX-JAL"]


def test_windows_1252_and_missing_markers():
    text = HEADER + "MX,MX-MEX,2024,0101,incidents,n.d.,M\nMX,MX-MEX,2023,0101,incidents,s/d,M\n" \
        "MX,MX-MEX,2022,0101,incidents,-,M\nMX,MX-MEX,2021,0101,incidents,NA,M\n# Año señalado\n"
    p = read_submission(text.encode("cp1252"), "t.csv")
    assert p.frame["value_number"].isna().sum() == 5
    assert any(n.startswith("encoding: cp1252") or "1252" in n for n in p.notes)


def test_ambiguous_thousands_refused_naming_the_option():
    text = HEADER.replace(",", ";") + "MX;MX-JAL;2024;0101;incidents;1.234;A\n"
    with pytest.raises(SubmissionError, match="--decimal"):
        read_submission(text.encode(), "t.csv")
    p = read_submission(text.encode(), "t.csv", ReadOptions(decimal=","))
    assert p.frame["value_number"].tolist() == [1234]


def test_inconsistent_separator_refused():
    with pytest.raises(SubmissionError, match="separator"):
        read_submission((HEADER + "MX;MX-JAL;2024;0101;incidents;1;A\n" * 3
                         + "MX,MX-JAL,2023,0101,incidents,1,A\n" * 3).encode(), "t.csv")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (HEADER.encode(), "no data rows"),
    (b"pais,region,anio\nMX,MX-JAL,2024\n", "format not recognised"),
    (b"\x00\x01\x02binary" * 10, "not a text CSV"),
])
def test_unreadable_files_are_named_with_the_fix(data, message):
    with pytest.raises(SubmissionError, match=message):
        read_submission(data, "upload.csv")


def xlsx_bytes(rows, sheet="data") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.create_sheet("iccs").append(["code", "name"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_template_with_numbers_and_code_list_sheets():
    data = xlsx_bytes([HEADER.strip().split(","), ["MX", "MX-JAL", 2024, "0101", "incidents", 12, "A"],
                       ["MX", "MX-COL", "2024", "0101", "incidents", 3.5, None]])
    p = read_submission(data, "plantilla.xlsx")
    assert p.format == "template-xlsx" and "sheet: data" in p.notes
    assert p.frame["period"].tolist() == ["2024", "2024"]
    assert p.frame["value_number"].tolist() == [12, 3.5]


def test_truncated_xlsx_is_refused():
    data = xlsx_bytes([HEADER.strip().split(","), ["MX", "MX-JAL", 2024, "0101", "incidents", 1, "A"]])
    with pytest.raises(SubmissionError, match="damaged or incomplete"):
        read_submission(data[: len(data) // 2], "cut.xlsx")


def test_xlsx_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (60 * 2**20) + b"/>")
    with pytest.raises(SubmissionError, match="zip bomb"):
        read_submission(buf.getvalue(), "bomb.xlsx")


def test_bz2_compressed_csv():
    p = read_submission(bz2.compress(GOOD), "t.csv.bz2")
    assert len(p.frame) == 2 and "compression: bzip2" in p.notes


SDMX1 = ("DATAFLOW,REF_AREA,CRIME_TYPE,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
         "IDEAL:CRIME_IND(1.0),MX-JAL,0101,incidents,2024,1873,A\n"
         "IDEAL:CRIME_IND(1.0),MX,0601,seizures_kg,2024-Q1,10.5,P\n")
SDMX2 = ("STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA: Reference area,CRIME_TYPE,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
         "dataflow,IDEAL:CRIME_IND(1.0),I,MX-JAL,0101,incidents,2024,1900,A\n"
         "dataflow,IDEAL:CRIME_IND(1.0),D,MX-COL,0101,incidents,2024,,\n")


def test_sdmx_csv_1_0():
    p = read_submission(SDMX1.encode(), "mx.csv")
    assert p.format == "sdmx-csv-1.0"
    f = p.frame
    assert f["country"].tolist() == ["MX", "MX"] and f["region"].tolist() == ["MX-JAL", "MX"]
    assert f["period"].tolist() == ["2024", "2024-Q1"] and f["obs_status"].tolist() == ["A", "P"]
    assert f["action"].tolist() == ["I", "I"]


def test_sdmx_csv_2_0_with_actions_and_labelled_headers():
    p = read_submission(SDMX2.encode(), "mx.csv")
    assert p.format == "sdmx-csv-2.0" and p.frame["action"].tolist() == ["I", "D"]
    with pytest.raises(SubmissionError, match="ACTION must be"):
        read_submission(SDMX2.replace(",D,", ",X,").encode(), "mx.csv")


def test_archive_is_immutable_and_content_addressed(tmp_path):
    path = archive(GOOD, "MX", "datos.csv", tmp_path)
    assert path.name == f"{sha256_bytes(GOOD)}.csv" and path.parent.name == "MX"
    assert path.read_bytes() == GOOD
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert archive(GOOD, "MX", "other-name.csv", tmp_path) == path  # same bytes, one file
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".incoming")]


def test_archive_keeps_hostile_names_inside_the_archive(tmp_path):
    path = archive(b"x", "MX", "../../etc/passwd", tmp_path)
    assert path.parent == tmp_path / "MX"


def test_unknown_export_is_refused_naming_the_template_and_profiles():
    data = b"anio;provincia;delito;total\n2020;Salta;Robo;10\n"
    with pytest.raises(SubmissionError) as err:
        read_submission(data, "export.csv")
    assert "country,region,period,crime_type,indicator,value,obs_status" in str(err.value)
    assert "ar_snic_provincias" in str(err.value)


def test_unit_column_must_match_the_indicator():
    text = (HEADER.strip() + ",unit\nMX,MX-JAL,2024,0601,seizures_kg,12,A,kg\n"
            "MX,MX-JAL,2024,0601,incidents,3,A,kg\nMX,MX-COL,2024,0601,seizures_kg,1,A,t\n")
    p = read_submission(text.encode(), "t.csv")
    bad = p.findings[p.findings["rule"] == "one_unit_per_indicator"]
    assert sorted(bad["row"].tolist()) == [3, 4] and set(bad["severity"]) == {"error"}
    sdmx = SDMX1.replace("OBS_STATUS\n", "OBS_STATUS,UNIT_MEASURE\n").replace(",A\n", ",A,count\n").replace(",P\n", ",P,t\n")
    p = read_submission(sdmx.encode(), "s.csv")
    assert p.findings["rule"].tolist() == ["one_unit_per_indicator"]


@pytest.mark.parametrize("language,sheet", [("es", "Instrucciones"), ("pt", "Instruções"), ("en", "Instructions")])
def test_xlsx_template_types_codes_as_text_in_every_row_with_drop_down_lists(language, sheet):
    import io

    import openpyxl

    from ideal.ingest.template import TEMPLATE_ROWS, xlsx_template

    wb = openpyxl.load_workbook(io.BytesIO(xlsx_template(("MX", "CO"), language)))
    data = wb["data"]
    for col in "ABCDEG":
        assert data[f"{col}2"].number_format == "@" and data[f"{col}{TEMPLATE_ROWS + 1}"].number_format == "@"
    lists = {str(v.sqref): v.formula1 for v in data.data_validations.dataValidation}
    last = TEMPLATE_ROWS + 1
    assert lists[f"A2:A{last}"] == "=countries!$A$2:$A$3"
    assert lists[f"B2:B{last}"].startswith("=regions!$A$2:") and lists[f"D2:D{last}"].startswith("=crime_types!")
    assert f"E2:E{last}" in lists and f"G2:G{last}" in lists
    assert wb[sheet]["A1"].value.startswith(("Plantilla", "Modelo", "IDEAL template"))
    assert read_submission(xlsx_template(("MX",), language), "t.xlsx").format == "template-xlsx"


def test_a_file_wider_than_any_export_is_refused_before_it_is_parsed(engine):
    """#34: a 9.9 MB CSV of a million columns killed a server worker and its submission stayed
    "received"; now it is refused at once with a reason, and rejected."""
    import time

    from ideal.pipeline.submission import submit_bytes

    data = (",".join(f"c{i}" for i in range(1_000_000)) + "\n" + ",".join("1" for _ in range(1_000_000)) + "\n").encode()
    t0 = time.perf_counter()
    with pytest.raises(SubmissionError, match="fields or more, more than the 2000"):
        read_submission(data, "wide.csv")
    assert time.perf_counter() - t0 < 2
    receipt = submit_bytes(data, "wide.csv", "MX", engine)
    assert receipt.status == "rejected" and "2000" in receipt.message


def test_a_data_row_wider_than_any_export_is_refused_naming_its_row():
    """#46: a 7-field header, then one row of a million fields (2 MB): the width guard measured
    only the first line and the worker grew to 4.4 GB; every record is measured as it is read."""
    import time
    import tracemalloc

    data = (HEADER + ",".join("1" for _ in range(1_000_000)) + "\n").encode()
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(SubmissionError, match=r"row 2 has 1000000 fields, more than the 2000"):
        read_submission(data, "row.csv")
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 5 and peak < 300 * 2**20


@pytest.mark.parametrize("separator", [None, ","])
def test_rows_with_a_field_in_front_are_refused_not_read_from_other_columns(separator):
    """#46: with separator=comma, rows carrying one extra leading field were accepted with the
    values of the last seven fields; a row wider than its header is an error naming it."""
    rows = "".join(f"JUNK,MX,MX-JAL,2024,0101,incidents,{n},A\n" for n in (10, 11, 12))
    parsed = read_submission((HEADER + rows).encode(), "junk.csv", ReadOptions(separator=separator))
    wide = parsed.findings[parsed.findings["rule"] == "row_width"]
    assert len(wide) == 1 and wide["severity"].iloc[0] == "error"
    assert wide["row"].iloc[0] == 2 and wide["rows"].iloc[0] == 3
    assert "row 2 (8 fields)" in wide["message"].iloc[0] and "header's 7" in wide["message"].iloc[0]


def test_trailing_empty_fields_are_not_a_wider_row():
    rows = "MX,MX-JAL,2024,0101,incidents,10,A,,\nMX,MX-COL,2024,0101,incidents,3,A,\n"
    parsed = read_submission((HEADER + rows).encode(), "t.csv")
    assert parsed.findings.empty and parsed.frame["value_number"].tolist() == [10, 3]


def test_cells_right_of_a_sheets_header_are_a_warning_and_not_read():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(HEADER.strip().split(","))
    ws.append(["MX", "MX-JAL", "2024", "0101", "incidents", 10, "A", None, "revisar"])
    buf = io.BytesIO()
    wb.save(buf)
    parsed = read_submission(buf.getvalue(), "t.xlsx")
    wide = parsed.findings[parsed.findings["rule"] == "row_width"]
    assert wide["severity"].tolist() == ["warning"] and "row 2 (9 fields)" in wide["message"].iloc[0]
    assert parsed.frame["value_number"].tolist() == [10]


def test_row_numbers_are_the_rows_a_spreadsheet_shows():
    """Blank lines count as rows, as a spreadsheet opening the CSV shows them."""
    data = (HEADER + "MX,MX-JAL,2024,0101,incidents,10,A\n\nMX,MX-COL,2024,0101,incidents,3,A\n").encode()
    assert read_submission(data, "t.csv").frame["source_row"].tolist() == [2, 4]


def test_damaged_workbooks_are_refused_as_damaged():
    """bench/fuzz.py: a flipped byte in a member's version ('zip file version 14.3') and a
    workbook with no sheet raised instead of refusing."""
    import random

    from bench.fuzz import _flip, seeds

    book = dict(seeds())["template.xlsx"]
    for seed in (2565, *range(40)):
        _, damaged = _flip(random.Random(seed), "t.xlsx", book)
        try:
            read_submission(damaged, "t.xlsx")
        except SubmissionError as exc:
            assert str(exc)
