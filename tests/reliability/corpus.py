"""A corpus of malformed and hostile submissions. Every one must be refused with a clear
message naming what to fix, load no row, and leave its raw bytes in quarantine."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile

HEADER = "country,region,period,crime_type,indicator,value,obs_status\n"
GOOD = "MX,MX-JAL,2024,0101,incidents,1873,A\n"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r if r.endswith("\n") else r + "\n" for r in rows)).encode()


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_with(member: str, content: bytes, base: bytes | None = None) -> bytes:
    """An XLSX whose ``member`` is replaced (or added) with ``content``."""
    base = base or _xlsx([HEADER.strip().split(","), GOOD.strip().split(",")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != member:
                zout.writestr(item, zin.read(item.filename))
        zout.writestr(member, content)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    base = _xlsx([HEADER.strip().split(","), GOOD.strip().split(",")])
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                   compresslevel=9) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
        with zout.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b" " * (1 << 20)
            for _ in range(120):  # 120 MB of blanks: about 120 KB compressed
                fh.write(chunk)
    return out.getvalue()


LAUGH_ENTITIES = (b'<!ENTITY lol "lol">' + b"".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
    for i in range(1, 10)))
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [' + LAUGH_ENTITIES + b']><lolz>&lol9;</lolz>')


def _sheet_with_entities(entities: bytes, reference: bytes) -> bytes:
    """An XLSX whose worksheet XML declares ``entities`` and uses ``reference`` as a cell."""
    base = _xlsx([HEADER.strip().split(","), GOOD.strip().split(",")])
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [' + entities + b"]>"
             + sheet.replace(b"MX-JAL", reference))
    return _xlsx_with("xl/worksheets/sheet1.xml", sheet, base)


def corpus(size_limit: int) -> list[tuple[str, str, bytes]]:
    """(label, file name, bytes): at least 50 inputs a steward or an attacker might send."""
    good_xlsx = _xlsx([HEADER.strip().split(","), GOOD.strip().split(",")])
    items = [
        ("empty file", "empty.csv", b""),
        ("only blanks", "blank.csv", b" \n\n\t\n"),
        ("header only", "header.csv", HEADER.encode()),
        ("header only with BOM", "bom.csv", b"\xef\xbb\xbf" + HEADER.encode()),
        ("random binary", "noise.csv", bytes((i * 7919) % 256 for i in range(4096))),
        ("a PNG image", "photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        ("a PDF", "report.csv", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
        ("an executable", "tool.csv", b"\x7fELF\x02\x01\x01" + bytes(500)),
        ("UTF-16 text", "utf16.csv", (HEADER + GOOD.replace("1873", "-1")).encode("utf-16")),
        ("EBCDIC text", "ebcdic.csv", (HEADER + GOOD).encode("cp500")),
        ("NUL bytes inside", "nul.csv", _csv("MX,MX-JAL,2024,0101,incid\x00ents,18\x0073,A")),
        ("mixed separators", "mixed.csv", _csv("MX;MX-JAL;2024;0101;incidents;1873;A",
                                                "MX,MX-CMX,2024,0101,incidents,12,A")),
        ("unterminated quote", "quote.csv", _csv('MX,"MX-JAL,2024,0101,incidents,1873,A',
                                                 "MX,MX-CMX,2024,0101,incidents,5,A")),
        ("old Mac line ends with a bad code", "cr.csv",
         (HEADER + "MX,MX-JAL,2024,101,incidents,5,A\n").replace("\n", "\r").encode()),
        ("ambiguous decimal marks", "decimals.csv",
         _csv("MX,MX-JAL,2024,0101,incidents,\"1.234,5\",A", "MX,MX-CMX,2024,0101,incidents,\"1,234.5\",A")),
        ("a million empty lines", "lines.csv", b"\n" * 1_000_000),
        ("value far too large", "huge.csv", _csv("MX,MX-JAL,2024,0101,incidents,1e308,A")),
        ("value beyond float", "overflow.csv", _csv("MX,MX-JAL,2024,0101,incidents,1e400,A")),
        ("value with 40 digits", "digits.csv",
         _csv("MX,MX-JAL,2024,0101,incidents,9999999999999999999999999999999999999999,A")),
        ("value inf", "inf.csv", _csv("MX,MX-JAL,2024,0101,incidents,inf,A")),
        ("value not a number", "text.csv", _csv("MX,MX-JAL,2024,0101,incidents,many,A")),
        ("negative count", "negative.csv", _csv("MX,MX-JAL,2024,0101,incidents,-5,A")),
        ("future period", "future.csv", _csv("MX,MX-JAL,2099,0101,incidents,5,A")),
        ("month 13", "month.csv", _csv("MX,MX-JAL,2024-13,0101,incidents,5,A")),
        ("quarter 5", "quarter.csv", _csv("MX,MX-JAL,2024-Q5,0101,incidents,5,A")),
        ("period 1800", "old.csv", _csv("MX,MX-JAL,1800,0101,incidents,5,A")),
        ("duplicate key, same value", "dup.csv", _csv(GOOD, GOOD)),
        ("duplicate key, other value", "dup2.csv", _csv(GOOD, GOOD.replace("1873", "1874"))),
        ("crime code that does not exist", "code.csv", _csv("MX,MX-JAL,2024,9999,incidents,5,A")),
        ("crime code without its leading zero", "zero.csv", _csv("MX,MX-JAL,2024,101,incidents,5,A")),
        ("region that does not exist", "region.csv", _csv("MX,MX-ZZZ,2024,0101,incidents,5,A")),
        ("indicator that does not exist", "indicator.csv", _csv("MX,MX-JAL,2024,0101,bodies,5,A")),
        ("status letter that does not exist", "status.csv", _csv("MX,MX-JAL,2024,0101,incidents,5,Z")),
        ("country that does not exist", "xx.csv", _csv("XX,XX-JAL,2024,0101,incidents,5,A")),
        ("rows of another country", "colombia.csv", _csv("CO,CO-ANT,2024,0101,incidents,5,A")),
        ("Cyrillic letter in the country", "homoglyph.csv", _csv("\u041cX,MX-JAL,2024,0101,incidents,5,A")),
        ("formula HYPERLINK in a region", "formula.csv",
         _csv('MX,"=HYPERLINK(""http://evil.example/x"",""click"")",2024,0101,incidents,5,A')),
        ("formula in a value", "formula2.csv", _csv("MX,MX-JAL,2024,0101,incidents,=1+1,A")),
        ("DDE command", "dde.csv", _csv("MX,MX-JAL,2024,0101,\"+cmd|' /C calc'!A0\",5,A")),
        ("at-formula in the indicator", "at.csv", _csv("MX,MX-JAL,2024,0101,@SUM(A1:A9),5,A")),
        ("script in a region", "script.csv", _csv("MX,<script>alert(1)</script>,2024,0101,incidents,5,A")),
        ("HTML in the header", "header-html.csv",
         _csv("MX,MX-JAL,2024,0101,incidents,5,A", header=HEADER.replace("value", "<b onmouseover=x>value</b>"))),
        ("SQL in a region", "sql.csv", _csv("MX,\"MX-JAL'; DROP TABLE observations;--\",2024,0101,incidents,5,A")),
        ("right-to-left override", "rtl.csv", _csv("MX,MX-\u202eLAJ,2024,0101,incidents,5,A")),
        ("a 2 MB cell", "cell.csv", _csv("MX,MX-JAL,2024,0101," + "x" * 2_000_000 + ",5,A")),
        ("10,000 columns", "wide.csv", (",".join(f"c{i}" for i in range(10_000)) + "\n"
                                        + ",".join("1" for _ in range(10_000)) + "\n").encode()),
        ("value column missing", "novalue.csv",
         b"country,region,period,crime_type,indicator\nMX,MX-JAL,2024,0101,incidents\n"),
        ("only unknown columns", "unknown.csv", b"foo,bar\n1,2\n"),
        ("JSON named .csv", "data.csv", b'[{"country": "MX", "value": 5}]'),
        ("XML entity bomb named .csv", "laughs.csv", LAUGHS),
        ("truncated XLSX", "cut.xlsx", good_xlsx[: len(good_xlsx) // 2]),
        ("XLSX zip bomb", "bomb.xlsx", _zip_bomb()),
        ("XLSX with an entity bomb", "laughs.xlsx", _sheet_with_entities(LAUGH_ENTITIES, b"&lol9;")),
        ("XLSX with an external entity", "xxe.xlsx",
         _sheet_with_entities(b'<!ENTITY xxe SYSTEM "file:///etc/passwd">', b"&xxe;")),
        ("zip that is not a workbook", "notbook.xlsx", _zip_of("readme.txt", b"hello")),
        ("XLSX with errors in its rows", "rows.xlsx",
         _xlsx([HEADER.strip().split(","), ["MX", "MX-JAL", "2024", "0101", "incidents", -3, "A"]])),
        ("truncated gzip", "cut.csv.gz", gzip.compress(_csv(GOOD) * 50)[:40]),
        ("bzip2 of garbage", "noise.csv.bz2", bz2.compress(bytes(range(256)) * 40)),
        ("gzip bomb", "bomb.csv.gz", _gzip_bomb()),
        ("path traversal in the name", "../../../etc/cron.d/x.csv", _csv("MX,MX-JAL,2024,0101,incidents,-1,A")),
        ("absolute path as the name", "/etc/passwd", _csv("MX,MX-JAL,2024,0101,incidents,-1,A")),
        ("newline and NUL in the name", "a\nb\x00c.csv", _csv("MX,MX-JAL,2024,0101,incidents,-1,A")),
        ("a 300-character name", "n" * 300 + ".csv", _csv("MX,MX-JAL,2024,0101,incidents,-1,A")),
        ("SDMX-CSV with an unknown action", "sdmx.csv",
         b"DATAFLOW,ACTION,REF_AREA,TIME_PERIOD,ICCS,INDICATOR,OBS_VALUE\n"
         b"CLASI:IDEAL(1.0),X,MX-JAL,2024,0101,incidents,5\n"),
        ("over the size limit", "big.csv", _csv(*([GOOD] * (size_limit // len(GOOD) + 10)))),
    ]
    return items


def _zip_of(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(name, data)
    return out.getvalue()


def _gzip_bomb() -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as fh:
        fh.write(HEADER.encode())
        chunk = b"0" * (1 << 20)
        for _ in range(600):  # 600 MB of zeros, over the 512 MB expansion limit
            fh.write(chunk)
    return out.getvalue()
