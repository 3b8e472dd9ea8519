"""Bytes to a table of text cells: CSV (any regional dialect), XLSX, bz2/gzip-compressed CSV.

Every cell stays text; numbers are parsed later, per column, once the decimal mark is known.
Compressed and zipped inputs are opened with hard limits so a bomb cannot exhaust memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile

import pandas as pd

from ideal.errors import SubmissionError
from ideal.ingest.sniff import Assumptions, ReadOptions, decode, separator

MAX_EXPANDED = 512 * 1024 * 1024  # bytes a compressed upload may expand to
MAX_RATIO = 200  # XLSX: uncompressed / compressed size above this is treated as a zip bomb


def _decompress(data: bytes, filename: str, notes: Assumptions) -> bytes:
    if data[:3] == b"BZh":
        notes.add("compression: bzip2")
        dec = bz2.BZ2Decompressor()
        out = dec.decompress(data, max_length=MAX_EXPANDED)
        if not dec.eof:
            raise SubmissionError(f"{filename}: the bzip2 file is incomplete or expands beyond "
                                  f"{MAX_EXPANDED // 2**20} MB; send it uncompressed or split it.")
        return out
    if data[:2] == b"\x1f\x8b":
        notes.add("compression: gzip")
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                out = fh.read(MAX_EXPANDED + 1)
        except (OSError, EOFError) as exc:
            raise SubmissionError(f"{filename}: the gzip file is damaged or incomplete.") from exc
        if len(out) > MAX_EXPANDED:
            raise SubmissionError(f"{filename}: expands beyond {MAX_EXPANDED // 2**20} MB.")
        return out
    return data


def read_csv_text(data: bytes, filename: str, options: ReadOptions,
                  notes: Assumptions) -> tuple[pd.DataFrame, str]:
    text = decode(data, filename, options, notes)
    if not text.strip():
        raise SubmissionError(f"{filename}: the file is empty; send the filled-in IDEAL template.")
    if "\x00" in text[:4096]:
        raise SubmissionError(f"{filename}: this is not a text CSV file (binary content); "
                              "export the sheet as CSV UTF-8.")
    if "\r\n" in text[:4096]:
        notes.add("line endings: CRLF (Windows)")
    sep = separator(text, filename, options, notes)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SubmissionError(f"{filename}: the CSV cannot be parsed ({exc}); check quoting and "
                              "that every line has the same number of fields.") from exc
    return df, sep


def read_xlsx(data: bytes, filename: str, options: ReadOptions, notes: Assumptions) -> pd.DataFrame:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        expanded = sum(i.file_size for i in zf.infolist())
        zf.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise SubmissionError(f"{filename}: the XLSX file is damaged or incomplete (was the upload "
                              "interrupted?); save it again and resend.") from exc
    except Exception as exc:  # zlib errors inside a truncated member
        raise SubmissionError(f"{filename}: the XLSX file is damaged ({type(exc).__name__}); save "
                              "it again and resend.") from exc
    if expanded > MAX_EXPANDED or expanded > MAX_RATIO * max(len(data), 1) and expanded > 20 * 2**20:
        raise SubmissionError(f"{filename}: the XLSX expands to {expanded // 2**20} MB from "
                              f"{len(data) // 1024} KB; refused as a possible zip bomb. Send "
                              "the data as CSV.")
    import openpyxl  # uses defusedxml when installed: no XML entity expansion

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise SubmissionError(f"{filename}: the XLSX file cannot be opened "
                              f"({type(exc).__name__}); save it again as .xlsx and resend.") from exc
    names = wb.sheetnames
    sheet = options.sheet or ("data" if "data" in names else names[0])
    if sheet not in names:
        raise SubmissionError(f"{filename}: no sheet named {sheet!r}; sheets: {', '.join(names)}.")
    notes.add(f"sheet: {sheet}")
    rows = list(wb[sheet].iter_rows(values_only=True))
    wb.close()
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise SubmissionError(f"{filename}: sheet {sheet!r} is empty.")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    body = [["" if c is None else _cell(c) for c in r[:len(header)]] for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype="string").fillna("").astype(str)


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def read_table(data: bytes, filename: str, options: ReadOptions,
               notes: Assumptions) -> tuple[pd.DataFrame, str]:
    """(table of text cells, separator or 'xlsx')."""
    if not data.strip():
        raise SubmissionError(f"{filename}: the file is empty; send the filled-in IDEAL template.")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data, filename, options, notes), "xlsx"
    return read_csv_text(_decompress(data, filename, notes), filename, options, notes)
