"""Structured contributions between rounds (#49): what a member's focal point sees of round
one before its assessors rate again, as the Organized Crime Index's and the Delphi method's
feedback between rounds: the anonymised spread of its assessors per market (no assessor, no
role), beside what IDEAL's data say of the same markets for that member in the latest run."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from ideal import reference
from ideal.errors import AssessmentError, NotFound
from ideal.store import contributions, runs

SPREAD_COLUMNS = ["market", "name", "year", "round", "assessors", "min", "q1", "median", "q3", "max",
                  "data", "data_basis", "run"]


def spread(engine: Engine, country: str, year: int | None = None, round_: int = 1,
           language: str = "en") -> pd.DataFrame:
    """Per market, the member's assessors' ratings of ``round_`` (of ``year``, the latest
    with any by default) as a distribution, and the data track of the latest run."""
    current = contributions.current(engine, [country])
    mine = current[(current["round"] == round_) & current["region"].isna()] if not current.empty else current
    if mine.empty:
        raise NotFound(f"no round-{round_} contributions of {country} yet; send them with "
                       "`ideal submit FILE --country CC` or the portal.")
    year = int(year or mine["year"].max())
    mine = mine[mine["year"] == year]
    if mine.empty:
        raise NotFound(f"no round-{round_} contributions of {country} for {year}.")
    data, run_id = pd.DataFrame(columns=["market", "data", "data_basis"]), ""
    try:
        run, _ = runs.load(engine)
        sev = contributions.severities(engine, run["id"])
        data = sev[(sev["country"] == country) & ~sev["market"].str.startswith("area:")][["market", "data", "data_basis"]]
        run_id = run["id"]
    except (AssessmentError, NotFound):  # no run yet: the spread alone
        pass
    names = reference.markets().set_index("code")[f"name_{language if language in ('es', 'pt') else 'en'}"]
    rows = []
    for market, g in mine.groupby("market", sort=True):
        v = g["severity"].astype(float).to_numpy()
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        rows.append(dict(market=market, name=names.get(market, market), year=year, round=round_,
                         assessors=int(g["assessor"].nunique()), min=float(v.min()), q1=round(float(q1), 2),
                         median=round(float(med), 2), q3=round(float(q3), 2), max=float(v.max())))
    out = pd.DataFrame(rows).merge(data, on="market", how="left").assign(run=run_id)
    return out[SPREAD_COLUMNS]
