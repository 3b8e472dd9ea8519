"""Starting the portal's long work (ideal.pipeline.jobs) from a request: the job is recorded,
then run by its own process at the lowest CPU priority (nice 19), so the page answers at once
and the server keeps serving uploads while a run computes (its log: $IDEAL_HOME/logs/jobs/).
A thread of the server waits for
that process and records a failure if it ends without finishing the job. With Airflow
configured, assessments go to Airflow instead."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from ideal.config import ROOT, get_settings
from ideal.errors import TooManyJobs
from ideal.i18n import N_, said_in
from ideal.pipeline import jobs

NICE = 19  # the lowest priority: uploads come first, a run takes the idle CPU
_STARTING = threading.Lock()


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
        # server paths stay here; the error, in English, is the job's own field
        result = {k: v for k, v in self.result.items() if k not in ("paths", "error")}
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
    return said_in([step], gettext or (lambda m: m), step.get("msg", ""))


def _limits(memory_mb: int):
    """What the job's process sets before it starts: the lowest CPU priority and an address-space
    limit (a job that needs more fails with MemoryError instead of taking the machine's memory)."""
    def apply() -> None:
        os.nice(NICE)
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    return apply


class Jobs:
    """The portal's jobs: started as processes, their state read from the warehouse. Each job
    has a wall-clock and a memory limit (IDEAL_JOB_SECONDS, IDEAL_JOB_MEMORY_MB) and one account
    may have IDEAL_JOBS_PER_ACCOUNT queued or running at once; the next is refused with a message
    that says so."""

    command = [sys.executable, "-m", "ideal.pipeline.jobs"]  # + the job's id

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, kind: str, owner: str, params: dict) -> Job:
        settings = get_settings()
        with _STARTING:  # two requests of one account at the same instant count one after the other
            busy = jobs.active(self.engine, owner)
            if len(busy) >= settings.jobs_per_account:
                raise TooManyJobs(msgid=N_("%(owner)s already has jobs queued or running: %(n)s, of at most "
                                           "%(limit)s at once; wait for one to finish, then ask again."),
                                  values={"owner": owner, "n": len(busy), "limit": settings.jobs_per_account})
            job = jobs.create(self.engine, kind, owner, params)
        logs = settings.home / "logs" / "jobs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{job['id']}.log", "wb") as log:
            proc = subprocess.Popen([*self.command, job["id"]], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=_limits(settings.job_memory_mb))
        limit = settings.job_seconds

        def watch() -> None:
            try:
                code = proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                jobs.fail(self.engine, job["id"], N_("the job ran past its time limit (%(seconds)s s) and was "
                                                     "stopped."), seconds=limit)
                return
            if code not in (0, 1):  # 1: the job failed and said why
                jobs.fail(self.engine, job["id"], N_("the job's process ended unexpectedly (exit %(code)s)."),
                          code=code)

        threading.Thread(target=watch, name=f"ideal-job-{job['id']}", daemon=True).start()
        return Job(**job)

    def get(self, job_id: str) -> Job | None:
        found = jobs.get(self.engine, job_id)
        return Job(**found) if found else None

    def recent(self, limit: int = 10) -> list[Job]:
        return [Job(**j) for j in jobs.recent(self.engine, limit)]
