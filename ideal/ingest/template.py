"""The IDEAL template: the canonical observation columns of DESIGN.md, as CSV or XLSX.

Everything is read as text so codes keep their leading zeros ("0101") and the validator,
not the parser, decides what is wrong with a value. ``source_row`` is the line number in the
file (the header is line 1), which is what the steward sees in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

from ideal.errors import SubmissionError
from ideal.ingest.sniff import Assumptions, ReadOptions, decimal_mark, per_unique, to_numbers

COLUMNS = ["country", "region", "period", "crime_type", "indicator", "value", "obs_status"]
REQUIRED = ["country", "region", "period", "crime_type", "indicator", "value"]
CANONICAL = COLUMNS + ["source_row", "value_number", "action"]


def is_template(table: pd.DataFrame) -> bool:
    cols = {str(c).strip().lower() for c in table.columns}
    return len(cols & set(REQUIRED)) >= 4


def finish(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Trimmed text columns, default status A, parsed numbers, default action I."""
    text = frame[COLUMNS].apply(lambda s: per_unique(s.astype(str), lambda u: u.str.strip()))
    out = text.assign(obs_status=text["obs_status"].replace("", "A").str.upper(),
                      source_row=frame["source_row"].to_numpy(),
                      value_number=to_numbers(text["value"], decimal).to_numpy())
    action = frame["action"] if "action" in frame else "I"
    return out.assign(action=action)[CANONICAL].reset_index(drop=True)


def from_template(table: pd.DataFrame, filename: str, sep: str, options: ReadOptions,
                  notes: Assumptions) -> pd.DataFrame:
    df = table.copy()
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
    if extra:
        notes.add(f"ignored columns: {', '.join(extra)}")
    df = df.assign(source_row=range(2, len(df) + 2))
    decimal = decimal_mark(df["value"], "value", sep, filename, options, notes)
    return finish(df, decimal)
