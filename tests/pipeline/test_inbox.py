"""Audit trail, landing folder and size limit, on SQLite and PostgreSQL."""

import os
import time
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ideal.config import get_settings
from ideal.ingest.demo import country_frame
from ideal.pipeline.inbox import ingest_inbox, pending, ready
from ideal.pipeline.submission import submit_bytes
from ideal.store import audit

TODAY = date(2026, 11, 28)


def csv(frame):
    return frame.to_csv(index=False).encode()


def test_every_decision_is_audited_and_the_log_is_append_only(engine, monkeypatch):
    monkeypatch.setenv("IDEAL_ACTOR", "steward:mx-1")
    mx = country_frame("MX")
    first = submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)  # duplicate
    fix = mx[(mx["period"] == "2025") & (mx["crime_type"] == "0101")].assign(value=lambda d: d["value"] + 1)
    second = submit_bytes(csv(fix), "fix.csv", "MX", engine, today=TODAY)
    assert second.ok, (second.message, second.findings.query("severity == 'error'").to_dict("records")[:5])
    bad = submit_bytes(b"country,region\nMX,MX-JAL\n", "bad.csv", "MX", engine, today=TODAY)
    log = audit.events(engine)
    assert set(log["actor"]) == {"steward:mx-1"}
    actions = list(zip(log["action"], log["object_id"], strict=False))
    for expected in [("submission.received", first.submission_id), ("submission.accepted", first.submission_id),
                     ("submission.duplicate", first.submission_id), ("submission.superseded", first.submission_id),
                     ("submission.accepted", second.submission_id), ("submission.rejected", bad.submission_id),
                     ("submission.quarantined", bad.submission_id)]:
        assert expected in actions
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET outcome = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    assert len(audit.events(engine)) == len(log)


def test_landing_folder_waits_for_files_being_written(ideal_env, tmp_path):
    folder = ideal_env.inbox_dir / "MX"
    folder.mkdir(parents=True)
    done = folder / "a.csv"
    done.write_text("x")
    old = time.time() - 60
    os.utime(done, (old, old))
    (folder / "b.csv.part").write_text("x")
    (folder / ".hidden.csv").write_text("x")
    fresh = folder / "c.csv"
    fresh.write_text("x")
    assert [p.name for _, p in pending()] == ["a.csv"]
    assert ready(fresh, 2.0, now=time.time() + 5)


def test_oversized_upload_rejected_and_kept(engine, monkeypatch, ideal_env):
    monkeypatch.setenv("IDEAL_MAX_UPLOAD_MB", "0.001")
    receipt = submit_bytes(csv(country_frame("MX").head(200)), "big.csv", "MX", engine,
                           settings=get_settings(), today=TODAY)
    assert receipt.status == "rejected" and "IDEAL_MAX_UPLOAD_MB" in receipt.message
    assert len(list((ideal_env.archive_dir / "MX").iterdir())) == 1


def test_inbox_far_oversized_file_goes_to_quarantine_with_reason(engine, monkeypatch, ideal_env):
    monkeypatch.setenv("IDEAL_MAX_UPLOAD_MB", "0.0001")
    monkeypatch.setenv("IDEAL_INBOX_SETTLE_SECONDS", "0")
    folder = ideal_env.inbox_dir / "MX"
    folder.mkdir(parents=True)
    (folder / "huge.csv").write_bytes(csv(country_frame("MX").head(500)))
    receipts = list(ingest_inbox(engine, get_settings()))
    assert receipts[0].status == "rejected" and "IDEAL_MAX_UPLOAD_MB" in receipts[0].message
    quarantined = sorted(p.name for p in (ideal_env.quarantine_dir / "MX").iterdir())
    assert quarantined[0].endswith("huge.csv") and quarantined[1].endswith("huge.csv.reason.txt")
    assert not list(folder.iterdir())
    assert "inbox.refused" in set(audit.events(engine)["action"])
