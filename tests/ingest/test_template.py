import os
import stat

import pandas as pd
import pytest

from ideal.errors import SubmissionError
from ideal.ingest.archive import archive, sha256_bytes
from ideal.ingest.template import COLUMNS, parse_values, read_template
from tests.conftest import real_file

GOOD = (b"country,region,period,crime_type,indicator,value,obs_status\n"
        b"MX,MX-JAL,2024,0101,incidents,1873,A\n"
        b"MX,MX-JAL,2024,0101,victims,2011,\n")


def test_reads_template_as_text_keeping_leading_zeros():
    df = read_template(GOOD)
    assert list(df.columns) == COLUMNS + ["source_row"]
    assert df["crime_type"].tolist() == ["0101", "0101"]
    assert df["source_row"].tolist() == [2, 3]
    assert df["obs_status"].tolist() == ["A", "A"]  # empty status means normal


def test_bom_semicolon_crlf_and_windows_1252():
    text = GOOD.decode().replace(",", ";").replace("\n", "\r\n")
    df = read_template(b"\xef\xbb\xbf" + text.encode())
    assert df.attrs["separator"] == ";" and df.loc[0, "country"] == "MX"
    latin = "country,region,period,crime_type,indicator,value,obs_status\nMX,MX-JAL,2024,0101,incidents,5,A\n"
    assert read_template((latin + "# señal\n").encode("cp1252")).loc[0, "value"] == "5"


def test_decimal_comma_and_missing_markers():
    df = pd.DataFrame({"value": ["12,5", "7", "NA", "", "s/d", "abc"]})
    values = parse_values(df)
    assert values.iloc[0] == 12.5 and values.iloc[1] == 7
    assert values.iloc[2:].isna().all()


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"country,region,period,crime_type,indicator,value\n", "no data rows"),
    (b"pais,region,anio\nMX,MX-JAL,2024\n", "missing column"),
    (b"\x00\x01\x02binary", "not a text CSV"),
])
def test_unreadable_files_are_named_with_the_fix(data, message):
    with pytest.raises(SubmissionError, match=message):
        read_template(data, "upload.csv")


def test_real_national_export_is_refused_naming_the_template_columns():
    """The Argentine SNIC export is not the template: the message says which columns to use."""
    data = real_file("ar_snic_provincias", "snic-provincias.csv").read_bytes()
    with pytest.raises(SubmissionError) as err:
        read_template(data, "snic-provincias.csv")
    assert "missing column(s) country, region, period, crime_type, indicator, value" in str(err.value)


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
