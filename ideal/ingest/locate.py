"""Stage 2 of the reading: decoded tables -> the located table (sheet, header, columns, shape,
widths).

Takes what ``decode`` made and the profiles that could read it, and says which table holds the
data, where its header is, which shape it has (the IDEAL template, SDMX-CSV 1.0 or 2.0, or a
national export with a crosswalk profile: given, or recognised by its columns), and which rows
are wider than their header. Nothing here parses a value: the next stage does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ideal.contracts import OBSERVATION_COLUMNS, REQUIRED_COLUMNS
from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest.decode import Decoded, unique_names
from ideal.ingest.profile import Profile
from ideal.ingest.shapes import finding
from ideal.ingest.sniff import Assumptions, ReadOptions

HEADER_SCAN = 30
EXAMPLES = 5


@dataclass
class Located:
    """The table that holds the data, its header in place and its shape."""

    table: pd.DataFrame  # text cells, the header as column names, ``_row`` beside them
    shape: str  # "template" | "sdmx" | "profile" | "contributions"
    separator: str  # the CSV separator, or "xlsx"
    profile: Profile | None = None
    sdmx: str | None = None  # "1.0" | "2.0"
    findings: list[tuple] = field(default_factory=list)


def find_header(table: pd.DataFrame, needed: set[str]) -> int | None:
    """-1 when the table's own header has ``needed``; else the index of the first of its first
    rows that has them (a title or notes above the header); None when none has."""
    if not needed:
        return None
    low = {n.strip().casefold() for n in needed}
    if low <= {str(c).strip().casefold() for c in table.columns}:
        return -1
    for i, row in enumerate(table.head(HEADER_SCAN).itertuples(index=False)):
        if low <= {str(c).strip().casefold() for c in row}:
            return i
    return None


def rehead(table: pd.DataFrame, at: int) -> pd.DataFrame:
    """The table with row ``at`` as its header (rows above it dropped)."""
    if at < 0:
        return table
    row = table.iloc[at]
    cols = [str(v).strip() or (c if c == "_row" else f"column {i + 1}")
            for i, (c, v) in enumerate(row.items())]
    if "_row" in table.columns:
        cols[list(table.columns).index("_row")] = "_row"
    out = table.iloc[at + 1:].copy()
    out.columns = unique_names(cols)
    return out.reset_index(drop=True)


def wider_than_header(decoded: Decoded, name: str, at: int, filename: str) -> list[tuple]:
    """Rows below the header with filled fields beyond the header's last one. In a CSV the
    fields of such a row may have moved (a separator inside a value, a field added in front):
    an error naming the first rows and their count of fields, never an implicit index. In a
    workbook a cell keeps its column: the cells beyond the header are not read (a warning)."""
    widths = decoded.widths.get(name)
    table = decoded.tables[name]
    if widths is None or len(widths) < 2 + max(at, -1):
        return []
    header = int(widths[at + 1])
    body = widths[at + 2:]
    wide = np.flatnonzero(body > header)
    if not len(wide):
        return []
    rows = table["_row"].to_numpy()[at + 1:][wide]
    fields = body[wide]
    shown = ", ".join(tr("row %(row)s (%(n)s fields)", row=int(r), n=int(f))
                      for r, f in zip(rows[:EXAMPLES], fields[:EXAMPLES], strict=True))
    more = " ..." if len(wide) > EXAMPLES else ""
    where = tr("%(file)s (sheet %(sheet)s)", file=filename, sheet=name) if name else filename
    if decoded.kind == "csv":
        return [finding("error", "row_width", None, int(rows[0]), None, tr(
            "%(file)s: %(n)s rows have more fields than the header's %(header)s: %(rows)s%(more)s. "
            "Their values may sit under the wrong column (a separator inside a value, or a field "
            "added in front); quote such values or remove the extra fields, and send the file "
            "again.", file=where, n=len(wide), header=header, rows=shown, more=more), rows=len(wide))]
    return [finding("warning", "row_width", None, int(rows[0]), None, tr(
        "%(file)s: %(n)s rows have cells beyond the header's last column (%(header)s): %(rows)s%(more)s. "
        "Those cells have no column name and were not read.", file=where, n=len(wide), header=header,
        rows=shown, more=more), rows=len(wide))]


def pick_sheet(decoded: Decoded, wanted: list[set[str]], filename: str, options: ReadOptions,
               notes: Assumptions) -> str:
    """The data sheet: --sheet, else 'data', else the first sheet whose header (within its
    first rows) has one of the ``wanted`` column sets (a cover or notes sheet is skipped)."""
    sheets = decoded.tables
    names = list(sheets)
    if decoded.kind == "csv":
        return names[0]
    if options.sheet:
        if options.sheet not in sheets:
            raise SubmissionError(tr("%(file)s: no sheet named %(missing)s; the sheets are: "
                                     "%(names)s.", file=filename, missing=repr(options.sheet),
                                     names=", ".join(names)))
        chosen = options.sheet
    elif "data" in sheets:
        chosen = "data"
    else:
        chosen = next((n for n in names for cols in wanted
                       if find_header(sheets[n], cols) is not None), None)
        if chosen is None:
            chosen = next((n for n in names if not sheets[n].empty), names[0])
        elif chosen != names[0]:
            skipped = names[:names.index(chosen)]
            notes.add(tr("skipped sheet(s) %(names)s: no data header there", names=", ".join(skipped)))
    notes.add(tr("sheet: %(sheet)s", sheet=chosen))
    notes.sheets, notes.sheet = names, chosen
    if len(names) > 1:
        notes.add(tr("sheets in the workbook: %(names)s", names=", ".join(names)))
    if sheets[chosen].empty:
        raise SubmissionError(tr("%(file)s: sheet %(sheet)r is empty; the sheets are: %(names)s "
                                 "(choose one with --sheet).", file=filename, sheet=chosen,
                                 names=", ".join(names)))
    return chosen


def header_of(table: pd.DataFrame, prof: Profile, filename: str, detect: list[str] | None = None) -> int:
    """The index of the profile's header row in ``table`` (-1: its own header): its
    ``read.header_row``, else the first row with the ``detect`` columns (default the profile's)."""
    detect = list(detect or prof.detect)
    if table.empty:
        raise SubmissionError(tr("%(file)s: no data in it.", file=filename))
    if prof.read.header_row:
        row = prof.read.header_row
        numbers = table["_row"].astype(int)
        at = -1 if row < int(numbers.iloc[0]) else (numbers.index[numbers == row][0]
                                                     if (numbers == row).any() else None)
        if at is None or at >= len(table):
            raise SubmissionError(tr("%(file)s: row %(row)s (read.header_row of profile %(name)s) "
                                     "is empty or beyond the data.", file=filename, row=row, name=prof.name))
        return at
    at = find_header(table, set(detect))
    if at is None:
        missing = sorted(set(detect) - set(table.columns))
        raise SubmissionError(tr(
            "%(file)s: the profile %(name)s needs the column(s) %(missing)s, not found in the "
            "header or the first %(scan)s rows. Columns found: %(found)s.", file=filename,
            name=prof.name, missing=", ".join(missing), scan=HEADER_SCAN,
            found=", ".join(c for c in map(str, table.columns[:12]) if c != "_row")))
    return at


def spelled(table: pd.DataFrame, prof: Profile) -> pd.DataFrame:
    """Columns spelled as in the profile (its header is matched without regard to case)."""
    names = {c.casefold(): c for c in [*prof.detect, *(v.column for v in prof.values or [])]}
    return table.rename(columns=lambda c: names.get(str(c).strip().casefold(), c))


def _profile_table(decoded: Decoded, name: str, prof: Profile, filename: str, findings: list,
                   detect: list[str] | None = None) -> pd.DataFrame:
    table = decoded.tables[name]
    at = header_of(table, prof, filename, detect)
    findings += wider_than_header(decoded, name, at, filename)
    return spelled(rehead(table, at), prof)


def profile_sheets(decoded: Decoded, filename: str, prof: Profile, notes: Assumptions,
                   findings: list) -> pd.DataFrame:
    """The profile's sheets, each located and tagged, as parts of one table. Each sheet's header
    is found by the `detect` columns that are not figures (each sheet has its own figure column);
    a sheet's figures come from its `column`, else the `values` column, else (a sheet with none
    of them) the column named as the sheet, read as the first `values` column."""
    figures = [v.column for v in prof.values or []]
    keys = [c for c in prof.detect if c not in figures and c not in {s.column for s in prof.read.sheets}]
    parts = []
    for spec in prof.read.sheets:
        where = tr("%(file)s (sheet %(sheet)s)", file=filename, sheet=spec.name)
        part = _profile_table(decoded, spec.name, prof, where, findings, keys or None)
        column = spec.column
        if column is None and figures and not set(figures) & set(part.columns):
            column = next((c for c in part.columns if str(c).strip().casefold() == spec.name.casefold()), None)
            if column is not None:
                notes.add(tr("sheet %(sheet)s: figures from its column %(column)s", sheet=spec.name, column=column))
        if column is not None and figures:
            if column not in part.columns:
                raise SubmissionError(tr("%(file)s: no column %(column)s (read.sheets of profile %(name)s); "
                                         "columns found: %(found)s.", file=where, column=column, name=prof.name,
                                         found=", ".join(c for c in map(str, part.columns[:12]) if c != "_row")))
            part = part.drop(columns=[figures[0]], errors="ignore").rename(columns={column: figures[0]})
        parts.append(part.assign(_sheet=spec.name, _indicator=spec.indicator or ""))
        notes.add(tr("sheet %(sheet)s: %(n)s rows", sheet=spec.name, n=len(part))
                  + (f" ({spec.indicator})" if spec.indicator else ""))
    return pd.concat(parts, ignore_index=True).fillna("")


SDMX_ALIASES = {"ICCS": "CRIME_TYPE", "MEASURE": "INDICATOR"}


def sdmx_ids(columns) -> list[str]:
    """Column ids: SDMX-CSV may label headers 'REF_AREA: Reference area'."""
    out = []
    for c in columns:
        cid = str(c).split(":", 1)[0].strip().upper()
        out.append(SDMX_ALIASES.get(cid, cid))
    return out


def sdmx_version(table: pd.DataFrame) -> str | None:
    cols = sdmx_ids([c for c in table.columns if c != "_row"])
    first = cols[0] if cols else ""
    if first == "DATAFLOW":
        return "1.0"
    if first == "STRUCTURE" and "STRUCTURE_ID" in cols:
        return "2.0"
    return None


def is_template(table: pd.DataFrame) -> bool:
    cols = {str(c).strip().lower() for c in table.columns}
    return len(cols & set(REQUIRED_COLUMNS)) >= 4


def locate(decoded: Decoded, filename: str, options: ReadOptions, notes: Assumptions,
           prof: Profile | None, candidates: list[Profile]) -> Located:
    """The located table of a submission: with the profile ``prof`` (given), its sheets and
    header; else SDMX-CSV or the template by their columns, else the first of ``candidates``
    (most specific first) whose `detect` columns are in the file. A profile recognised this way
    is returned with the table as decoded so far: the caller reads the file again with the
    profile's own reading options when they differ."""
    findings: list[tuple] = []
    if prof is not None and prof.read.sheets and not options.sheet and decoded.kind == "xlsx":
        table = profile_sheets(decoded, filename, prof, notes, findings)
        return Located(_trimmed(table, filename), "profile", decoded.separator, prof, findings=findings)
    wanted = [set(prof.detect)] if prof else [set(REQUIRED_COLUMNS)] + [set(p.detect) for p in candidates]
    name = pick_sheet(decoded, wanted, filename, options, notes)
    table = decoded.tables[name]
    table.columns = [str(c).strip() for c in table.columns]
    _trimmed(table, filename)
    if prof is not None:
        table = _profile_table(decoded, name, prof, filename, findings)
        return Located(table, "profile", decoded.separator, prof, findings=findings)
    version = sdmx_version(table)
    if version or is_template(table):
        findings += wider_than_header(decoded, name, -1, filename)
        if version:  # the dataflow's ids as column names
            table = table.set_axis([*sdmx_ids(table.columns[:-1]), "_row"], axis=1)
        return Located(table, "sdmx" if version else "template", decoded.separator, sdmx=version,
                       findings=findings)
    for candidate in candidates:
        if find_header(table, set(candidate.detect)) is not None:
            return Located(table, "profile", decoded.separator, candidate, findings=findings)
    shown = [c for c in table.columns if c != "_row"]
    sheets = tr("Sheets: %(names)s; read: %(sheet)s", names=", ".join(notes.sheets),
                sheet=notes.sheet) if notes.sheets else ""
    raise SubmissionError(tr(
        "%(file)s: format not recognised. Expected the IDEAL template (missing column(s) "
        "%(missing)s; header %(header)s), SDMX-CSV (first column DATAFLOW or STRUCTURE), or a "
        "national export with a crosswalk profile (%(profiles)s; write one with `ideal profile "
        "new`). Columns found: %(found)s.", file=filename,
        missing=", ".join(c for c in OBSERVATION_COLUMNS[:-1] if c not in table.columns),
        header=",".join(OBSERVATION_COLUMNS), profiles=", ".join(sorted(p.name for p in candidates)),
        found=", ".join(map(str, shown[:12]))) + (f" {sheets}." if sheets else ""))


def _trimmed(table: pd.DataFrame, filename: str) -> pd.DataFrame:
    if table.drop(columns="_row", errors="ignore").empty and len(table.columns):
        raise SubmissionError(tr("%(file)s: the file has a header but no data rows.", file=filename))
    return table
