"""What a regional CSV export looks like: encoding, separator, decimal mark, thousands.

Detect what can be detected, record every assumption so the feedback can say it, and refuse
what is ambiguous with a message naming the option that settles it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

import pandas as pd

from ideal.errors import SubmissionError
from ideal.frames import per_unique
from ideal.i18n import tr

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MISSING_MARKERS = {"", "na", "n/a", "n.a.", "-", "--", "n.d.", "nd", "s/d", "s.d.", "null", "nan", "..", "…"}


@dataclass
class ReadOptions:
    """Overrides a steward (or a crosswalk profile) can give when detection is not enough."""

    encoding: str | None = None
    separator: str | None = None
    decimal: str | None = None  # "." or ","
    sheet: str | None = None
    profile: str | None = None

    def key(self) -> str:
        """How the file is read, as text: the same bytes read another way are another attempt."""
        given = [(k, getattr(self, k)) for k in ("profile", "sheet", "separator", "decimal", "encoding")]
        return ";".join(f"{k}={v!r}" for k, v in given if v)[:300]

    @classmethod
    def named(cls, encoding: str | None = None, separator: str | None = None,
              decimal: str | None = None, sheet: str | None = None,
              profile: str | None = None) -> ReadOptions:
        """The options as a steward gives them (CLI flags, portal and API form fields): the
        separator by name (comma, semicolon, tab, pipe) or as the character, the decimal mark
        . or ,; blanks mean 'detect'. Anything else is refused with what to give."""
        sep = separator if separator in SEPARATORS else (separator or "").strip()  # keep a tab
        dec = (decimal or "").strip()
        names = {name: char for char, name in SEPARATORS.items()}
        if sep and sep not in names and sep not in SEPARATORS:
            raise SubmissionError(tr("separator %(given)r: give one of %(names)s.", given=sep,
                                     names=", ".join(names)))
        if dec not in ("", ".", ","):
            raise SubmissionError(tr("decimal mark %(given)r: give . or ,", given=dec))
        return cls(encoding=(encoding or "").strip() or None, separator=names.get(sep, sep) or None,
                   decimal=dec or None, sheet=(sheet or "").strip() or None,
                   profile=(profile or "").strip() or None)


@dataclass
class Assumptions:
    notes: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # a workbook's sheets, and the one read
    sheet: str = ""

    def add(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def decode_text(data: bytes, filename: str, options: ReadOptions, notes: Assumptions) -> str:
    """The file's text in its encoding: given, stated by a BOM, UTF-8, else detected."""
    if options.encoding:
        try:
            return data.decode(options.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SubmissionError(tr("%(file)s: cannot be read as %(encoding)s (%(why)s); check "
                                     "the --encoding option.", file=filename,
                                     encoding=options.encoding, why=exc)) from exc
    for bom, encoding, name in ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with BOM"),
                                (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16")):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise SubmissionError(tr("%(file)s: starts as %(name)s but is not valid %(name)s "
                                         "(byte %(at)s); save it again as CSV UTF-8.",
                                         file=filename, name=name, at=exc.start)) from exc
            notes.add(tr("encoding: %(name)s", name=name))
            return text
    try:
        text = data.decode("utf-8")
        notes.add(tr("encoding: %(name)s", name="UTF-8"))
        return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=["cp1252", "latin_1", "iso8859_15", "utf_16"]).best()
    encoding = best.encoding if best else "cp1252"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SubmissionError(tr("%(file)s: the text encoding could not be recognised; save the "
                                 "file as CSV UTF-8 or give --encoding (e.g. cp1252).",
                                 file=filename)) from exc
    notes.add(tr("encoding: %(name)s (not UTF-8; detected)", name=encoding))
    return text


def _fields(line: str, sep: str) -> int:
    """Fields on one line; a line the csv module refuses (a cell over its size limit) is
    counted by its separators."""
    try:
        return len(next(csv.reader([line], delimiter=sep)))
    except csv.Error:
        return line.count(sep) + 1


def _agreeing(counts: list[int]) -> bool:
    """Most lines have the same number of separators, at least one (three in four lines, or
    all but one)."""
    if len(counts) < 3:
        return False
    mode = max(set(counts), key=counts.count)
    same = counts.count(mode)
    return mode > 0 and (same >= 0.75 * len(counts) or same >= len(counts) - 1)


def separator(text: str, filename: str, options: ReadOptions, notes: Assumptions) -> str:
    if options.separator:
        return options.separator
    lines = [ln for ln in text[:1 << 20].splitlines()[:50] if ln.strip()]
    if not lines:
        raise SubmissionError(tr("%(file)s: the file is empty; send the filled-in IDEAL template.", file=filename))
    try:
        sep = csv.Sniffer().sniff("\n".join(ln[:10_000] for ln in lines[:20]),
                                  delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        sep = None
    counts = {s: [_fields(ln, s) - 1 for ln in lines] for s in SEPARATORS}
    # a separator is consistent when the header has it and every line but a footnote has as many
    consistent = [s for s, c in counts.items()
                  if c[0] > 0 and sum(n == c[0] for n in c) >= min(len(c) - 1, 0.9 * len(c))]
    # else, when most lines agree with each other (a title line above the header, rows with a
    # field more than the header): the next stage finds the header and names the wider rows
    # (trailing separators left out: an export padding some rows with them)
    loose = [s for s in SEPARATORS if _agreeing([_fields(ln.rstrip().rstrip(s), s) - 1 for ln in lines])]
    if sep is None or sep not in consistent:
        if len(consistent) == 1:
            sep = consistent[0]
        elif not consistent and len(lines) == 1 and sum(counts[s][0] > 0 for s in SEPARATORS) == 1:
            sep = next(s for s in SEPARATORS if counts[s][0] > 0)
        elif len(consistent) > 1:
            names = " / ".join(tr(SEPARATORS[s]) for s in consistent)
            raise SubmissionError(tr("%(file)s: the column separator is ambiguous (%(names)s); give "
                                     "it with --separator.", file=filename, names=names))
        elif len(loose) == 1:
            sep = loose[0]
        else:
            raise SubmissionError(tr("%(file)s: no consistent column separator (comma, semicolon, "
                                     "tab or pipe) found: the lines have different numbers of "
                                     "fields. Check the export, or give --separator.", file=filename))
    notes.add(tr("separator: %(name)s", name=tr(SEPARATORS[sep])))
    return sep


_DEC_COMMA = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_DEC_POINT = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d+$|^-?\d*\.\d+$")
_THOUSANDS_ONLY_DOT = re.compile(r"^-?\d{1,3}(\.\d{3})+$")
_THOUSANDS_ONLY_COMMA = re.compile(r"^-?\d{1,3}(,\d{3})+$")


def decimal_mark(values: pd.Series, column: str, sep: str, filename: str,
                 options: ReadOptions, notes: Assumptions) -> str:
    """"." or "," for a column of numbers written as text."""
    if options.decimal:
        return options.decimal
    v = pd.Series(values.dropna().astype(str).str.strip().unique(), dtype="object")
    v = v[~v.str.lower().isin(MISSING_MARKERS)]
    comma = v.str.match(_DEC_COMMA).sum()
    point = v.str.match(_DEC_POINT).sum()
    dots = v.str.match(_THOUSANDS_ONLY_DOT).sum()
    commas = v.str.match(_THOUSANDS_ONLY_COMMA).sum()
    if comma and not point:
        notes.add(tr("decimal mark in '%(column)s': comma", column=column))
        return ","
    if comma and point:
        raise SubmissionError(tr("%(file)s: column '%(column)s' mixes decimal commas and decimal "
                                 "points; give the decimal mark with --decimal.", file=filename,
                                 column=column))
    if dots and dots == point and sep != ",":
        example = v[v.str.match(_THOUSANDS_ONLY_DOT)].iloc[0]
        raise SubmissionError(tr("%(file)s: in column '%(column)s' values such as '%(example)s' "
                                 "can be thousands or decimals; give --decimal , (dots separate "
                                 "thousands) or --decimal . (the dot is the decimal mark).",
                                 file=filename, column=column, example=example))
    if commas and sep != ",":
        notes.add(tr("thousands separator in '%(column)s': comma", column=column))
    return "."


def to_numbers(values: pd.Series, decimal: str) -> pd.Series:
    """Text to float: missing markers -> NaN, thousands separators removed, decimal mark
    normalised; anything else that is not a number -> NaN (the validator reports it)."""
    return per_unique(values, lambda u: _to_numbers(u, decimal)).astype("float64")


def _to_numbers(values: pd.Series, decimal: str) -> pd.Series:
    v = values.astype("string").str.strip()
    v = v.mask(v.str.lower().isin(MISSING_MARKERS))
    if decimal == ",":
        v = v.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        v = v.where(~v.str.match(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$", na=False),
                    v.str.replace(",", "", regex=False))
    v = v.str.replace(r"^(-?)\.", r"\g<1>0.", regex=True)  # ".80" -> "0.80"
    return pd.to_numeric(v, errors="coerce")
