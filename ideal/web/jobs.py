"""Long work started from the portal (an assessment with its briefing, an annex) runs in a
background thread of the server, so the page answers at once and shows progress. With
Airflow configured, assessments go to Airflow instead and this is not used for them."""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from ideal.contracts import AssessmentRequest
from ideal.errors import IdealError
from ideal.pipeline.assessment import assess_and_report, render_report


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
    """The server's background jobs; one worker thread at a time per job, none shared."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, owner: str, params: dict,
              work: Callable[[Job], dict]) -> Job:
        job = Job(uuid.uuid4().hex[:12], kind, owner, params)
        with self._lock:
            self._jobs[job.id] = job

        def run() -> None:
            job.state = "running"
            try:
                job.result = work(job) or {}
                job.state = "success"
            except IdealError as exc:
                job.state, job.error = "failed", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported on the job page, logged here
                traceback.print_exc()
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = datetime.now(UTC)

        threading.Thread(target=run, name=f"ideal-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def recent(self, limit: int = 10) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)[:limit]


def assessment(engine: Engine, request: AssessmentRequest):
    """The job body for a local reassessment: assess, then render the briefing."""
    def work(job: Job) -> dict:
        return assess_and_report(engine, request, job.steps.append)
    return work


def render(engine: Engine, run_id: str, kind: str, language: str):
    def work(job: Job) -> dict:
        job.steps.append(f"rendering the {kind} ({language})")
        path = render_report(engine, run_id, kind, language)
        job.steps.append(f"{kind} ready")
        return {"run_id": run_id, "paths": [str(path)]}
    return work
