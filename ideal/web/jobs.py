"""Starting the portal's long work (ideal.pipeline.jobs) from a request: the job is recorded,
then run by its own process at the lowest CPU priority (nice 19), so the page answers at once
and the server keeps serving uploads while a run computes (its log: $IDEAL_HOME/logs/jobs/).
A thread of the server waits for
that process and records a failure if it ends without finishing the job. With Airflow
configured, assessments go to Airflow instead."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from ideal.config import ROOT, get_settings
from ideal.pipeline import jobs

NICE = 19  # the lowest priority: uploads come first, a run takes the idle CPU


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
    started: datetime | None = None
    finished: datetime | None = None

    def as_dict(self) -> dict:
        result = {k: v for k, v in self.result.items() if k != "paths"}  # server paths stay here
        if self.result.get("run_id"):
            result["links"] = {"run": f"/runs/{self.result['run_id']}"}
        return {"id": self.id, "kind": self.kind, "owner": self.owner, "params": self.params,
                "state": self.state, "steps": [step_text(s) for s in self.steps], "result": result,
                "error": self.error, "started": self.started.isoformat() if self.started else None,
                "finished": self.finished.isoformat() if self.finished else None}


def step_text(step, gettext=None) -> str:
    """A job step as text: its message translated with ``gettext`` (English without), its
    values filled in. Steps stored as plain text (before messages had values) stay as they are."""
    if not isinstance(step, dict):
        return str(step)
    message = (gettext or (lambda m: m))(step.get("msg", ""))
    try:
        return message % step.get("args", {}) if step.get("args") else message
    except (KeyError, TypeError, ValueError):
        return step.get("msg", "")


def _lower_priority() -> None:
    os.nice(NICE)


class Jobs:
    """The portal's jobs: started as processes, their state read from the warehouse."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, kind: str, owner: str, params: dict) -> Job:
        job = jobs.create(self.engine, kind, owner, params)
        logs = get_settings().home / "logs" / "jobs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{job['id']}.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "ideal.pipeline.jobs", job["id"]],
                                    cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT, preexec_fn=_lower_priority)

        def watch() -> None:
            code = proc.wait()
            if code not in (0, 1):  # 1: the job failed and said why
                jobs.fail(self.engine, job["id"], f"the job's process ended unexpectedly (exit {code}).")

        threading.Thread(target=watch, name=f"ideal-job-{job['id']}", daemon=True).start()
        return Job(**job)

    def get(self, job_id: str) -> Job | None:
        found = jobs.get(self.engine, job_id)
        return Job(**found) if found else None

    def recent(self, limit: int = 10) -> list[Job]:
        return [Job(**j) for j in jobs.recent(self.engine, limit)]
