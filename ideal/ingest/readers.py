"""Bytes to a table of text cells: CSV (any regional dialect), XLSX, bz2/gzip-compressed CSV.

Every cell stays text; numbers are parsed later, per column, once the decimal mark is known.
Compressed and zipped inputs are opened with hard limits so a bomb cannot exhaust memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
import zipfile

import pandas as pd

from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest.sniff import Assumptions, ReadOptions, decode, separator

MAX_EXPANDED = 512 * 1024 * 1024  # bytes a compressed upload may expand to
MAX_RATIO = 200  # XLSX: uncompressed / compressed size above this is treated as a zip bomb


def _decompress(data: bytes, filename: str, notes: Assumptions) -> bytes:
    if data[:3] == b"BZh":
        notes.add(tr("compression: %(kind)s", kind="bzip2"))
        dec = bz2.BZ2Decompressor()
        out = dec.decompress(data, max_length=MAX_EXPANDED)
        if not dec.eof:
            raise SubmissionError(tr("%(file)s: the bzip2 file is incomplete or expands beyond "
                                     "%(mb)s MB; send it uncompressed or split it.", file=filename,
                                     mb=MAX_EXPANDED // 2**20))
        return out
    if data[:2] == b"\x1f\x8b":
        notes.add(tr("compression: %(kind)s", kind="gzip"))
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                out = fh.read(MAX_EXPANDED + 1)
        except (OSError, EOFError) as exc:
            raise SubmissionError(tr("%(file)s: the gzip file is damaged or incomplete.", file=filename)) from exc
        if len(out) > MAX_EXPANDED:
            raise SubmissionError(tr("%(file)s: expands beyond %(mb)s MB.", file=filename, mb=MAX_EXPANDED // 2**20))
        return out
    return data


def read_csv_text(data: bytes, filename: str, options: ReadOptions,
                  notes: Assumptions) -> tuple[pd.DataFrame, str]:
    text = decode(data, filename, options, notes)
    if not text.strip():
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    if "\x00" in text[:4096]:
        raise SubmissionError(tr("%(file)s: this is not a text CSV file (binary content); export "
                                 "the sheet as CSV UTF-8.", file=filename))
    if "\r\n" in text[:4096]:
        notes.add(tr("line endings: CRLF (Windows)"))
    _check_width(text, filename)
    sep = separator(text, filename, options, notes)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SubmissionError(tr("%(file)s: the CSV cannot be parsed (%(why)s); check quoting and "
                                 "that every line has the same number of fields.", file=filename,
                                 why=exc)) from exc
    return df, sep


MAX_COLUMNS = 2000  # a wide export by month over twenty years has 240; no real one comes near
MAX_CELLS = 20_000_000  # cells of one sheet or file (a 100 MB template holds about 4 million)


def _check_width(text: str, filename: str) -> None:
    """Refuse, before parsing, a file whose first line has more fields than any real export
    (#34: a 9.9 MB CSV of a million columns killed a server worker)."""
    end = text.find("\n", 0, 1 << 20)
    first = text[:end if end >= 0 else 1 << 20]
    fields = max(first.count(c) for c in ",;\t|") + 1
    if fields > MAX_COLUMNS:
        raise SubmissionError(tr("%(file)s: the first line has %(n)s fields or more, more than the %(most)s a "
                                 "national export may have; send the data in long form (one row per "
                                 "region, period and crime type) or the IDEAL template.",
                                 file=filename, n=fields, most=MAX_COLUMNS))
    lines = text.count("\n", 0, len(text)) + 1
    if lines * fields > MAX_CELLS:
        raise SubmissionError(tr("%(file)s: %(lines)s lines of %(n)s fields are more than the %(most)s "
                                 "cells a file may have; split the file by year or region.",
                                 file=filename, lines=lines, n=fields, most=MAX_CELLS))


def _open_workbook(data: bytes, filename: str):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        expanded = sum(i.file_size for i in zf.infolist())
        zf.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise SubmissionError(tr("%(file)s: the XLSX file is damaged or incomplete (was the upload "
                                 "interrupted?); save it again and resend.", file=filename)) from exc
    except Exception as exc:  # zlib errors inside a truncated member
        raise SubmissionError(tr("%(file)s: the XLSX file is damaged (%(why)s); save it again and "
                                 "resend.", file=filename, why=type(exc).__name__)) from exc
    if expanded > MAX_EXPANDED or expanded > MAX_RATIO * max(len(data), 1) and expanded > 20 * 2**20:
        raise SubmissionError(tr("%(file)s: the XLSX expands to %(mb)s MB from %(kb)s KB; refused "
                                 "as a possible zip bomb. Send the data as CSV.", file=filename,
                                 mb=expanded // 2**20, kb=len(data) // 1024))
    import openpyxl  # uses defusedxml when installed: no XML entity expansion

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise SubmissionError(tr("%(file)s: the XLSX file cannot be opened (%(why)s); save it "
                                 "again as .xlsx and resend.", file=filename,
                                 why=type(exc).__name__)) from exc


def _sheet_table(ws, name: str, filename: str, notes: Assumptions) -> pd.DataFrame:
    """One sheet as text cells, every row whatever its <dimension> element declares; a
    ``_row`` column keeps each row's number in the sheet."""
    if (ws.max_column or 0) > MAX_COLUMNS or (ws.max_row or 0) * (ws.max_column or 0) > MAX_CELLS:
        raise SubmissionError(tr("%(file)s: sheet %(sheet)s spans %(rows)s rows and %(cols)s columns, more "
                                 "than a file may have (%(most)s columns, %(cells)s cells); delete the "
                                 "empty columns and rows, or split the file.", file=filename, sheet=name,
                                 rows=ws.max_row, cols=ws.max_column, most=MAX_COLUMNS, cells=MAX_CELLS))
    declared = ws.calculate_dimension() if ws.max_row else None
    ws.reset_dimensions()  # read_only trusts <dimension>; a stale one would cut rows silently
    rows = [(i, r) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)
            if any(c is not None for c in r)]
    numbered = [(i, r) for i, r in rows if any(c != "" for c in r if c is not None)]
    if not numbered:
        return pd.DataFrame()
    last = numbered[-1][0]
    if declared and declared != "A1:A1":
        _, _, bottom = declared.partition(":")
        stated = int("".join(ch for ch in bottom if ch.isdigit()) or 0)
        if stated and stated < last:
            notes.add(tr("sheet %(sheet)s: its <dimension> says %(declared)s but it has rows up "
                         "to %(last)s; every row was read", sheet=name, declared=declared, last=last))
    present = _rows_present(ws)
    if present is not None and present > len(rows):  # what openpyxl read, blank strings included
        raise SubmissionError(tr("%(file)s: sheet %(sheet)s has %(present)s rows with values but "
                                 "%(read)s were read; save the workbook again and resend.",
                                 file=filename, sheet=name, present=present, read=len(rows)))
    header = [str(c).strip() if c is not None else "" for c in numbered[0][1]]
    width = max(len(header), max(len(r) for _, r in numbered))
    header += [""] * (width - len(header))
    header = [h or f"column {i + 1}" for i, h in enumerate(header)]
    body = [[("" if c is None else _cell(c)) for c in r] + [""] * (width - len(r)) for _, r in numbered[1:]]
    df = pd.DataFrame(body, columns=header, dtype="string").fillna("").astype(str)
    return df.assign(_row=[i for i, _ in numbered[1:]])


_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")


def _rows_present(ws) -> int | None:
    """Rows of the sheet's XML that hold a value, counted apart from openpyxl (the receipt's
    row count is checked against it); None when the XML cannot be read this way."""
    try:
        with ws.parent._archive.open(ws._worksheet_path) as fh:
            xml = fh.read()
    except (AttributeError, KeyError, OSError):
        return None
    return sum(1 for m in _ROW.finditer(xml) if m.group(1) and _VALUE.search(m.group(1)))


def read_workbook(data: bytes, filename: str, notes: Assumptions,
                  only: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet (or the ``only`` ones) of a workbook as text tables."""
    wb = _open_workbook(data, filename)
    try:
        names = wb.sheetnames
        missing = [n for n in (only or []) if n not in names]
        if missing:
            raise SubmissionError(tr("%(file)s: no sheet named %(missing)s; the sheets are: "
                                     "%(names)s.", file=filename, missing=", ".join(map(repr, missing)),
                                     names=", ".join(names)))
        return {n: _sheet_table(wb[n], n, filename, notes) for n in (only or names)}
    finally:
        wb.close()


def pick_sheet(sheets: dict[str, pd.DataFrame], wanted: list[set[str]], filename: str,
               options: ReadOptions, notes: Assumptions) -> pd.DataFrame:
    """The data sheet: --sheet, else 'data', else the first sheet whose header (within its
    first rows) has one of the ``wanted`` column sets (a cover or notes sheet is skipped)."""
    names = list(sheets)
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
    table = sheets[chosen]
    if table.empty:
        raise SubmissionError(tr("%(file)s: sheet %(sheet)r is empty; the sheets are: %(names)s "
                                 "(choose one with --sheet).", file=filename, sheet=chosen,
                                 names=", ".join(names)))
    return table


HEADER_SCAN = 30


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
        body = table.iloc[at + 1:]
    else:  # CSV: rows numbered by their line (the first line was the header)
        body = table.iloc[at + 1:].assign(_row=range(at + 3, len(table) + 2))
        cols.append("_row")
    out = body.copy()
    out.columns = cols
    return out.reset_index(drop=True)


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def is_workbook(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def read_table(data: bytes, filename: str, options: ReadOptions, notes: Assumptions,
               wanted: list[set[str]] | None = None) -> tuple[pd.DataFrame, str]:
    """(table of text cells, separator or 'xlsx'); in a workbook, the sheet chosen by
    pick_sheet with the ``wanted`` column sets."""
    if not data.strip():
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    if is_workbook(data, filename):
        sheets = read_workbook(data, filename, notes)
        return pick_sheet(sheets, wanted or [], filename, options, notes), "xlsx"
    return read_csv_text(_decompress(data, filename, notes), filename, options, notes)
