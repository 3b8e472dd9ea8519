"""The portal's background jobs: their state, steps and outcome."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from ideal.store.models import Job

FIELDS = ("id", "kind", "owner", "params", "state", "steps", "result", "error", "started", "finished")


def create(engine: Engine, job: dict) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Job.__table__).values(**{k: job[k] for k in FIELDS}))


def change(engine: Engine, job_id: str, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(Job.__table__).where(Job.id == job_id).values(**values))


def get(engine: Engine, job_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().first()
    return dict(row) if row else None


def recent(engine: Engine, limit: int = 10) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(Job.__table__).order_by(Job.started.desc()).limit(limit)).mappings()]


def active(engine: Engine, owner: str | None = None) -> list[dict]:
    """Jobs queued or running (of ``owner``, or of everyone)."""
    q = select(Job.__table__).where(Job.state.in_(("queued", "running")))
    if owner is not None:
        q = q.where(Job.owner == owner)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
