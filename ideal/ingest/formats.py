"""The reading of a submission, one way through its stages:

    bytes -> decoded tables (decode: compression, encoding, separator, sheets, widths)
          -> located table (locate: sheet, header, shape, rows wider than their header)
          -> canonical frame (template | sdmx | crosswalk with a profile)
          -> findings (every stage's, in one frame)

Each stage takes the previous one's result and never calls back. A profile recognised by its
columns is read again from the bytes with its own reading options (encoding, separator, every
sheet it names), so what `profile check` shows is what is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ideal.contracts import findings_frame
from ideal.i18n import tr
from ideal.ingest import contributions, crosswalk, registry, sdmx
from ideal.ingest.decode import Decoded, decode
from ideal.ingest.locate import Located, locate
from ideal.ingest.profile import Profile
from ideal.ingest.sniff import Assumptions, ReadOptions
from ideal.ingest.template import from_template


@dataclass
class Parsed:
    frame: pd.DataFrame  # contracts.CANONICAL_COLUMNS
    format: str
    notes: list[str]
    findings: pd.DataFrame = field(default_factory=findings_frame)
    # a national export's categories with their mapping, the guess from their words and its
    # confidence (crosswalk._categories): what `profile check` lists
    mappings: list[dict] = field(default_factory=list)


def with_profile(options: ReadOptions, prof: Profile) -> ReadOptions:
    """The profile's reading options, unless the steward gave others."""
    return replace(options, profile=prof.name, encoding=options.encoding or prof.read.encoding,
                   separator=options.separator or prof.read.separator,
                   decimal=options.decimal or prof.read.decimal)


def candidates() -> list[Profile]:
    """The profiles a file may be recognised by, the most specific (most `detect` columns) first."""
    return sorted((p for p, _ in registry.available().values()), key=lambda p: -len(p.detect))


def decoded_for(data: bytes, filename: str, options: ReadOptions, notes: Assumptions,
                prof: Profile | None) -> Decoded:
    """Stage 1 with what the profile (if any) says of the file's sheets."""
    only = [s.name for s in prof.read.sheets] if prof and prof.read.sheets and not options.sheet else None
    return decode(data, filename, options, notes, sheets=only)


def located(data: bytes, filename: str, options: ReadOptions) -> tuple[Located, ReadOptions, Assumptions]:
    """Stages 1 and 2: the located table, the options it was read with, what was assumed."""
    notes = Assumptions()
    prof = registry.get(options.profile) if options.profile else None
    if prof is not None:
        options = with_profile(options, prof)
    decoded = decoded_for(data, filename, options, notes, prof)
    if prof is None and (name := contributions.find(decoded)) is not None:
        return Located(decoded.tables[name], "contributions", decoded.separator), options, notes
    found = locate(decoded, filename, options, notes, prof, [] if prof else candidates())
    if prof is None and found.shape == "profile":
        # recognised by its columns: read again from the bytes as with --profile
        prof, notes = found.profile, Assumptions()
        options = with_profile(options, prof)
        found = locate(decoded_for(data, filename, options, notes, prof), filename, options, notes,
                       prof, [])
        notes.notes.insert(0, tr("profile recognised by its columns: %(name)s", name=prof.name))
    return found, options, notes


def read_submission(data: bytes, filename: str, options: ReadOptions | None = None,
                    submitter: str = "", members: tuple[str, ...] = ()) -> Parsed | contributions.Contributed:
    """A submission's canonical rows and every finding of its reading; or, for a file of
    structured contributions, its checked contributions for member ``submitter``."""
    found, options, notes = located(data, filename, options or ReadOptions())
    table, sep = found.table, found.separator
    if found.shape == "contributions":
        read = contributions.read(table, filename, submitter, members)
        read.notes = notes.notes
        return read
    findings = list(found.findings)
    if found.shape == "profile":
        frame, more = crosswalk.apply_profile(table, found.profile, filename, sep, options, notes)
        mappings = frame.attrs.pop("mappings", [])
        return Parsed(frame, f"profile:{found.profile.name}", notes.notes, _frame(findings + more), mappings)
    if found.shape == "sdmx":
        frame = sdmx.from_sdmx(table, found.sdmx, filename, sep, options, notes)
        kind = f"sdmx-csv-{found.sdmx}"
    else:
        frame = from_template(table, filename, sep, options, notes)
        kind = "template-xlsx" if sep == "xlsx" else "template-csv"
    return Parsed(frame, kind, notes.notes, _frame(findings + frame.attrs.pop("findings", [])))


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return findings_frame(rows).astype({"row": "Int64"})
