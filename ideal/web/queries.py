"""What the portal and the API read from the warehouse; one function per view, each scoped
to the countries the caller may see."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select

from ideal.accounts import Account
from ideal.store.models import (AssessmentRun, Observation, Report, Submission, ThreatScore,
                                ValidationResult)

SUBMISSION_FIELDS = ("id", "country", "filename", "channel", "received_at", "status", "rows_total",
                     "rows_accepted", "rows_rejected", "n_errors", "n_warnings", "rows_superseded",
                     "message")


def _scoped(query, user: Account, column):
    return query if user.is_analyst else query.where(column == user.country)


def submissions(engine: Engine, user: Account, country: str | None = None,
                status: str | None = None, limit: int = 200) -> list[dict]:
    q = select(*[getattr(Submission, f) for f in SUBMISSION_FIELDS]).order_by(
        Submission.received_at.desc(), Submission.id.desc()).limit(limit)
    q = _scoped(q, user, Submission.country)
    if country:
        q = q.where(Submission.country == country)
    if status:
        q = q.where(Submission.status == status)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def submission(engine: Engine, submission_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(Submission.__table__).where(Submission.id == submission_id)
                           ).mappings().first()
    return dict(row) if row else None


def findings(engine: Engine, submission_id: str, limit: int | None = None) -> pd.DataFrame:
    q = (select(ValidationResult.severity, ValidationResult.rule, ValidationResult.column,
                ValidationResult.row, ValidationResult.value, ValidationResult.message)
         .where(ValidationResult.submission_id == submission_id)
         .order_by(ValidationResult.severity, ValidationResult.row.asc().nulls_last(),
                   ValidationResult.id))
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        result = conn.execute(q)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def finding_counts(engine: Engine, submission_id: str) -> pd.DataFrame:
    """Findings per severity and rule, errors first."""
    q = (select(ValidationResult.severity, ValidationResult.rule, func.count().label("count"))
         .where(ValidationResult.submission_id == submission_id)
         .group_by(ValidationResult.severity, ValidationResult.rule)
         .order_by(ValidationResult.severity, func.count().desc()))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["severity", "rule", "count"])


def count_findings(engine: Engine, submission_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ValidationResult)
                            .where(ValidationResult.submission_id == submission_id)).scalar()


def coverage(engine: Engine, members: tuple[str, ...]) -> dict:
    """Country x year: how complete the current data is, and the last submission's status.

    A year is ``complete`` when it has an annual figure or all 12 months (or 4 quarters) for
    some crime type, ``partial`` when it has fewer sub-annual periods, ``missing`` otherwise.
    """
    q = (select(Observation.country, Observation.period, func.count().label("rows"),
                func.count(func.distinct(Observation.crime_type)).label("types"))
         .where(Observation.superseded_by.is_(None))
         .group_by(Observation.country, Observation.period))
    last = (select(Submission.country, Submission.status, Submission.received_at, Submission.id)
            .order_by(Submission.received_at))
    with engine.connect() as conn:
        cells = pd.DataFrame(conn.execute(q).all(), columns=["country", "period", "rows", "types"])
        latest = {r.country: dict(status=r.status, at=r.received_at, id=r.id)
                  for r in conn.execute(last)}
    years: list[int] = []
    matrix: dict[str, dict[int, dict]] = {cc: {} for cc in members}
    if not cells.empty:
        cells["year"] = cells["period"].str.slice(0, 4).astype(int)
        cells["annual"] = cells["period"].str.len() == 4
        years = list(range(int(cells["year"].min()), int(cells["year"].max()) + 1))
        for (cc, year), g in cells.groupby(["country", "year"]):
            if cc not in matrix:
                continue
            months = g.loc[g["period"].str.len() == 7, "period"].nunique()
            quarters = g.loc[g["period"].str.contains("Q"), "period"].nunique()
            complete = bool(g["annual"].any()) or months == 12 or quarters == 4
            matrix[cc][int(year)] = {
                "status": "complete" if complete else "partial", "rows": int(g["rows"].sum()),
                "types": int(g["types"].max()),
                "periods": "annual" if g["annual"].any() else
                           (f"{months}/12 months" if months else f"{quarters}/4 quarters")}
    return {"years": years, "countries": list(members),
            "cells": {cc: {y: matrix[cc].get(y, {"status": "missing"}) for y in years}
                      for cc in members},
            "last_submission": {cc: latest.get(cc) for cc in members}}


def runs(engine: Engine, limit: int = 50) -> list[dict]:
    q = (select(AssessmentRun.id, AssessmentRun.created_at, AssessmentRun.period,
                AssessmentRun.countries, AssessmentRun.profile_name, AssessmentRun.params,
                AssessmentRun.n_observations, AssessmentRun.n_scores, AssessmentRun.note,
                AssessmentRun.seed, AssessmentRun.code_version)
         .order_by(AssessmentRun.created_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def run(engine: Engine, run_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(AssessmentRun.__table__).where(AssessmentRun.id == run_id)
                           ).mappings().first()
    return dict(row) if row else None


def top_scores(engine: Engine, run_id: str, limit: int = 15) -> list[dict]:
    """The run's highest scores, ordered as in the briefing."""
    from ideal import reference
    from ideal.scoring.run import load_run
    from ideal.scoring.score import top_threats

    _, scores = load_run(engine, run_id)
    harm = reference.iccs().set_index("code")["harm_weight"]
    top = top_threats(scores, harm, limit)
    return top[["country", "region", "crime_type", "score", "level", "rate", "reliability",
                "rank_p5", "rank_p95"]].to_dict("records")


def scored_countries(engine: Engine, run_id: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(
            select(ThreatScore.country).where(ThreatScore.run_id == run_id).distinct()))


def reports(engine: Engine, run_id: str | None = None) -> list[dict]:
    q = select(Report.__table__).order_by(Report.created_at.desc())
    if run_id:
        q = q.where(Report.run_id == run_id)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        r["current"] = report_is_current(r)
    return rows


def report(engine: Engine, report_id: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(Report.__table__).where(Report.id == report_id)).mappings().first()
    if not row:
        return None
    out = dict(row)
    out["current"] = report_is_current(out)
    return out


def report_is_current(r: dict) -> bool:
    """The file on disk is still this run's report: a later run of the same period writes to
    the same path, so the recorded SHA-256 must match."""
    path = Path(r["path"])
    if not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"]
