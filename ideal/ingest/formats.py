"""Which format a submission is in, and its canonical rows.

template (CSV or XLSX) | SDMX-CSV 1.0 / 2.0 | a national export with a crosswalk profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ideal.contracts import FINDING_COLUMNS, OBSERVATION_COLUMNS, findings_frame
from ideal.errors import SubmissionError
from ideal.ingest import crosswalk, sdmx
from ideal.ingest.readers import read_table
from ideal.ingest.sniff import Assumptions, ReadOptions
from ideal.ingest.template import from_template, is_template


@dataclass
class Parsed:
    frame: pd.DataFrame  # contracts.CANONICAL_COLUMNS
    format: str
    notes: list[str]
    findings: pd.DataFrame = field(default_factory=findings_frame)


def read_submission(data: bytes, filename: str, options: ReadOptions | None = None) -> Parsed:
    options = options or ReadOptions()
    notes = Assumptions()
    table, sep = read_table(data, filename, options, notes)
    table.columns = [str(c).strip() for c in table.columns]
    if table.empty and len(table.columns):
        raise SubmissionError(f"{filename}: the file has a header but no data rows.")
    if options.profile:
        prof = crosswalk.profiles().get(options.profile)
        if prof is None:
            raise SubmissionError(f"{filename}: no crosswalk profile {options.profile!r}; known: "
                                  f"{', '.join(sorted(crosswalk.profiles()))}.")
        frame, found = crosswalk.apply_profile(table, prof, filename, sep, options, notes)
        return Parsed(frame, f"profile:{prof['name']}", notes.notes, _frame(found))
    if sdmx.version(table):
        frame = sdmx.from_sdmx(table, filename, sep, options, notes)
        return Parsed(frame, f"sdmx-csv-{sdmx.version(table)}", notes.notes,
                      _frame(frame.attrs.pop("findings", [])))
    if is_template(table):
        kind = "template-xlsx" if sep == "xlsx" else "template-csv"
        frame = from_template(table, filename, sep, options, notes)
        return Parsed(frame, kind, notes.notes, _frame(frame.attrs.pop("findings", [])))
    prof = crosswalk.detect(table)
    if prof:
        frame, found = crosswalk.apply_profile(table, prof, filename, sep, options, notes)
        return Parsed(frame, f"profile:{prof['name']}", notes.notes, _frame(found))
    raise SubmissionError(
        f"{filename}: format not recognised. Expected the IDEAL template (missing column(s) "
        f"{', '.join(c for c in OBSERVATION_COLUMNS[:-1] if c not in table.columns)}; header "
        f"{','.join(OBSERVATION_COLUMNS)}), SDMX-CSV (first column DATAFLOW or STRUCTURE), or a national "
        f"export with a crosswalk profile ({', '.join(sorted(crosswalk.profiles()))}). "
        f"Columns found: {', '.join(map(str, table.columns[:12]))}.")


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FINDING_COLUMNS).astype({"row": "Int64"})
