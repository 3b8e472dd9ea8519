"""SDMX-CSV 1.0 and 2.0 to canonical observations.

IDEAL's dataflow has the dimensions REF_AREA (ISO 3166-2 region, or the ISO 3166-1 country
for a national total), CRIME_TYPE (ICCS), INDICATOR and TIME_PERIOD, the measure OBS_VALUE
and the attribute OBS_STATUS. SDMX-CSV 1.0 starts with a DATAFLOW column; 2.0 with STRUCTURE
and STRUCTURE_ID and may carry ACTION: I (information) and A (append) and R (replace) add or
supersede values, D deletes the current value of the key.
"""

from __future__ import annotations

import pandas as pd

from ideal.errors import SubmissionError
from ideal.i18n import tr
from ideal.ingest.sniff import Assumptions, ReadOptions, decimal_mark
from ideal.ingest.template import finish, unit_findings

DIMENSIONS = {"REF_AREA": "region", "CRIME_TYPE": "crime_type", "INDICATOR": "indicator",
              "TIME_PERIOD": "period", "OBS_VALUE": "value", "OBS_STATUS": "obs_status"}
ACTIONS = {"I", "A", "R", "D"}


def from_sdmx(table: pd.DataFrame, version: str, filename: str, sep: str, options: ReadOptions,
              notes: Assumptions) -> pd.DataFrame:
    """Canonical rows of a located SDMX-CSV table (its columns named by their dataflow ids)."""
    ver = version
    df = table.drop(columns="_row", errors="ignore")
    missing = [d for d in DIMENSIONS if d not in df.columns and d != "OBS_STATUS"]
    if missing:
        raise SubmissionError(tr("%(file)s: SDMX-CSV %(version)s without column(s) %(missing)s; "
                                 "IDEAL's dataflow needs %(needed)s.", file=filename, version=ver,
                                 missing=", ".join(missing), needed=", ".join(DIMENSIONS)))
    if df.empty:
        raise SubmissionError(tr("%(file)s: the SDMX-CSV file has no observations.", file=filename))
    notes.add(f"format: SDMX-CSV {ver} ({df.iloc[0, 1] if ver == '2.0' else df.iloc[0, 0]})")
    action = df["ACTION"].str.strip().str.upper().replace("", "I") if "ACTION" in df else "I"
    if isinstance(action, pd.Series):
        bad = sorted(set(action) - ACTIONS)
        if bad:
            rows = (table.loc[~action.isin(ACTIONS), "_row"].astype(int).head(5).tolist() if "_row" in table
                    else (action[~action.isin(ACTIONS)].index[:5] + 2).tolist())
            raise SubmissionError(tr("%(file)s: ACTION must be I, A, R or D; found %(found)s "
                                     "(rows %(rows)s).", file=filename,
                                     found=", ".join(map(repr, bad)), rows=rows))
    out = pd.DataFrame({dest: df[src] if src in df else "" for src, dest in DIMENSIONS.items()})
    area = out["region"].str.strip().str.upper()
    out = out.assign(region=area, country=area.str.slice(0, 2), action=action,
                     source_row=table["_row"].astype(int).to_numpy() if "_row" in table else range(2, len(df) + 2))
    decimal = decimal_mark(out["value"], "OBS_VALUE", sep, filename, options, notes)
    frame = finish(out, decimal)
    if "UNIT_MEASURE" in df:
        frame.attrs["findings"] = unit_findings(df["UNIT_MEASURE"], out["indicator"].str.strip(),
                                                out["source_row"])
    return frame
