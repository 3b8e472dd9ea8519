"""Shared fixtures: temporary IDEAL folders, and a warehouse on SQLite and on PostgreSQL.

PostgreSQL: the server on 127.0.0.1:5432 (IDEAL_TEST_PG_URL to point elsewhere on loopback);
one fresh database per test session, dropped at the end; tables emptied between tests.
If the server is stopped, the fixture tries to start it with this machine's command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# The tests never touch a real installation: whatever IDEAL_* the shell has, the session's
# defaults are a throwaway folder and no external database or Airflow (fixtures override them).
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="ideal-tests-"))
os.environ["IDEAL_HOME"] = str(_SESSION_HOME / "var")
os.environ["IDEAL_REPORTS_DIR"] = str(_SESSION_HOME / "reports")
for _name in ("IDEAL_DATABASE_URL", "IDEAL_DATA_DIR", "IDEAL_AIRFLOW_URL", "IDEAL_TOKEN",
              "IDEAL_SECRET_KEY", "IDEAL_FAULT_HOLD_LOAD"):
    os.environ.pop(_name, None)

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
PG_ADMIN_URL = os.environ.get("IDEAL_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(config, items):
    """The longest test files first, each file's tests in their own order (#33): xdist's
    ``--dist loadfile`` hands files to its workers in this order (with
    ``--no-loadscope-reorder``, as `make test` runs it), so a long file no longer starts last
    while the other worker has nothing left. The seconds are a past run's
    (tests/durations.json, written by scripts/test_durations.py); a new file counts as short."""
    import json

    durations = ROOT / "tests" / "durations.json"
    seconds = json.loads(durations.read_text(encoding="utf-8")) if durations.exists() else {}
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        first.setdefault(item.nodeid.split("::")[0], i)
    items.sort(key=lambda item: (-seconds.get(item.nodeid.split("::")[0], 0.0),
                                 first[item.nodeid.split("::")[0]]))


def real_file(*parts: str) -> Path:
    """A file of ../shared/data/real; the test is skipped with a reason if it is absent."""
    path = REAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data file {path} not present")
    return path


@pytest.fixture
def ideal_env(tmp_path, monkeypatch):
    """IDEAL_* settings pointing at a temporary folder; returns the Settings."""
    from ideal.config import get_settings

    monkeypatch.setenv("IDEAL_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("IDEAL_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("IDEAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("IDEAL_MEMBERS", raising=False)
    return get_settings()


def _pg_up() -> bool:
    try:
        with create_engine(PG_ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


def _start_pg() -> None:
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=False, capture_output=True)
        for _ in range(30):
            if _pg_up():
                return
            time.sleep(1)


@pytest.fixture(scope="session")
def pg_url():
    if not _pg_up():
        _start_pg()
    if not _pg_up():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; start it "
                    "(pg_ctlcluster ... main start) or set IDEAL_TEST_PG_URL")
    name = f"ideal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = create_engine(PG_ADMIN_URL).url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def light_profile(tmp_path_factory) -> str:
    """Profile default with fewer simulations (40 draws of the data, 128 Sobol base samples):
    the same method, a tenth of the time, for tests about rendering, delivery and what makes a
    new run. The profile's own counts are tested with the assessment
    (tests/pipeline/test_assessment.py::test_assess_and_report)."""
    import yaml

    from ideal.scoring.profile import load_profile

    profile = load_profile("default")
    profile["uncertainty"].update(draws=40, sobol_samples=128, sobol_data_draws=4)
    path = tmp_path_factory.mktemp("profile") / "default.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, ideal_env, monkeypatch):
    """A migrated, empty warehouse on each backend; IDEAL_DATABASE_URL points at it."""
    from ideal.store import make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{ideal_env.home / 'ideal.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("IDEAL_DATABASE_URL", url)
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    if request.param == "postgresql":
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE jobs, reports, threat_scores, assessment_runs, validation_results, "
                              "observation_facts, submissions, audit_log, deliveries, api_tokens, users, web_sessions, login_counters "
                              "RESTART IDENTITY CASCADE"))
    eng.dispose()


# --- the reliability table (tests/reliability), also when the suite runs on several workers ----

def pytest_sessionfinish(session):
    from tests.reliability.conftest import TALLY

    output = getattr(session.config, "workeroutput", None)  # a pytest-xdist worker
    if output is not None and TALLY:
        output["ideal_tally"] = list(TALLY.items())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests.reliability.conftest import merge

    merge(getattr(node, "workeroutput", {}).get("ideal_tally", []))


def pytest_terminal_summary(terminalreporter):
    from tests.reliability.conftest import summary

    summary(terminalreporter)
