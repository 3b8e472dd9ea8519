"""A real deployment on this machine: PostgreSQL metadata database and warehouse, the Celery
executor with the Redis broker, and Airflow's api-server, scheduler, dag-processor and a
Celery worker as separate processes, with the role-based auth manager (Flask AppBuilder: an
analyst's account with the role User). An analyst triggers ideal_assess through REST v2; the
assessment asset then starts ideal_report, which writes the PDF. Every wait is bounded and
every process the test started is stopped by its id."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.deployment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def databases():
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"ideal_deploy_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("meta", "wh")]
    with admin.connect() as conn:
        for n in names:
            conn.execute(text(f'CREATE DATABASE "{n}"'))
    base = admin.url
    yield [base.set(database=n) for n in names]
    with admin.connect() as conn:
        for n in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))
    admin.dispose()


def wait(what: str, check, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_trigger_through_rest_reaches_a_pdf(tmp_path, databases):
    if not redis_up():
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                        "--save", "", "--appendonly", "no"], check=False, capture_output=True)
        wait("Redis", redis_up, 20, 1)
    meta, warehouse = databases
    port = free_port()
    home = tmp_path / "airflow"
    home.mkdir()
    # token_urlsafe may start with "-", which argparse would read as an option: passed as --password=VALUE
    password = secrets.token_urlsafe(12)
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # the role-based auth manager (Flask AppBuilder): accounts with roles in the metadata DB
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False),
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{secrets.randbelow(14) + 1}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta.set(drivername="postgresql").render_as_string(hide_password=False),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "IDEAL_DATABASE_URL": warehouse.render_as_string(hide_password=False),
        "IDEAL_HOME": str(tmp_path / "var"),
        "IDEAL_REPORTS_DIR": str(tmp_path / "reports"),
        "IDEAL_MEMBERS": "MX CO",
        "GX_ANALYTICS_ENABLED": "False",
        # the tasks write each run's note through the REST API, with the portal's page in it
        "IDEAL_AIRFLOW_URL": f"http://127.0.0.1:{port}",
        "IDEAL_AIRFLOW_USER": "analyst",
        "IDEAL_AIRFLOW_PASSWORD": password,
        "IDEAL_PUBLIC_URL": "http://127.0.0.1:8000",
    })
    run = lambda *a, **k: subprocess.run(a, env=env, capture_output=True, text=True, timeout=600, **k)  # noqa: E731
    migrated = run(str(BIN / "airflow"), "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    # an analyst's account with the role User (trigger and edit DAG runs, no administration)
    user = run(str(BIN / "airflow"), "users", "create", "--username", "analyst", f"--password={password}",
               "--role", "User", "--firstname", "Ana", "--lastname", "Lista", "--email", "analyst@example.org")
    assert user.returncode == 0, user.stdout[-2000:] + user.stderr[-3000:]
    seeded = run(sys.executable, "-c", "from ideal.config import get_settings; from ideal.ingest.demo import generate;"
                 "from ideal.services import engine; from ideal.pipeline.inbox import ingest_inbox;"
                 "import dataclasses; s = get_settings(); generate(s.inbox_dir, s.members);"
                 "list(ingest_inbox(engine(), dataclasses.replace(s, inbox_settle_seconds=0)))")
    assert seeded.returncode == 0, seeded.stderr[-3000:]

    procs = []
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, args in (("api-server", ["api-server", "--port", str(port)]), ("scheduler", ["scheduler"]),
                       ("dag-processor", ["dag-processor"]),
                       ("worker", ["celery", "worker", "--concurrency", "2"])):
        out = open(logs / f"{name}.log", "wb")
        procs.append((name, subprocess.Popen([str(BIN / "airflow"), *args], env=env, stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True)))
    api = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        wait("the api-server", lambda: _get(f"{api}/api/v2/monitor/health"), 180)
        token = requests.post(f"{api}/auth/token", json={"username": "analyst", "password": password},
                              timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        wait("the DAGs to be parsed", lambda: all(
            _get(f"{api}/api/v2/dags/{d}", auth) for d in ("ideal_assess", "ideal_report")), 180)
        # unpaused from the start, and the trigger form offers selects with names
        for d in ("ideal_ingest", "ideal_assess", "ideal_report"):
            assert _get(f"{api}/api/v2/dags/{d}", auth)["is_paused"] is False, d
        form = _get(f"{api}/api/v2/dags/ideal_assess/details", auth)["params"]
        countries = form["countries"]["schema"]
        assert sorted(countries["items"]["enum"]) == ["CO", "MX"] and countries["type"] == ["array", "null"]
        assert countries["values_display"]["MX"].startswith("México"), countries
        assert form["crime_types"]["schema"]["values_display"]["0101"], form["crime_types"]
        bad = requests.post(f"{api}/api/v2/dags/ideal_assess/dagRuns", headers=auth, timeout=30,
                            json={"logical_date": None, "conf": {"period": "20x5"}})
        assert bad.status_code == 400, bad.text
        t0 = time.monotonic()
        ok = requests.post(f"{api}/api/v2/dags/ideal_assess/dagRuns", headers=auth, timeout=30,
                           json={"logical_date": None,
                                 "conf": {"period": "2025", "countries": ["MX", "CO"], "note": "deployment test"}})
        assert ok.status_code == 200, ok.text
        run_id = ok.json()["dag_run_id"]
        state = wait("ideal_assess to finish", lambda: _state(api, auth, "ideal_assess", run_id), 300, 3)
        assert state == "success", _logs(logs)
        report_run = wait("ideal_report to run from the asset event",
                          lambda: _finished_run(api, auth, "ideal_report"), 300, 3)
        assert report_run["state"] == "success", _logs(logs)
        # the quarterly run that started with the scheduler found no assessment yet: it failed at
        # its first try (a retry cannot make a run appear), with the reason in its log
        early = _finished_run(api, auth, "ideal_report", "scheduled")
        if early is not None:
            render = _get(f"{api}/api/v2/dags/ideal_report/dagRuns/{quote(early['dag_run_id'], safe='')}"
                          "/taskInstances/render", auth)
            assert render["state"] == "failed" and render["try_number"] == 1, render
        pdf = tmp_path / "reports" / "2025" / "briefing-es.pdf"
        assert pdf.exists() and pdf.stat().st_size > 10_000
        # the results where the analyst looks: each run's note
        note = _get(f"{api}/api/v2/dags/ideal_assess/dagRuns/{quote(run_id, safe='')}", auth)["note"]
        assessment = note.split()[1]
        assert note.startswith("Assessment ") and "Note: deployment test" in note and "Top threats:" in note, note
        assert f"Portal: http://127.0.0.1:8000/runs/{assessment}" in note, note
        report_note = report_run["note"] or ""
        assert f"Briefings of assessment {assessment}" in report_note, report_note
        noted = [Path(line.split(": ", 1)[1]) for line in report_note.splitlines() if line.startswith("Briefing: ")]
        assert noted and all(p.is_absolute() and p.exists() and p.name == "briefing-es.pdf" for p in noted), report_note
        # a year without data fails at its first try: a retry cannot fix it
        future = requests.post(f"{api}/api/v2/dags/ideal_assess/dagRuns", headers=auth, timeout=30,
                               json={"logical_date": None, "conf": {"period": "2030"}}).json()["dag_run_id"]
        assert wait("the future year to fail", lambda: _state(api, auth, "ideal_assess", future), 300, 3) == "failed"
        plan = _get(f"{api}/api/v2/dags/ideal_assess/dagRuns/{quote(future, safe='')}/taskInstances/plan", auth)
        assert plan["state"] == "failed" and plan["try_number"] == 1, plan
        print(f"trigger to PDF: {time.monotonic() - t0:.1f} s (processes up after "
              f"{t0 - started:.1f} s)")
        # the analysts' command goes through the same REST API
        cli = dict(env, IDEAL_AIRFLOW_URL=api, IDEAL_AIRFLOW_USER="analyst", IDEAL_AIRFLOW_PASSWORD=password)
        # codes typed in lower case are sent as the form's rule has them (upper case)
        out = subprocess.run([str(BIN / "ideal"), "trigger", "--period", "2025", "--countries", "mx",
                              "--note", "cli"], env=cli, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "(airflow," in out.stdout, out.stdout + out.stderr
        cli_run = out.stdout.split()[1]
        sent = _get(f"{api}/api/v2/dags/ideal_assess/dagRuns/{quote(cli_run, safe='')}", auth)["conf"]
        assert sent["countries"] == ["MX"], sent
        assert f"/dags/ideal_assess/runs/{cli_run}" in out.stdout
        listed = subprocess.run([str(BIN / "ideal"), "runs"], env=cli, capture_output=True, text=True,
                                timeout=120)
        assert listed.returncode == 0 and cli_run in listed.stdout and run_id in listed.stdout
        refused = subprocess.run([str(BIN / "ideal"), "trigger", "--period", "20x5"], env=cli,
                                 capture_output=True, text=True, timeout=120)
        # refused before it reaches Airflow, as in the portal (Airflow's own refusal of a bad
        # conf is checked above through its REST API)
        assert refused.returncode == 1 and "give a year such as 2025" in refused.stderr, refused.stderr
        _portal_triggers_through_airflow(cli, api, auth)
    finally:
        for _name, p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for _name, p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def _portal_triggers_through_airflow(env: dict, api: str, auth: dict) -> None:
    """An analyst's trigger from the portal goes to Airflow's REST API and is listed there."""
    from fastapi.testclient import TestClient

    from ideal.store import accounts
    from ideal.web import create_app
    from tests.web.conftest import PASSWORD, csrf, login

    keys = [k for k in env if k.startswith(("IDEAL_", "AIRFLOW"))]
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: env[k] for k in keys})
    try:
        app = create_app()
        accounts.add_user(app.state.engine, "portal.analyst", PASSWORD, "analyst", language="en")
        with TestClient(app) as client:
            assert login(client, "portal.analyst").status_code == 303
            bad = client.post("/runs", data={"period": "20x5", "csrf_token": csrf(client)})
            assert bad.status_code == 400
            r = client.post("/runs", data={"period": "2025", "countries": ["CO"], "note": "portal",
                                           "csrf_token": csrf(client)})
            assert r.status_code == 200 and "Airflow run" in r.text and "queued" in r.text, r.text[-2000:]
            run_id = r.text.split("Airflow run ")[1].split()[0]
            runs = requests.get(f"{api}/api/v2/dags/ideal_assess/dagRuns", headers=auth,
                                timeout=30).json()["dag_runs"]
            mine = [x for x in runs if x["dag_run_id"] == run_id]
            assert mine and mine[0]["conf"]["countries"] == ["CO"] and mine[0]["conf"]["note"] == "portal"
            assert run_id in client.get("/runs").text
        app.state.engine.dispose()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _get(url: str, headers: dict | None = None):
    try:
        r = requests.get(url, headers=headers or {}, timeout=5)
        return r.json() if r.status_code == 200 else None
    except requests.RequestException:
        return None


def _state(api, auth, dag_id, run_id):
    r = _get(f"{api}/api/v2/dags/{dag_id}/dagRuns/{run_id}", auth)
    return r["state"] if r and r["state"] in ("success", "failed") else None


def _finished_run(api, auth, dag_id, run_type="asset_triggered"):
    r = _get(f"{api}/api/v2/dags/{dag_id}/dagRuns", auth)
    runs = [x for x in (r or {}).get("dag_runs", [])
            if x["state"] in ("success", "failed") and x["run_type"] == run_type]
    return runs[0] if runs else None


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in sorted(folder.iterdir()))
