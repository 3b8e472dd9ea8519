"""Long work started from the portal (an assessment with its briefing, an annex) runs in a
background thread of the server process that started it, so the page answers at once; its
state and steps are kept in the warehouse (ideal.store.jobs), so that any of the server's
processes shows its progress. With Airflow configured, assessments go to Airflow instead."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from ideal.contracts import AssessmentRequest
from ideal.errors import IdealError
from ideal.pipeline.assessment import assess_and_report, render_report
from ideal.store import jobs as stored

log = logging.getLogger("ideal.web")


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    params: dict
    state: str = "queued"  # queued | running | success | failed
    steps: list[str] = field(default_factory=list)
    result: dict = field(default_factory=dict)
    error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "owner": self.owner, "params": self.params,
                "state": self.state, "steps": list(self.steps), "result": self.result,
                "error": self.error, "started": self.started.isoformat(),
                "finished": self.finished.isoformat() if self.finished else None}


class Jobs:
    """The portal's background jobs, one thread each, their state in the warehouse."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, kind: str, owner: str, params: dict, work: Callable[[Callable[[str], None]], dict]) -> Job:
        """Start ``work(step)`` in a thread; ``step(text)`` records a line of progress."""
        job = Job(uuid.uuid4().hex[:12], kind, owner, params)
        stored.create(self.engine, job.__dict__)

        def step(text: str) -> None:
            job.steps.append(text)
            stored.change(self.engine, job.id, steps=list(job.steps))

        def run() -> None:
            stored.change(self.engine, job.id, state="running")
            try:
                result, state, error = work(step) or {}, "success", None
            except IdealError as exc:
                result, state, error = {}, "failed", str(exc)
            except Exception as exc:  # reported on the job page, logged here
                log.exception("job %s (%s) failed", job.id, kind)
                result, state, error = {}, "failed", f"{type(exc).__name__}: {exc}"
            stored.change(self.engine, job.id, state=state, result=result, error=error,
                          finished=datetime.now(UTC))

        threading.Thread(target=run, name=f"ideal-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        found = stored.get(self.engine, job_id)
        return Job(**found) if found else None

    def recent(self, limit: int = 10) -> list[Job]:
        return [Job(**j) for j in stored.recent(self.engine, limit)]


def assessment(engine: Engine, request: AssessmentRequest):
    """The job body for a local reassessment: assess, then render the briefing."""
    def work(step: Callable[[str], None]) -> dict:
        return assess_and_report(engine, request, step)
    return work


def render(engine: Engine, run_id: str, kind: str, language: str):
    def work(step: Callable[[str], None]) -> dict:
        step(f"rendering the {kind} ({language})")
        path = render_report(engine, run_id, kind, language)
        step(f"{kind} ready")
        return {"run_id": run_id, "paths": [str(path)]}
    return work
