"""The portal's long work (an assessment with its briefing, a briefing or an annex) as a job
of its own: recorded in the warehouse (ideal.store.jobs), then run by `python -m
ideal.pipeline.jobs JOB_ID` in a separate process at a lower CPU priority, so that a server
process keeps answering stewards while a run computes. Any server process shows its steps."""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from ideal import services
from ideal.contracts import AssessmentRequest
from ideal.errors import IdealError, NotFound
from ideal.i18n import N_
from ideal.store import jobs

log = logging.getLogger("ideal.jobs")
KINDS = ("assessment", "briefing", "annex")


def create(engine: Engine, kind: str, owner: str, params: dict) -> dict:
    """Record a queued job; returns it."""
    if kind not in KINDS:
        raise IdealError(f"no job of kind {kind!r} ({', '.join(KINDS)}).")
    job = {"id": uuid.uuid4().hex[:12], "kind": kind, "owner": owner, "params": params,
           "state": "queued", "steps": [], "result": {}, "error": None,
           "started": datetime.now(UTC), "finished": None}
    jobs.create(engine, job)
    return job


def run(engine: Engine, job_id: str) -> dict:
    """Run a queued job to its end, recording each step and the outcome; returns the job."""
    job = jobs.get(engine, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}.")
    steps = list(job["steps"])

    def step(message: str, **values) -> None:
        """A step as its catalogue message and values (shown translated), never a path."""
        steps.append(_said(message, **values))
        jobs.change(engine, job_id, steps=list(steps))

    # imported here: the portal's processes import this module and must start in seconds (#33)
    from ideal.pipeline.assessment import assess_and_report, render_report

    jobs.change(engine, job_id, state="running")
    params = job["params"]
    try:
        if job["kind"] == "assessment":
            result = assess_and_report(engine, AssessmentRequest.from_mapping(params), step)
        else:
            what = "briefing" if job["kind"] == "briefing" else "annex"
            step(f"rendering the {what} (%(language)s)", language=params["language"].upper())
            path = render_report(engine, params["run_id"], job["kind"], params["language"])
            step(f"{what} ready")
            result = {"run_id": params["run_id"], "paths": [str(path)]}
        state, error = "success", None
    except IdealError as exc:
        state, error = "failed", str(exc)
        result = {"error": _said(exc.msgid, **exc.values)} if exc.msgid else {}
    except Exception as exc:  # reported on the job page, logged here
        log.exception("job %s (%s) failed", job_id, job["kind"])
        # the exception's text can hold an SQL statement or a server path: the log has it
        said = _said(N_("the job failed unexpectedly (%(kind)s); the server's log has the details (job "
                        "%(id)s)."), kind=type(exc).__name__, id=job_id)
        result, state, error = {"error": said}, "failed", said["msg"] % said["args"]
    jobs.change(engine, job_id, state=state, result=result, error=error,
                  finished=datetime.now(UTC))
    return jobs.get(engine, job_id)


def get(engine: Engine, job_id: str) -> dict | None:
    return jobs.get(engine, job_id)


def recent(engine: Engine, limit: int = 10) -> list[dict]:
    return jobs.recent(engine, limit)


def active(engine: Engine, owner: str | None = None) -> list[dict]:
    """Jobs queued or running (of ``owner``, or of everyone)."""
    return jobs.active(engine, owner)


def _said(msgid: str, **values) -> dict:
    """A message as the job page shows it in the reader's language (ideal.web.jobs.step_text)."""
    return {"msg": msgid, "args": {k: str(v) for k, v in values.items()}}


def fail(engine: Engine, job_id: str, msgid: str, **values) -> None:
    """Record that a job's process ended without finishing it (killed, crashed): ``msgid`` a
    catalogue message with its ``values``, kept in English as the error and as a message the
    job page translates."""
    job = jobs.get(engine, job_id)
    if job and job["state"] in ("queued", "running"):
        said = _said(msgid, **values)
        jobs.change(engine, job_id, state="failed", error=said["msg"] % said["args"] if values else msgid,
                    result={"error": said}, finished=datetime.now(UTC))


def running_job_ids() -> set[str] | None:
    """The ids of the jobs whose process (`python -m ideal.pipeline.jobs ID`) is alive on this
    machine, read from /proc; None where there is no /proc to read."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    alive = set()
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while it was read
            continue
        if b"ideal.pipeline.jobs" in args and args.index(b"ideal.pipeline.jobs") + 1 < len(args):
            alive.add(args[args.index(b"ideal.pipeline.jobs") + 1].decode(errors="replace"))
    return alive


def fail_orphans(engine: Engine) -> list[str]:
    """At a server's start: every job still queued or running whose process is gone (the server
    or the machine stopped while it ran) is marked failed, so no job stays "running" forever.
    Returns their ids."""
    alive = running_job_ids() or set()
    gone = [j["id"] for j in active(engine) if j["id"] not in alive]
    for job_id in gone:
        fail(engine, job_id, N_("the server stopped while the job ran; start it again."))
    return gone


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    job = run(services.engine(), argv[0])
    return 0 if job["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
