"""After a crash: submissions a dead process left half-way are marked failed and retried
from the raw archive. Loading is one transaction, so a retry loads each file exactly once."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from ideal.errors import IdealError
from ideal.store import audit, load
from ideal.store.models import Submission


def stale_after() -> timedelta:
    """How long a submission may stay 'received' before it counts as interrupted
    (IDEAL_STALE_MINUTES, default 30)."""
    raw = os.environ.get("IDEAL_STALE_MINUTES", "30")
    try:
        return timedelta(minutes=float(raw))
    except ValueError:
        raise IdealError(f"IDEAL_STALE_MINUTES={raw!r} is not a number of minutes.") from None


def retry(engine: Engine, submission_id: str, channel: str = "retry", strict: bool = True, **kw):
    """Process a failed (or interrupted) submission again from its archived raw file. With
    strict=False (a retried Airflow task) a finished submission answers as a duplicate."""
    from ideal.ingest.submit import submit_bytes

    with engine.connect() as conn:
        row = conn.execute(select(Submission.__table__).where(Submission.id == submission_id)
                           ).mappings().first()
    if row is None:
        raise IdealError(f"no submission {submission_id}; `ideal audit` lists recent ones.")
    if strict and row["status"] not in ("failed", "received"):
        raise IdealError(f"{submission_id} is {row['status']}, not failed: nothing to retry.")
    raw = Path(row["archive_path"])
    if not raw.is_file():
        raise IdealError(f"the archived file of {submission_id} is missing ({raw}); ask the "
                         "steward to send it again.")
    return submit_bytes(raw.read_bytes(), row["filename"], row["country"], engine,
                        channel=channel, **kw)


def interrupted(engine: Engine, older_than: timedelta | None = None) -> list[dict]:
    """Mark the submissions a dead process left half-way as failed; returns them."""
    return load.mark_interrupted(engine, older_than if older_than is not None else stale_after(),
                                 audit.current_actor("recover"))


def recover(engine: Engine, older_than: timedelta | None = None, **kw) -> list:
    """Mark interrupted submissions failed and retry each once; returns their receipts."""
    return [retry(engine, s["id"], **kw) for s in interrupted(engine, older_than)]
