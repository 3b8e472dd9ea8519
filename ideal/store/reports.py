"""Rendered reports and their deliveries: one row per run, kind and language; one delivery
row per run, recipient and language."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update

from ideal.store import audit
from ideal.store.models import Delivery, Report


def record(engine: Engine, run_id: str, kind: str, language: str, target: Path, pages: int) -> None:
    """Record a rendered file (a re-render of the same run, kind and language replaces it)."""
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with engine.begin() as conn:
        conn.execute(delete(Report.__table__).where(
            Report.run_id == run_id, Report.kind == kind, Report.language == language))
        conn.execute(insert(Report.__table__).values(
            run_id=run_id, kind=kind, language=language, path=str(target), sha256=digest,
            pages=pages, created_at=datetime.now(UTC)))


def is_current(r: dict) -> bool:
    """The file on disk is still this run's report: a later run of the same period writes to
    the same path, so the recorded SHA-256 must match."""
    path = Path(r["path"])
    if not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"]


def of_run(engine: Engine, run_id: str | None = None) -> list[dict]:
    """Reports (of one run, or all), newest first, each with whether its file is current."""
    q = select(Report.__table__).order_by(Report.created_at.desc())
    if run_id:
        q = q.where(Report.run_id == run_id)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        r["current"] = is_current(r)
    return rows


MAX_ID = 2**63 - 1  # the largest key a database holds; a larger id names no report


def get(engine: Engine, report_id: int) -> dict | None:
    if not 0 < report_id <= MAX_ID:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(Report.__table__).where(Report.id == report_id)).mappings().first()
    if not row:
        return None
    out = dict(row)
    out["current"] = is_current(out)
    return out


def briefings(engine: Engine, run_id: str) -> dict[str, Path]:
    """language -> the run's briefing file."""
    with engine.connect() as conn:
        return {r.language: Path(r.path) for r in conn.execute(
            select(Report.language, Report.path).where(Report.run_id == run_id,
                                                       Report.kind == "briefing"))}


def sent(engine: Engine, run_id: str) -> set[tuple[str, str]]:
    """(recipient, language) already mailed for the run."""
    with engine.connect() as conn:
        return {(d.recipient, d.language) for d in conn.execute(
            select(Delivery.recipient, Delivery.language).where(Delivery.run_id == run_id,
                                                                Delivery.status == "sent"))}


def record_delivery(engine: Engine, run_id: str, to: str, language: str, status: str,
                    attempts: int, error: str, actor: str, country: str | None) -> None:
    with engine.begin() as conn:
        existing = conn.execute(select(Delivery.id, Delivery.attempts).where(
            Delivery.run_id == run_id, Delivery.recipient == to, Delivery.language == language)).first()
        values = dict(status=status, at=datetime.now(UTC), detail=error or None)
        if existing:
            conn.execute(update(Delivery.__table__).where(Delivery.id == existing.id)
                         .values(attempts=existing.attempts + attempts, **values))
        else:
            conn.execute(insert(Delivery.__table__).values(run_id=run_id, recipient=to,
                                                           language=language, attempts=attempts,
                                                           **values))
        audit.record(conn, actor=actor, action=f"delivery.{status}",
                     outcome="ok" if status == "sent" else "error", object_id=run_id,
                     country=country,
                     detail=f"{to} ({language}) after {attempts} attempt(s) {error}".strip())
