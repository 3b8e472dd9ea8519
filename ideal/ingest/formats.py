"""Which format a submission is in, and its canonical rows.

template (CSV or XLSX) | SDMX-CSV 1.0 / 2.0 | a national export with a crosswalk profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ideal.contracts import OBSERVATION_COLUMNS, REQUIRED_COLUMNS, findings_frame
from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest import crosswalk, registry, sdmx
from ideal.ingest.profile import Profile
from ideal.ingest.readers import HEADER_SCAN, find_header, is_workbook, read_table, read_workbook, rehead
from ideal.ingest.sniff import Assumptions, ReadOptions
from ideal.ingest.template import from_template, is_template


@dataclass
class Parsed:
    frame: pd.DataFrame  # contracts.CANONICAL_COLUMNS
    format: str
    notes: list[str]
    findings: pd.DataFrame = field(default_factory=findings_frame)
    # a national export's categories with their mapping, the guess from their words and its
    # confidence (crosswalk._categories): what `profile check` lists
    mappings: list[dict] = field(default_factory=list)


def read_submission(data: bytes, filename: str, options: ReadOptions | None = None) -> Parsed:
    options = options or ReadOptions()
    notes = Assumptions()
    prof = registry.get(options.profile) if options.profile else None
    if prof is not None:  # the profile's reading options, unless the steward gave others
        options = replace(options, encoding=options.encoding or prof.read.encoding,
                          separator=options.separator or prof.read.separator,
                          decimal=options.decimal or prof.read.decimal)
    wanted = [set(prof.detect)] if prof else [set(REQUIRED_COLUMNS)] + [
        set(p.detect) for p, _ in registry.available().values()]
    if prof is not None and prof.read.sheets and not options.sheet and is_workbook(data, filename):
        table, sep = _sheets(data, filename, prof, notes), "xlsx"
    else:
        table, sep = read_table(data, filename, options, notes, wanted)
    table.columns = [str(c).strip() for c in table.columns]
    if table.drop(columns="_row", errors="ignore").empty and len(table.columns):
        raise SubmissionError(tr("%(file)s: the file has a header but no data rows.", file=filename))
    if prof is not None:
        return _national(locate(table, prof, filename), prof, filename, sep, options, notes)
    if sdmx.version(table):
        table = table.drop(columns="_row", errors="ignore")
        frame = sdmx.from_sdmx(table, filename, sep, options, notes)
        return Parsed(frame, f"sdmx-csv-{sdmx.version(table)}", notes.notes,
                      _frame(frame.attrs.pop("findings", [])))
    if is_template(table):
        kind = "template-xlsx" if sep == "xlsx" else "template-csv"
        frame = from_template(table, filename, sep, options, notes)
        return Parsed(frame, kind, notes.notes, _frame(frame.attrs.pop("findings", [])))
    for candidate, _ in sorted(registry.available().values(), key=lambda p: -len(p[0].detect)):
        at = find_header(table, set(candidate.detect))
        if at is not None:
            # recognised by its columns: read again exactly as with --profile (its reading
            # options, every sheet it names), so what `profile check` showed is what is loaded
            parsed = read_submission(data, filename, replace(options, profile=candidate.name))
            parsed.notes.insert(0, tr("profile recognised by its columns: %(name)s", name=candidate.name))
            return parsed
    shown = [c for c in table.columns if c != "_row"]
    sheets = tr("Sheets: %(names)s; read: %(sheet)s", names=", ".join(notes.sheets),
                sheet=notes.sheet) if notes.sheets else ""
    raise SubmissionError(tr(
        "%(file)s: format not recognised. Expected the IDEAL template (missing column(s) "
        "%(missing)s; header %(header)s), SDMX-CSV (first column DATAFLOW or STRUCTURE), or a "
        "national export with a crosswalk profile (%(profiles)s; write one with `ideal profile "
        "new`). Columns found: %(found)s.", file=filename,
        missing=", ".join(c for c in OBSERVATION_COLUMNS[:-1] if c not in table.columns),
        header=",".join(OBSERVATION_COLUMNS), profiles=", ".join(registry.names()),
        found=", ".join(map(str, shown[:12]))) + (f" {sheets}." if sheets else ""))


def _national(table, prof, filename, sep, options, notes) -> Parsed:
    frame, found = crosswalk.apply_profile(table, prof, filename, sep, options, notes)
    mappings = frame.attrs.pop("mappings", [])
    return Parsed(frame, f"profile:{prof.name}", notes.notes, _frame(found), mappings)


def _sheets(data: bytes, filename: str, prof: Profile, notes: Assumptions) -> pd.DataFrame:
    """The profile's sheets, each located and tagged, as parts of one table. Each sheet's header
    is found by the `detect` columns that are not figures (each sheet has its own figure column);
    a sheet's figures come from its `column`, else the `values` column, else (a sheet with none
    of them) the column named as the sheet, read as the first `values` column."""
    sheets = read_workbook(data, filename, notes, only=[s.name for s in prof.read.sheets])
    figures = [v.column for v in prof.values or []]
    keys = [c for c in prof.detect if c not in figures and c not in {s.column for s in prof.read.sheets}]
    parts = []
    for spec in prof.read.sheets:
        where = tr("%(file)s (sheet %(sheet)s)", file=filename, sheet=spec.name)
        part = locate(sheets[spec.name], prof, where, keys or None)
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


def locate(table: pd.DataFrame, prof: Profile, filename: str, detect: list[str] | None = None) -> pd.DataFrame:
    """The table with the profile's header row as its header, columns spelled as in the
    profile (the header is matched without regard to case); ``detect``: the columns that
    find the header (default the profile's)."""
    detect = list(detect or prof.detect)
    if table.empty:
        raise SubmissionError(tr("%(file)s: no data in it.", file=filename))
    if prof.read.header_row:
        row = prof.read.header_row
        if "_row" in table:
            numbers = table["_row"].astype(int)
            at = -1 if row < numbers.iloc[0] else (numbers.index[numbers == row][0]
                                                    if (numbers == row).any() else None)
        else:
            at = row - 2
        if at is None or at >= len(table):
            raise SubmissionError(tr("%(file)s: row %(row)s (read.header_row of profile %(name)s) "
                                     "is empty or beyond the data.", file=filename, row=row, name=prof.name))
    else:
        at = find_header(table, set(detect))
        if at is None:
            missing = sorted(set(detect) - set(table.columns))
            raise SubmissionError(tr(
                "%(file)s: the profile %(name)s needs the column(s) %(missing)s, not found in the "
                "header or the first %(scan)s rows. Columns found: %(found)s.", file=filename,
                name=prof.name, missing=", ".join(missing), scan=HEADER_SCAN,
                found=", ".join(c for c in map(str, table.columns[:12]) if c != "_row")))
    out = rehead(table, at)
    spelled = {c.casefold(): c for c in [*prof.detect, *(v.column for v in prof.values or [])]}
    return out.rename(columns=lambda c: spelled.get(str(c).strip().casefold(), c))


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return findings_frame(rows).astype({"row": "Int64"})
