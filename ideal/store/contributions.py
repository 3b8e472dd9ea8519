"""Writing and reading structured contributions (#49); one transaction per file."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, and_, insert, or_, select, update

from ideal.store import audit
from ideal.store.db import to_frame
from ideal.store.load import _findings
from ideal.store.models import Contribution, MarketSeverity, Submission

FIELDS = ["country", "market", "region", "year", "round", "assessor", "role", "severity", "trend", "scope",
          "cross_border", "international", "violence", "corruption", "laundering", "adaptability",
          "confidence", "evidence", "evidence_grade"]
INTEGERS = ["year", "round", "assessor", "trend", "international", "violence", "corruption", "laundering",
            "adaptability"]


def _records(rows: pd.DataFrame, submission_id: str) -> list[dict]:
    out = []
    for r in rows[FIELDS].to_dict("records"):
        rec = {k: (None if (isinstance(v, float) and v != v) or v == "" else v) for k, v in r.items()}
        for k in INTEGERS:
            if rec[k] is not None:
                rec[k] = int(rec[k])
        out.append({**rec, "submission_id": submission_id, "current": True})
    return out


def load(engine: Engine, submission_id: str, rows: pd.DataFrame, *, findings: pd.DataFrame,
         n_warnings: int, actor: str) -> int:
    """Insert an accepted contributions file; the member's current rows of the same market,
    region, year and round are replaced (no longer current). Returns how many were replaced."""
    country = str(rows["country"].iloc[0])
    keys = rows[["market", "region", "year", "round"]].drop_duplicates()
    table = Contribution.__table__
    with engine.begin() as conn:
        same = [and_(table.c.market == k.market, table.c.year == int(k.year), table.c.round == int(k.round),
                     table.c.region.is_(None) if k.region is None or k.region != k.region
                     else table.c.region == k.region)
                for k in keys.itertuples(index=False)]
        replaced = conn.execute(update(table).where(table.c.country == country, table.c.current.is_(True),
                                                    or_(*same)).values(current=False)).rowcount
        conn.execute(insert(table), _records(rows, submission_id))
        _findings(conn, submission_id, findings)
        audit.record(conn, actor=actor, action="contributions.accepted", outcome="ok",
                     object_id=submission_id, country=country,
                     detail=f"{len(rows)} assessments loaded, {n_warnings} warnings, {replaced} earlier "
                            "assessments replaced")
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="accepted", kind="contributions", rows_total=len(rows), rows_accepted=len(rows),
            rows_rejected=0, n_errors=0, n_warnings=n_warnings, rows_superseded=replaced,
            message=f"{len(rows)} assessments loaded, {replaced} earlier assessments replaced"))
    return replaced


def mark_kind(engine: Engine, submission_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id)
                     .values(kind="contributions"))


def current(engine: Engine, countries: list[str] | None = None, year: int | None = None) -> pd.DataFrame:
    """The current contributions (every round), of ``countries`` and up to ``year``."""
    t = Contribution.__table__
    q = select(*[t.c[f] for f in FIELDS], t.c.submission_id).where(t.c.current.is_(True))
    if countries is not None:
        q = q.where(t.c.country.in_(list(countries)))
    if year is not None:
        q = q.where(t.c.year <= int(year))
    with engine.connect() as conn:
        return to_frame(conn.execute(q), [*FIELDS, "submission_id"])


def save_severities(conn, run_id: str, frame: pd.DataFrame) -> None:
    """A run's severities per member x market (scoring.markets.severities)."""
    if frame.empty:
        return
    cols = [c.name for c in MarketSeverity.__table__.columns if c.name not in ("id", "run_id")]
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
               for r in frame[cols].to_dict("records")]
    conn.execute(insert(MarketSeverity.__table__), [{**r, "run_id": run_id} for r in records])


def severities(engine: Engine, run_id: str) -> pd.DataFrame:
    t = MarketSeverity.__table__
    cols = [c.name for c in t.columns if c.name not in ("id", "run_id")]
    with engine.connect() as conn:
        return to_frame(conn.execute(select(*[t.c[c] for c in cols]).where(t.c.run_id == run_id)), cols)
