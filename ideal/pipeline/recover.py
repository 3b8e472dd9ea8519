"""After a crash: submissions a dead process left half-way are marked failed and retried
from the raw archive. Loading is one transaction, so a retry loads each file exactly once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from ideal.config import get_settings
from ideal.errors import IdealError, NotFound
from ideal.pipeline.submission import Receipt, submit_bytes
from ideal.store import audit, load, queries


def stale_after() -> timedelta:
    """How long a submission may stay 'received' before it counts as interrupted
    (IDEAL_STALE_MINUTES, default 30)."""
    return timedelta(minutes=get_settings().stale_minutes)


def retry(engine: Engine, submission_id: str, channel: str = "retry", strict: bool = True,
          **kw) -> Receipt:
    """Process a failed (or interrupted) submission again from its archived raw file. With
    strict=False (a retried Airflow task) a finished submission answers as a duplicate."""
    row = queries.submission(engine, submission_id)
    if row is None:
        raise NotFound(f"no submission {submission_id}; `ideal audit` lists recent ones.")
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


def recover(engine: Engine, older_than: timedelta | None = None, **kw) -> list[Receipt]:
    """Mark interrupted submissions failed and retry each once; returns their receipts."""
    return [retry(engine, s["id"], **kw) for s in interrupted(engine, older_than)]
