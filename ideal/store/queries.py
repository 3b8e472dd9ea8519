"""What the portal and the API read from the warehouse; one function per view, each scoped
to the countries the caller may see."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, func, select

from ideal.store.accounts import Account
from ideal.store.db import to_frame
from ideal.store.models import Observation, Submission, ValidationResult

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
                ValidationResult.row, ValidationResult.value, ValidationResult.message,
                ValidationResult.said)
         .where(ValidationResult.submission_id == submission_id)
         .order_by(ValidationResult.severity, ValidationResult.row.asc().nulls_last(),
                   ValidationResult.id))
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        result = conn.execute(q)
        return to_frame(result)


def finding_counts(engine: Engine, submission_id: str) -> pd.DataFrame:
    """Rows affected per severity and rule (a finding may stand for several rows), errors first."""
    rows = func.sum(func.coalesce(ValidationResult.rows, 1))
    q = (select(ValidationResult.severity, ValidationResult.rule, rows.label("count"))
         .where(ValidationResult.submission_id == submission_id)
         .group_by(ValidationResult.severity, ValidationResult.rule)
         .order_by(ValidationResult.severity, rows.desc()))
    with engine.connect() as conn:
        return to_frame(conn.execute(q), ["severity", "rule", "count"])


def count_findings(engine: Engine, submission_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ValidationResult)
                            .where(ValidationResult.submission_id == submission_id)).scalar()


def coverage(engine: Engine, members: tuple[str, ...], today: date | None = None) -> dict:
    """Country x year: how complete the current data is, and the last submission's status.

    A year is ``complete`` when it has an annual figure or all 12 months (or 4 quarters) for
    some crime type, ``partial`` when it has fewer sub-annual periods, ``missing`` otherwise;
    the current year, not over yet, is ``in_progress`` unless complete. ``types``: the crime
    types with data in that year (any of its periods)."""
    q = (select(Observation.country, Observation.period, Observation.crime_type,
                func.count().label("rows"))
         .where(Observation.superseded_by.is_(None))
         .group_by(Observation.country, Observation.period, Observation.crime_type))
    last = (select(Submission.country, Submission.status, Submission.received_at, Submission.id)
            .order_by(Submission.received_at))
    with engine.connect() as conn:
        cells = to_frame(conn.execute(q), ["country", "period", "crime_type", "rows"])
        latest = {r.country: dict(status=r.status, at=r.received_at, id=r.id)
                  for r in conn.execute(last)}
    current = (today or date.today()).year
    years: list[int] = []
    matrix: dict[str, dict[int, dict]] = {cc: {} for cc in members}
    if not cells.empty:
        cells["year"] = cells["period"].str.slice(0, 4).astype(int)
        years = list(range(int(cells["year"].min()), int(cells["year"].max()) + 1))
        for (cc, year), g in cells.groupby(["country", "year"]):
            if cc not in matrix:
                continue
            matrix[cc][int(year)] = {**_year_cell(g, int(year), current),
                                     "types": int(g["crime_type"].nunique())}
    return {"years": years, "countries": list(members), "current": current,
            "cells": {cc: {y: matrix[cc].get(y, _empty_cell(y, current)) for y in years} for cc in members},
            "last_submission": {cc: latest.get(cc) for cc in members}}


def _year_cell(g: pd.DataFrame, year: int, current: int) -> dict:
    """How complete one year is from its rows (columns period, rows): complete with an annual
    figure, 12 months or 4 quarters; else partial, or in progress while it is the current year."""
    months = g.loc[g["period"].str.len() == 7, "period"].nunique()
    quarters = g.loc[g["period"].str.contains("Q"), "period"].nunique()
    annual = bool((g["period"].str.len() == 4).any())
    complete = annual or months == 12 or quarters == 4
    return {"status": "complete" if complete else ("in_progress" if year >= current else "partial"),
            "rows": int(g["rows"].sum()), "annual": annual, "months": int(months), "quarters": int(quarters)}


def _empty_cell(year: int, current: int) -> dict:
    """A year without rows: missing, or in progress while it is the current year."""
    return {"status": "in_progress" if year >= current else "missing"}


def country_coverage(engine: Engine, country: str, years: list[int], today: date | None = None) -> dict:
    """One country's current data per crime type and year (a steward's home page): each cell
    complete (an annual figure, 12 months or 4 quarters), partial (with the months or quarters
    present), in progress (the current year) or missing."""
    q = (select(Observation.crime_type, Observation.period, func.count().label("rows"))
         .where(Observation.superseded_by.is_(None), Observation.country == country,
                Observation.indicator != "population")
         .group_by(Observation.crime_type, Observation.period))
    with engine.connect() as conn:
        cells = to_frame(conn.execute(q), ["crime_type", "period", "rows"])
    current = (today or date.today()).year
    out: dict[str, dict[int, dict]] = {}
    if not cells.empty:
        cells["year"] = cells["period"].str.slice(0, 4).astype(int)
        for (crime, year), g in cells[cells["year"].isin(years)].groupby(["crime_type", "year"]):
            out.setdefault(crime, {})[int(year)] = _year_cell(g, int(year), current)
    return {"years": years, "current": current,
            "cells": {c: {y: out.get(c, {}).get(y, _empty_cell(y, current)) for y in years} for c in sorted(out)}}


SHOWN = [Submission.id, Submission.country, Submission.filename, Submission.status,
         Submission.rows_total, Submission.rows_accepted, Submission.n_errors,
         Submission.n_warnings, Submission.received_at]


def submissions_of(engine: Engine, countries: list[str] | None = None,
                   ids: list[str] | None = None) -> pd.DataFrame:
    """Submissions of these countries (or with these ids), by country and time: what a
    briefing and its annex list as their sources."""
    q = select(*SHOWN).order_by(Submission.country, Submission.received_at)
    if countries is not None:
        q = q.where(Submission.country.in_(countries))
    if ids is not None:
        q = q.where(Submission.id.in_(ids))
    with engine.connect() as conn:
        result = conn.execute(q)
        return to_frame(result)


def totals(engine: Engine) -> tuple[dict[str, tuple[int, int]], int]:
    """Submissions per status as (count, rows), and the number of stored observations."""
    with engine.connect() as conn:
        subs = conn.execute(select(Submission.status, func.count(), func.sum(Submission.rows_total))
                            .group_by(Submission.status)).all()
        n_obs = conn.execute(select(func.count()).select_from(Observation)).scalar()
    return {s: (n, int(rows or 0)) for s, n, rows in subs}, int(n_obs or 0)
