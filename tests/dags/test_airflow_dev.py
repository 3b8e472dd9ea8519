"""`make airflow` stops every process it started: standalone's children outlive a SIGTERM to
standalone alone, so the whole process group is stopped (checked here on a stand-in group of
processes, the way standalone starts its scheduler, api-server and workers)."""

import os
import subprocess
import time

from scripts.airflow_dev import settings, stop


def test_stop_ends_the_whole_group_even_children_that_ignore_sigterm():
    proc = subprocess.Popen(["bash", "-c", "trap '' TERM; sleep 300 & sleep 300 & wait"],
                            start_new_session=True)
    time.sleep(0.5)
    t0 = time.monotonic()
    stop(proc, grace=2)
    assert time.monotonic() - t0 < 15
    try:
        os.killpg(proc.pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "processes of the group are still running"


def test_the_development_settings_point_at_this_project(monkeypatch):
    monkeypatch.setenv("AIRFLOW_PORT", "18080")
    env = settings()
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("dags") and env["AIRFLOW__API__PORT"] == "18080"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["PATH"].split(os.pathsep)[0].endswith("bin")
