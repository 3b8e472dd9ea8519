"""Portal and API jobs cannot run away (#33): one account has at most N jobs at once, a job
has a wall-clock and a memory limit, a job whose process is gone is marked failed at the
server's next start, and codes in a request are capped and deduplicated."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ideal.contracts import MAX_CODES, AssessmentRequest, code_list
from ideal.errors import AssessmentError, TooManyJobs
from ideal.pipeline import jobs
from ideal.scoring import run
from ideal.web.jobs import Jobs


def test_codes_are_deduplicated_and_capped():
    assert code_list(["mx", "MX", " co", "MX"]) == ["MX", "CO"]
    assert AssessmentRequest.from_mapping({"countries": ["MX", "MX"]}).countries == ("MX",)
    assert len(code_list(["MX"] * MAX_CODES)) == 1
    with pytest.raises(AssessmentError, match="countries: at most 100 codes"):
        AssessmentRequest.from_mapping({"countries": ["MX"] * 7500})
    with pytest.raises(AssessmentError, match="crime_types: at most"):
        AssessmentRequest.from_mapping({"crime_types": "0101 " * 5000})
    # a code that is not one is refused without being echoed back (#34: 400 answers echoed the input)
    with pytest.raises(AssessmentError) as refused:
        AssessmentRequest.from_mapping({"countries": ["MX", "<img src=x onerror=alert(1)>" * 50]})
    assert "onerror" not in str(refused.value) and "2 to 16 letters" in str(refused.value)
    # nor a period that is not a year, nor is a note of any length taken
    with pytest.raises(AssessmentError) as refused:
        run.check_scope("<script>" * 100, [], [], ("MX",))
    assert "script" not in str(refused.value) and "give a year" in str(refused.value)
    with pytest.raises(AssessmentError, match="note: at most 1000 characters"):
        AssessmentRequest.from_mapping({"note": "x" * 1001})


def _wait(engine, job_id: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = jobs.get(engine, job_id)
        if job["state"] in ("success", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {jobs.get(engine, job_id)['state']}")


def test_one_account_runs_at_most_n_jobs(engine, monkeypatch):
    monkeypatch.setenv("IDEAL_JOBS_PER_ACCOUNT", "1")
    busy = jobs.create(engine, "assessment", "ana", {})
    jobs_ = Jobs(engine)
    with pytest.raises(TooManyJobs, match="ana already has jobs queued or running: 1, of at most 1 at once"):
        jobs_.start("assessment", "ana", {})
    assert TooManyJobs.http_status == 429
    jobs.fail(engine, busy["id"], "done")
    monkeypatch.setattr(Jobs, "command", [sys.executable, "-c", "pass"])
    started = jobs_.start("assessment", "ana", {})  # the first finished: the next may start
    assert started.owner == "ana"


def test_a_job_past_its_time_limit_is_stopped_and_failed(engine, monkeypatch):
    monkeypatch.setenv("IDEAL_JOB_SECONDS", "2")
    monkeypatch.setattr(Jobs, "command", [sys.executable, "-c", "import time; time.sleep(120)"])
    t0 = time.monotonic()
    job = Jobs(engine).start("assessment", "ana", {})
    done = _wait(engine, job.id)
    assert done["state"] == "failed" and "time limit (2 s)" in done["error"]
    assert time.monotonic() - t0 < 20


def test_a_job_cannot_take_more_memory_than_its_limit(engine, monkeypatch):
    monkeypatch.setenv("IDEAL_JOB_MEMORY_MB", "300")
    grab = ("import sys\ntry:\n    b = bytearray(600 * 2**20)\nexcept MemoryError:\n    sys.exit(3)\n")
    monkeypatch.setattr(Jobs, "command", [sys.executable, "-c", grab])
    job = Jobs(engine).start("assessment", "ana", {})
    done = _wait(engine, job.id)
    assert done["state"] == "failed" and "(exit 3)" in done["error"]  # MemoryError, not 600 MB taken


def test_jobs_left_running_without_a_process_are_failed_at_start(engine):
    dead = jobs.create(engine, "assessment", "ana", {})
    alive = jobs.create(engine, "briefing", "ana", {"run_id": "x", "language": "es"})
    # a live process of the second job (as `python -m ideal.pipeline.jobs ID` shows in /proc)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "ideal.pipeline.jobs", alive["id"]])
    try:
        time.sleep(0.3)
        assert jobs.fail_orphans(engine) == [dead["id"]]
        assert jobs.get(engine, dead["id"])["state"] == "failed"
        assert "server stopped while the job ran" in jobs.get(engine, dead["id"])["error"]
        assert jobs.get(engine, alive["id"])["state"] == "queued"
    finally:
        proc.kill()
        proc.wait()
