"""Stage 1 of the reading: bytes -> decoded tables (compression, encoding, separator, sheets).

Every cell stays text; numbers are parsed later, per column, once the decimal mark is known.
Nothing here knows what a header, a template or a profile is: a decoded table is the file's
records as the steward's spreadsheet shows them, the first record as provisional column names
and each record's number (``_row``: the row a spreadsheet shows, blank records counted) and
width (fields up to the last filled one) kept beside it, for the next stage to judge.

Bounded by what the file is, not by its first line: compressed inputs by their unpacked size,
every record's width measured as it is read (CSV of any separator, every row of every sheet),
before pandas builds anything; a record over the limits is refused naming its row.
"""

from __future__ import annotations

import bz2
import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest.sniff import Assumptions, ReadOptions, decode_text, separator

MAX_EXPANDED = 512 * 1024 * 1024  # bytes a compressed upload may expand to
MAX_RATIO = 200  # uncompressed / compressed size above this (and 20 MB) is treated as a bomb
MAX_COLUMNS = 2000  # a wide export by month over twenty years has 240; no real one comes near
MAX_CELLS = 20_000_000  # cells of one sheet or file (a 100 MB template holds about 4 million)
MAX_CELL_CHARS = 1_000_000  # characters of one cell (a real cell holds a name or a number)


@dataclass
class Decoded:
    """A file's tables: one for a CSV (named ""), one per sheet of a workbook, in order."""

    kind: str  # "csv" | "xlsx"
    separator: str  # the CSV separator, or "xlsx"
    tables: dict[str, pd.DataFrame]
    # per table, the width of each record (the first record included), in table order
    widths: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.tables)


def is_workbook(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def decode(data: bytes, filename: str, options: ReadOptions, notes: Assumptions,
           sheets: list[str] | None = None) -> Decoded:
    """The file's tables: a workbook's sheets (or the ``sheets`` named), or a CSV (bz2 or
    gzip compressed or not) in its encoding and separator, detected or given."""
    if not data.strip():
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    if is_workbook(data, filename):
        return _workbook(data, filename, notes, sheets)
    return _csv(_decompress(data, filename, notes), filename, options, notes)


def _decompress(data: bytes, filename: str, notes: Assumptions) -> bytes:
    """A bz2 or gzip file unpacked in pieces, stopped as soon as it outgrows what any real
    export compresses from (MAX_RATIO times the upload, at least 20 MB, at most MAX_EXPANDED):
    a bomb is refused after a few megabytes, not after gigabytes."""
    if data[:3] == b"BZh":
        kind, make = "bzip2", bz2.BZ2Decompressor
    elif data[:2] == b"\x1f\x8b":
        kind, make = "gzip", lambda: zlib.decompressobj(wbits=31)
    else:
        return data
    notes.add(tr("compression: %(kind)s", kind=kind))
    most = min(MAX_EXPANDED, max(20 * 2**20, MAX_RATIO * len(data)))
    out, dec, rest = bytearray(), make(), data
    try:
        while True:
            piece = dec.decompress(rest, 1 << 20) if kind == "gzip" else dec.decompress(rest, max_length=1 << 20)
            out += piece
            if len(out) > most:
                raise SubmissionError(tr("%(file)s: the %(kind)s file expands to more than %(mb)s MB, %(ratio)s "
                                         "times its size or more; refused as a possible compression bomb. "
                                         "Send it uncompressed or split it.", file=filename, kind=kind,
                                         mb=most // 2**20, ratio=MAX_RATIO))
            if kind == "gzip":
                rest = dec.unconsumed_tail
                if dec.eof or (not rest and not piece):
                    break
            else:
                rest = b""
                if dec.eof or (dec.needs_input and not piece):
                    break
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise SubmissionError(tr("%(file)s: the %(kind)s file is damaged or incomplete.", file=filename,
                                 kind=kind)) from exc
    if not dec.eof:
        raise SubmissionError(tr("%(file)s: the %(kind)s file is damaged or incomplete.", file=filename, kind=kind))
    return bytes(out)


def _too_wide(filename: str, row: int, n: int, sheet: str | None = None, *, more: bool = False) -> SubmissionError:
    where = tr("%(file)s (sheet %(sheet)s)", file=filename, sheet=sheet) if sheet else filename
    fields = tr("%(n)s fields or more", n=n) if more else tr("%(n)s fields", n=n)
    return SubmissionError(tr(
        "%(file)s: row %(row)s has %(fields)s, more than the %(most)s a national export may "
        "have; send the data in long form (one row per region, period and crime type) or the "
        "IDEAL template.", file=where, row=row, fields=fields, most=MAX_COLUMNS))


def _too_many(filename: str, cells: int, sheet: str | None = None) -> SubmissionError:
    where = tr("%(file)s (sheet %(sheet)s)", file=filename, sheet=sheet) if sheet else filename
    return SubmissionError(tr("%(file)s: more than %(most)s cells (%(cells)s read so far); split the "
                              "file by year or region.", file=where, most=MAX_CELLS, cells=cells))


def _filled(record) -> int:
    """Fields up to the last one that holds something."""
    n = len(record)
    while n and (record[n - 1] is None or not str(record[n - 1]).strip()):
        n -= 1
    return n


def _first_line_guard(text: str, filename: str) -> None:
    """Refuse at once a file whose first line alone is wider than any export (a header of a
    million columns), before any record is split."""
    end = text.find("\n", 0, 1 << 20)
    first = text[:end if end >= 0 else 1 << 20]
    fields = max(first.count(c) for c in ",;\t|") + 1
    if fields > MAX_COLUMNS:
        raise _too_wide(filename, 1, fields, more=True)


def _csv(data: bytes, filename: str, options: ReadOptions, notes: Assumptions) -> Decoded:
    text = decode_text(data, filename, options, notes)
    if not text.strip():
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    if "\x00" in text[:4096]:
        raise SubmissionError(tr("%(file)s: this is not a text CSV file (binary content); export "
                                 "the sheet as CSV UTF-8.", file=filename))
    if "\r\n" in text[:4096]:
        notes.add(tr("line endings: CRLF (Windows)"))
    _first_line_guard(text, filename)
    sep = separator(text, filename, options, notes)
    numbers, widths = _measure(text, sep, filename)
    if not numbers:
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    width = max(1, int(max(len_ for len_, _ in widths)))
    cells = _cells_of(text, sep, width, len(numbers), filename)
    filled = np.array([f for _, f in widths], dtype=np.int64)
    table = _table(cells, numbers)
    return Decoded("csv", sep, {"": table}, {"": filled})


def _measure(text: str, sep: str, filename: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Each non-blank record's row number (blank records counted, as a spreadsheet shows them)
    and (fields, fields up to the last filled one), measured record by record before anything
    is built; a record wider than MAX_COLUMNS or a file over MAX_CELLS is refused at once."""
    csv.field_size_limit(MAX_CELL_CHARS)
    numbers: list[int] = []
    widths: list[tuple[int, int]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    row = 0
    try:
        for record in reader:
            row += 1
            n = len(record)
            if n == 0 or (n == 1 and not record[0].strip()):
                continue  # a blank line: no record (its row still counts)
            if n > MAX_COLUMNS:
                raise _too_wide(filename, row, n)
            cells += n
            if cells > MAX_CELLS:
                raise _too_many(filename, cells)
            numbers.append(row)
            widths.append((n, _filled(record)))
    except csv.Error as exc:
        raise SubmissionError(tr("%(file)s: the CSV cannot be read at row %(row)s (%(why)s); check "
                                 "quoting (a cell over %(most)s characters, or a quote never "
                                 "closed).", file=filename, row=row + 1, why=exc,
                                 most=MAX_CELL_CHARS)) from exc
    return numbers, widths


def _cells_of(text: str, sep: str, width: int, records: int, filename: str) -> pd.DataFrame:
    """Every record as ``width`` text cells (positional columns; a record shorter than the
    widest is padded with empty cells): pandas' C reader where it splits the records as the
    csv module did, else the csv module's records themselves."""
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=range(width), dtype=str,
                         keep_default_na=False, na_filter=False, skip_blank_lines=True,
                         index_col=False, engine="c", quoting=csv.QUOTE_MINIMAL)
        if len(df) == records:
            return df
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        pass
    rows = [r + [""] * (width - len(r)) for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep)
            if r and not (len(r) == 1 and not r[0].strip())]
    if len(rows) != records:  # cannot happen: the same reader measured them
        raise SubmissionError(tr("%(file)s: the CSV cannot be parsed; check quoting and that every "
                                 "line has the same number of fields.", file=filename))
    return pd.DataFrame(rows, columns=range(width), dtype=str)


def unique_names(names: list[str]) -> list[str]:
    """Column names with a repeated one numbered as pandas does (``a``, ``a.1``)."""
    out, seen = [], {}
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _names(cells) -> list[str]:
    """The first record as column names: trimmed, an empty one named by its position, a
    repeated one numbered."""
    return unique_names([(str(c).strip() if c is not None else "") or f"column {i + 1}"
                         for i, c in enumerate(cells)])


def _table(cells: pd.DataFrame, numbers: list[int]) -> pd.DataFrame:
    """The records with the first as provisional column names and ``_row`` beside them."""
    header = _names(cells.iloc[0].tolist())
    body = cells.iloc[1:].reset_index(drop=True)
    body.columns = header
    body = body.astype(str) if len(body) else body.astype(object)
    return body.assign(_row=np.asarray(numbers[1:], dtype=np.int64))


def _open_workbook(data: bytes, filename: str):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        expanded = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
        raise SubmissionError(tr("%(file)s: the XLSX file is damaged or incomplete (was the upload "
                                 "interrupted?); save it again and resend.", file=filename)) from exc
    # the unpacked size is judged before anything is unpacked (a 1 KB workbook can declare
    # gigabytes); a member cannot unpack beyond its declared size (zipfile stops there)
    if expanded > MAX_EXPANDED or expanded > MAX_RATIO * max(len(data), 1) and expanded > 20 * 2**20:
        raise SubmissionError(tr("%(file)s: the XLSX expands to %(mb)s MB from %(kb)s KB; refused "
                                 "as a possible zip bomb. Send the data as CSV.", file=filename,
                                 mb=expanded // 2**20, kb=len(data) // 1024))
    try:
        zf.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise SubmissionError(tr("%(file)s: the XLSX file is damaged or incomplete (was the upload "
                                 "interrupted?); save it again and resend.", file=filename)) from exc
    except Exception as exc:  # zlib errors inside a truncated member
        raise SubmissionError(tr("%(file)s: the XLSX file is damaged (%(why)s); save it again and "
                                 "resend.", file=filename, why=type(exc).__name__)) from exc
    import openpyxl  # uses defusedxml when installed: no XML entity expansion

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise SubmissionError(tr("%(file)s: the XLSX file cannot be opened (%(why)s); save it "
                                 "again as .xlsx and resend.", file=filename,
                                 why=type(exc).__name__)) from exc


def _workbook(data: bytes, filename: str, notes: Assumptions, only: list[str] | None) -> Decoded:
    wb = _open_workbook(data, filename)
    try:
        names = wb.sheetnames
        missing = [n for n in (only or []) if n not in names]
        if missing:
            raise SubmissionError(tr("%(file)s: no sheet named %(missing)s; the sheets are: "
                                     "%(names)s.", file=filename, missing=", ".join(map(repr, missing)),
                                     names=", ".join(names)))
        if not names:
            raise SubmissionError(tr("%(file)s: the workbook has no sheets; save it again and resend.",
                                     file=filename))
        tables, widths = {}, {}
        for n in only or names:
            try:
                tables[n], widths[n] = _sheet(wb[n], n, filename, notes)
            except SubmissionError:
                raise
            except Exception as exc:  # the sheet's XML is damaged (openpyxl parses it as it goes)
                raise SubmissionError(tr("%(file)s: sheet %(sheet)s of the XLSX file is damaged (%(why)s); "
                                         "save the workbook again and resend.", file=filename, sheet=n,
                                         why=type(exc).__name__)) from exc
        return Decoded("xlsx", "xlsx", tables, widths)
    finally:
        wb.close()


def _sheet(ws, name: str, filename: str, notes: Assumptions) -> tuple[pd.DataFrame, np.ndarray]:
    """One sheet as text cells, every row whatever its <dimension> element declares, each
    row's width measured as it is read; ``_row`` keeps each row's number in the sheet."""
    declared = ws.calculate_dimension() if ws.max_row else None
    ws.reset_dimensions()  # read_only trusts <dimension>; a stale one would cut rows silently
    rows, read, cells = [], 0, 0
    for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
        if len(r) > MAX_COLUMNS and _filled(r) > MAX_COLUMNS:
            raise _too_wide(filename, i, _filled(r), name)
        if not any(c is not None for c in r):
            continue
        read += 1
        cells += len(r)
        if cells > MAX_CELLS:
            raise _too_many(filename, cells, name)
        if any(c != "" for c in r if c is not None):
            rows.append((i, r[:MAX_COLUMNS]))
    if not rows:
        return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    last = rows[-1][0]
    if declared and declared != "A1:A1":
        _, _, bottom = declared.partition(":")
        stated = int("".join(ch for ch in bottom if "0" <= ch <= "9") or 0)
        if stated and stated < last:
            notes.add(tr("sheet %(sheet)s: its <dimension> says %(declared)s but it has rows up "
                         "to %(last)s; every row was read", sheet=name, declared=declared, last=last))
    present = _rows_present(ws)
    if present is not None and present > read:  # what openpyxl read, blank strings included
        raise SubmissionError(tr("%(file)s: sheet %(sheet)s has %(present)s rows with values but "
                                 "%(read)s were read; save the workbook again and resend.",
                                 file=filename, sheet=name, present=present, read=read))
    filled = np.array([_filled(r) for _, r in rows], dtype=np.int64)
    width = max(1, int(filled.max()))
    body = [[("" if c is None else _cell(c)) for c in r[:width]] + [""] * (width - len(r[:width]))
            for _, r in rows]
    cells_frame = pd.DataFrame(body, columns=range(width), dtype="string").fillna("").astype(str)
    return _table(cells_frame, [i for i, _ in rows]), filled


_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>[^<]")


def _rows_present(ws) -> int | None:
    """Rows of the sheet's XML that hold a value, counted apart from openpyxl (the receipt's
    row count is checked against it); None when the XML cannot be read this way."""
    try:
        with ws.parent._archive.open(ws._worksheet_path) as fh:
            xml = fh.read()
    except Exception:  # noqa: BLE001 - a member zipfile cannot open (version, compression): not counted
        return None
    return sum(1 for m in _ROW.finditer(xml) if m.group(1) and _VALUE.search(m.group(1)))


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)
