"""The audit log: who did what, when, with what outcome and why. Append-only."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from ideal.config import get_settings
from ideal.store.db import to_frame
from ideal.store.models import AuditEvent


def current_actor(channel: str = "cli") -> str:
    """IDEAL_ACTOR if set (the portal and Airflow set it), else channel:os-user."""
    actor = get_settings().actor
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return f"{channel}:{user}"


def record(conn: Connection, *, actor: str, action: str, outcome: str, object_id: str | None = None,
           country: str | None = None, detail: str | None = None) -> None:
    conn.execute(insert(AuditEvent.__table__).values(
        at=datetime.now(UTC), actor=actor[:128], action=action, object_id=object_id,
        country=country, outcome=outcome, detail=detail))


def log(engine: Engine, **kw) -> None:
    with engine.begin() as conn:
        record(conn, **kw)


def events(engine: Engine, object_id: str | None = None, country: str | None = None,
           limit: int = 100) -> pd.DataFrame:
    query = select(AuditEvent.__table__).order_by(AuditEvent.id.desc()).limit(limit)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if country:
        query = query.where(AuditEvent.country == country)
    with engine.connect() as conn:
        result = conn.execute(query)
        return to_frame(result)
