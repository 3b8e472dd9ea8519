"""Crash safety and idempotency: a loader killed with SIGKILL in the middle of a submission
leaves none of its rows; the submission is marked failed and retried; the retry loads it
exactly once. The same file twice, a retried task and a re-run assessment add nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from ideal.ingest.demo import country_frame
from ideal.store.models import Observation, Submission, ThreatScore

ROOT = Path(__file__).resolve().parents[2]


def count(engine, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Observation).where(*where)).scalar()


def duplicates(engine) -> int:
    """Current observations sharing a key: the unique index should make this impossible."""
    keys = (Observation.region, Observation.period, Observation.crime_type, Observation.indicator)
    with engine.connect() as conn:
        q = (select(func.count()).select_from(
            select(*keys).where(Observation.superseded_by.is_(None)).group_by(*keys)
            .having(func.count() > 1).subquery()))
        return conn.execute(q).scalar()


def test_sigkill_mid_load_then_retry_loads_exactly_once(engine, tmp_path, tally):
    from ideal.pipeline.recover import recover
    from ideal.pipeline.submission import submit_file

    frame = country_frame("MX")
    path = tmp_path / "mx.csv"
    frame.to_csv(path, index=False)
    marker = tmp_path / "holding"
    env = dict(os.environ, IDEAL_FAULT_HOLD_LOAD=str(marker))
    proc = subprocess.Popen([sys.executable, "-m", "ideal.cli", "submit", str(path), "-c", "MX"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the loader never reached the load"
            time.sleep(0.1)
        # the rows are inserted inside the open transaction: kill the process there
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    tally.add("crash_tests")
    assert proc.returncode == -signal.SIGKILL
    with engine.connect() as conn:
        sub = conn.execute(select(Submission.id, Submission.status)).one()
    assert sub.status == "received"  # recorded before the load; nothing after it committed
    assert count(engine) == 0
    receipts = recover(engine, timedelta(0))
    with engine.connect() as conn:
        status = conn.execute(select(Submission.status).where(Submission.id == sub.id)).scalar()
    assert [r.status for r in receipts] == ["accepted"] and status == "accepted"
    assert count(engine) == len(frame)
    assert recover(engine, timedelta(0)) == []  # nothing left to recover
    again = submit_file(path, "MX", engine)
    assert again.duplicate and count(engine) == len(frame)
    dupes = duplicates(engine)
    tally.add("duplicates", dupes)
    tally.add("lost", int(count(engine) != len(frame)))
    assert dupes == 0
    tally.add("crash_recovered")


def test_interrupted_submission_is_marked_failed_and_retryable(engine, tmp_path):
    """What `ideal recover` does to a submission a dead process left 'received'."""
    from ideal.ingest.archive import archive, sha256_bytes
    from ideal.pipeline.recover import interrupted, retry
    from ideal.store import load

    data = country_frame("CO").head(40).to_csv(index=False).encode()
    raw = archive(data, "CO", "co.csv", Path(os.environ["IDEAL_HOME"]) / "data" / "archive")
    load.record_received(engine, submission_id="CO-dead", country="CO", filename="co.csv",
                         sha256=sha256_bytes(data), channel="cli", archive_path=str(raw), actor="test")
    assert interrupted(engine, timedelta(hours=1)) == []  # too recent: may still be running
    assert [s["id"] for s in interrupted(engine, timedelta(0))] == ["CO-dead"]
    with engine.connect() as conn:
        row = conn.execute(select(Submission.status, Submission.message)
                           .where(Submission.id == "CO-dead")).one()
    assert row.status == "failed" and "interrupted" in row.message
    assert retry(engine, "CO-dead").status == "accepted"
    assert count(engine, Observation.submission_id == "CO-dead") == 40


def test_same_file_twice_retried_task_and_rerun_assessment(engine, tmp_path, tally):
    from ideal.contracts import AssessmentRequest
    from ideal.pipeline import tasks
    from ideal.pipeline.assessment import assess
    from ideal.pipeline.submission import submit_bytes

    data = country_frame("MX").to_csv(index=False).encode()
    first = submit_bytes(data, "mx.csv", "MX", engine)
    second = submit_bytes(data, "mx.csv", "MX", engine)
    assert first.ok and second.duplicate and count(engine) == first.rows_accepted
    # a retried Airflow task: the inbox file was processed by the first try
    inbox = Path(os.environ["IDEAL_HOME"]) / "data" / "inbox" / "MX"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "mx.csv").write_bytes(country_frame("MX").head(10).assign(value=1).to_csv(index=False).encode())
    item = {"country": "MX", "path": str(inbox / "mx.csv")}
    one = tasks.ingest_item(item)
    two = tasks.ingest_item(item)  # the retry finds the file gone
    assert one["status"] == "accepted" and two["status"] == "gone"
    # a retried retry-task of an interrupted submission answers as a duplicate
    dup = tasks.ingest_item({"country": "MX", "retry": first.submission_id})
    assert dup["duplicate"]
    run1 = assess(engine, AssessmentRequest(countries=("MX",)))
    run2 = assess(engine, AssessmentRequest(countries=("MX",)))
    assert run2.reused and run1.run_id == run2.run_id
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ThreatScore)).scalar()
    assert n == run1.n_scores
    dupes = duplicates(engine)
    tally.add("duplicates", dupes)
    assert dupes == 0


def test_scores_are_the_same_when_recomputed(engine):
    """Re-running the scoring itself (not reusing the stored run) gives the same numbers."""
    from ideal import reference
    from ideal.pipeline.submission import submit_bytes
    from ideal.scoring.profile import load_profile
    from ideal.scoring.score import score
    from ideal.store.runs import current_observations

    for cc in ("MX", "CO"):
        submit_bytes(country_frame(cc).to_csv(index=False).encode(), f"{cc}.csv", cc, engine)
    obs = current_observations(engine, 2018, 2025)
    prof = load_profile("default")
    a = score(obs, reference.population(), prof, "2025")[0]
    b = score(obs, reference.population(), prof, "2025")[0]
    assert a.equals(b)
