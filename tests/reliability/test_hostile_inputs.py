"""Every malformed or hostile file of the corpus, through the portal, the API and the
command line: refused with a clear message, no row loaded, the raw file in quarantine."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ideal.store.models import Observation, Submission
from ideal.validate.runner import rules
from tests.reliability.corpus import corpus

LIMIT = 3 * 2**20


def observations(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Observation)).scalar()


def clear(message: str, findings: list[dict]) -> bool:
    """A message a steward can act on: it names the file or a rule with a fix, and is not
    a traceback or an internal error name alone."""
    if not message or "Traceback" in message or len(message) < 25:
        return False
    table = rules()
    return all(f["rule"] in table and table[f["rule"]]["fix"] for f in findings
               if f["severity"] == "error" and f["rule"] != "file_readable") and bool(findings)


def quarantined(settings, sha: str) -> bool:
    folder = settings.quarantine_dir / "MX"
    reason = folder / f"{sha}.reason.txt"
    return reason.is_file() and any(p.name.startswith(sha) and p != reason for p in folder.iterdir())


def check(engine, settings, tally, label, sid, status, message, findings, before, outside):
    tally.add("inputs")
    ok = status == "rejected" and clear(message, findings)
    tally.add("refused_clearly", int(ok))
    tally.add("tracebacks", int("Traceback" in message))
    loaded = observations(engine) - before
    tally.add("rows_wrongly_loaded", loaded)
    with engine.connect() as conn:
        sha = conn.execute(select(Submission.sha256).where(Submission.id == sid)).scalar()
    kept = sha is not None and quarantined(settings, sha)
    tally.add("not_quarantined", int(not kept))
    assert ok, (label, status, message, findings[:3])
    assert loaded == 0, label
    assert kept, label
    assert not outside(), f"{label}: a file was written outside the data folder"


@pytest.fixture
def small_limit(ideal_env, monkeypatch):
    monkeypatch.setenv("IDEAL_MAX_UPLOAD_MB", str(LIMIT / 2**20))
    from ideal.config import get_settings

    return get_settings()


def _outside_watch(root: Path):
    """A check that nothing new appeared under ``root`` outside var/data and reports/."""
    def files():
        return {p for p in root.rglob("*") if p.is_file()
                and not {"data", "reports", "cli"} & set(p.relative_to(root).parts)}
    before = files()
    return lambda: files() - before - {p for p in files() if p.suffix in (".db", ".db-wal", ".db-shm")
                                       or p.name.startswith("ideal.db") or p.name == "secret_key"}


def test_corpus_through_the_portal(engine, small_limit, tally, tmp_path):
    """SQLite and PostgreSQL: each file uploaded by a steward in the browser's way."""
    from fastapi.testclient import TestClient

    from ideal.store import accounts
    from ideal.store.queries import findings as stored_findings
    from ideal.web import create_app
    from tests.web.conftest import PASSWORD, csrf, login

    accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
    outside = _outside_watch(tmp_path)
    items = corpus(LIMIT)
    assert len(items) >= 50
    with TestClient(create_app(engine)) as c:
        login(c, "mx.steward")
        token = csrf(c)
        for label, name, data in items:
            before = observations(engine)
            r = c.post("/submissions", data={"csrf_token": token},
                       files={"file": (name, data, "application/octet-stream")})
            assert r.status_code == 200, (label, r.status_code, r.text[-500:])
            assert "Traceback" not in r.text
            sid = r.url.path.rsplit("/", 1)[1]  # the page of the submission (?notice=... aside)
            with engine.connect() as conn:
                row = conn.execute(select(Submission.status, Submission.message)
                                   .where(Submission.id == sid)).first()
            found = stored_findings(engine, sid).to_dict("records")
            check(engine, small_limit, tally, label, sid, row.status, row.message or "", found,
                  before, outside)
            # the steward sees the reason on the page
            assert re.sub(r"\s+", " ", (row.message or "")[:40]) in re.sub(r"\s+", " ", r.text) \
                or found, label


def test_corpus_through_the_api_and_the_cli(engine, small_limit, tally, tmp_path):
    """The same corpus by a national system's script (API token) and by the command line."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from ideal.cli import app
    from ideal.store import accounts
    from ideal.web import create_app

    accounts.add_user(engine, "mx.system", "correct-horse-battery", "steward", "MX")
    token = accounts.make_token(engine, "mx.system", "reliability")
    outside = _outside_watch(tmp_path)
    runner = CliRunner()
    settings = dataclasses.replace(small_limit)
    with TestClient(create_app(engine)) as c:
        for i, (label, name, data) in enumerate(corpus(LIMIT)):
            before = observations(engine)
            # a different byte at the end so that each path is a new submission, not a duplicate
            plain = not name.endswith((".xlsx", ".gz", ".bz2"))
            variant = data + b"\n" if plain else data
            r = c.post("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                       files={"file": (name, variant, "text/csv")})
            assert r.status_code in (422, 200), (label, r.status_code, r.text[:300])
            body = r.json()
            if body.get("duplicate"):
                continue  # identical bytes to the portal's: already counted there
            check(engine, settings, tally, f"api: {label}", body["submission_id"], body["status"],
                  body["message"], body["findings"], before, outside)
            # the command line, with a file on disk under a plain name
            disk = tmp_path / "cli" / f"{i:02d}{''.join(Path(name).suffixes)[-8:] or '.csv'}"
            disk.parent.mkdir(exist_ok=True)
            disk.write_bytes(variant + b" " if plain else variant)
            before = observations(engine)
            out = runner.invoke(app, ["submit", str(disk), "--country", "MX"])
            assert out.exit_code == 1, (label, out.output)
            assert "Traceback" not in out.output and out.exception is None or \
                isinstance(out.exception, SystemExit), (label, out.output)
            tally.add("inputs")
            tally.add("tracebacks", int("Traceback" in out.output))
            lines = out.output.strip().splitlines()
            said = bool(lines) and ("RECHAZADO" in lines[0] or "error:" in lines[0])  # es by default
            tally.add("refused_clearly", int(said))
            assert said, (label, out.output[:300])
            tally.add("rows_wrongly_loaded", observations(engine) - before)
            assert observations(engine) == before
