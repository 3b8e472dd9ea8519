"""Reader for the IDEAL template CSV: the canonical observation columns of DESIGN.md.

Everything is read as text so that codes keep their leading zeros ("0101") and the
validator, not the parser, decides what is wrong with a value. ``source_row`` is the line
number in the file (the header is line 1), which is what the steward sees in a spreadsheet.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from ideal.errors import SubmissionError

COLUMNS = ["country", "region", "period", "crime_type", "indicator", "value", "obs_status"]
REQUIRED = ["country", "region", "period", "crime_type", "indicator", "value"]
MISSING_MARKERS = ["", "NA", "N/A", "-", "n.d.", "s/d"]


def decode(data: bytes, filename: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubmissionError(  # pragma: no cover - cp1252 decodes almost everything
        f"{filename}: the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8."
    )


def read_template(data: bytes, filename: str = "submission.csv") -> pd.DataFrame:
    """Parse template CSV bytes into a frame of text columns plus ``source_row``."""
    if not data.strip():
        raise SubmissionError(f"{filename}: the file is empty; send the filled-in IDEAL template.")
    if b"\x00" in data[:4096]:
        raise SubmissionError(f"{filename}: this is not a text CSV file (binary content); "
                              "export the sheet as CSV UTF-8.")
    text = decode(data, filename)
    first = text.splitlines()[0]
    try:
        sep = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SubmissionError(f"{filename}: the CSV cannot be parsed ({exc}); check quoting and "
                              "that every line has the same number of fields.") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise SubmissionError(
            f"{filename}: missing column(s) {', '.join(missing)}. The IDEAL template has the "
            f"header: {','.join(COLUMNS)} (download it with `ideal template`)."
        )
    if df.empty:
        raise SubmissionError(f"{filename}: the file has a header but no data rows.")
    if "obs_status" not in df.columns:
        df = df.assign(obs_status="A")
    extra = [c for c in df.columns if c not in COLUMNS]
    df = df[COLUMNS].apply(lambda s: s.str.strip())
    df = df.assign(obs_status=df["obs_status"].replace("", "A").str.upper(),
                   source_row=range(2, len(df) + 2))
    df.attrs["separator"] = sep
    df.attrs["ignored_columns"] = extra
    return df


def parse_values(df: pd.DataFrame) -> pd.Series:
    """Numeric value per row: missing markers become NaN; decimal comma accepted."""
    raw = df["value"].where(~df["value"].isin(MISSING_MARKERS))
    return pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
