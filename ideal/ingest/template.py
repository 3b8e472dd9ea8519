"""The IDEAL template: the canonical observation columns of DESIGN.md, as CSV or XLSX.

Everything is read as text so codes keep their leading zeros ("0101") and the validator,
not the parser, decides what is wrong with a value. ``source_row`` is the line number in the
file (the header is line 1), which is what the steward sees in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

from ideal.contracts import CANONICAL_COLUMNS, OBSERVATION_COLUMNS, REQUIRED_COLUMNS
from ideal.errors import SubmissionError
from ideal.frames import per_unique
from ideal.ingest.sniff import Assumptions, ReadOptions, decimal_mark, to_numbers


def is_template(table: pd.DataFrame) -> bool:
    cols = {str(c).strip().lower() for c in table.columns}
    return len(cols & set(REQUIRED_COLUMNS)) >= 4


def finish(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Trimmed text columns, default status A, parsed numbers, default action I."""
    text = frame[OBSERVATION_COLUMNS].apply(lambda s: per_unique(s.astype(str), lambda u: u.str.strip()))
    out = text.assign(obs_status=text["obs_status"].replace("", "A").str.upper(),
                      source_row=frame["source_row"].to_numpy(),
                      value_number=to_numbers(text["value"], decimal).to_numpy())
    action = frame["action"] if "action" in frame else "I"
    return out.assign(action=action)[CANONICAL_COLUMNS].reset_index(drop=True)


def unit_findings(units: pd.Series, indicators: pd.Series, rows: pd.Series) -> list[tuple]:
    """An optional unit column must agree with the unit each indicator is defined in (one unit
    per indicator, from the reference list)."""
    from ideal import reference

    expected = indicators.map(reference.indicators().set_index("code")["unit"])
    given = units.astype(str).str.strip().str.lower()
    bad = given.ne("") & expected.notna() & given.ne(expected)
    out = []
    for (ind, unit), group in rows[bad].groupby([indicators[bad], given[bad]]):
        out.append(("error", "one_unit_per_indicator", "unit", int(group.iloc[0]), unit,
                    f"indicator {ind} is counted in {expected[group.index[0]]}, not {unit!r} "
                    f"({len(group)} rows); convert the values or use the matching indicator."))
    return out


def from_template(table: pd.DataFrame, filename: str, sep: str, options: ReadOptions,
                  notes: Assumptions) -> pd.DataFrame:
    df = table.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise SubmissionError(
            f"{filename}: missing column(s) {', '.join(missing)}. The IDEAL template has the "
            f"header: {','.join(OBSERVATION_COLUMNS)} (download it with `ideal template`)."
        )
    if df.empty:
        raise SubmissionError(f"{filename}: the file has a header but no data rows.")
    if "obs_status" not in df.columns:
        df = df.assign(obs_status="A")
    extra = [c for c in df.columns if c not in OBSERVATION_COLUMNS and c not in ("unit", "_row")]
    if extra:
        notes.add(f"ignored columns: {', '.join(extra)}")
    # the row number the steward sees: the sheet's own for a workbook, else the line
    df = df.assign(source_row=df["_row"].astype(int) if "_row" in df else range(2, len(df) + 2))
    decimal = decimal_mark(df["value"], "value", sep, filename, options, notes)
    out = finish(df, decimal)
    if "unit" in df.columns:
        out.attrs["findings"] = unit_findings(df["unit"], df["indicator"].str.strip(), df["source_row"])
    return out


def xlsx_template(members: tuple[str, ...], language: str = "es") -> bytes:
    """The template as XLSX: a 'data' sheet with the header and an example row, and the code
    lists on their own sheets (countries, regions, ICCS crime types, indicators, status)."""
    import io

    import openpyxl
    from openpyxl.styles import Font

    from ideal import reference

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "data"
    data.append(OBSERVATION_COLUMNS)
    data.append(["MX", "MX-JAL", "2024", "0101", "incidents", 1873, "A"])
    sheets = {
        "countries": (["code", "name"], [(c, reference.country_name(c, language)) for c in members]),
        "regions": (["region", "country", "name", "type"],
                    reference.regions(members)[["region", "country", "name", "type"]].itertuples(index=False)),
        "crime_types": (["code", "name", "level"],
                        reference.iccs()[["code", f"name_{language}", "level"]].itertuples(index=False)),
        "indicators": (["code", "unit", "name"],
                       reference.indicators()[["code", "unit", f"name_{language}"]].itertuples(index=False)),
        "obs_status": (["code", "meaning"], [("A", "normal"), ("E", "estimated"), ("P", "provisional"),
                                             ("M", "missing")]),
    }
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append([str(v) for v in row])
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    for col in ("B", "C", "D"):  # codes stay text: 0101 keeps its leading zero
        for cell in data[col]:
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
