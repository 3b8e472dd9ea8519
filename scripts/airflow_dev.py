"""`make airflow`: Airflow for one analyst's machine (the development profile): `airflow
standalone` on this project's DAGs, its metadata DB in $AIRFLOW_HOME (SQLite, development only),
the warehouse and folders of IDEAL_* as for every other command.

It prints the address and the login when the UI is up, and Ctrl-C (or SIGTERM) stops every
process it started: standalone's scheduler, dag-processor, triggerer, api-server and their
workers run in one process group, which is stopped as a whole (stopping standalone alone
leaves its children running).

    make airflow                 (AIRFLOW_PORT=8080 by default; AIRFLOW_HOME=var/airflow)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def settings() -> dict[str, str]:
    home = Path(os.environ.get("AIRFLOW_HOME") or ROOT / "var" / "airflow").resolve()
    port = os.environ.get("AIRFLOW_PORT", "8080")
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # standalone starts `airflow ...` by name
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__HOST": env.get("AIRFLOW__API__HOST", "127.0.0.1"),
        "AIRFLOW__API__PORT": port,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        # the tasks report to the api-server's execution API: it follows the port
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "GX_ANALYTICS_ENABLED": "False",
    })
    return env


def _up(url: str) -> bool:
    try:
        # bandit B310 accepted: the url is the local api-server's, on loopback
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as r:  # nosec B310
            return r.status == 200
    except OSError:
        return False


def _login(home: Path) -> str:
    """The generated password of standalone's admin (simple auth manager)."""
    for name in ("simple_auth_manager_passwords.json.generated", "simple_auth_manager_passwords.json"):
        path = home / name
        if path.exists():
            users = json.loads(path.read_text())
            return ", ".join(f"user {u}, password {p}" for u, p in users.items())
    return f"see {home}/simple_auth_manager_passwords.json.generated"


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the whole process group, SIGKILL to what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            # children may outlive standalone itself: wait for the group to be empty
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                os.killpg(proc.pid, 0)
                time.sleep(0.5)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    env = settings()
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    url = env["AIRFLOW__API__BASE_URL"]
    log = home / "standalone.log"
    print(f"starting Airflow (standalone) for {ROOT / 'dags'}; log: {log}", flush=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(BIN / "airflow"), "standalone"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    # Ctrl-C and SIGTERM both stop everything (set explicitly: a shell starting this in the
    # background makes it ignore SIGINT)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        deadline = time.monotonic() + 300
        while not _up(url):
            if proc.poll() is not None:
                print(f"Airflow stopped while starting (exit {proc.returncode}); see {log}", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print(f"Airflow did not answer at {url} within 5 minutes; see {log}", file=sys.stderr)
                return 1
            time.sleep(2)
        print(f"Airflow is up: {url}  ({_login(home)})", flush=True)
        print("trigger ideal_assess from its page (Trigger), or: ideal trigger --period 2025 with "
              f"IDEAL_AIRFLOW_URL={url}; briefings go to {env.get('IDEAL_REPORTS_DIR', 'reports')}/<period>/. "
              "Ctrl-C stops every Airflow process.", flush=True)
        proc.wait()
        return proc.returncode or 0
    except KeyboardInterrupt:
        print("stopping Airflow ...", flush=True)
        return 0
    finally:
        stop(proc)
        print("Airflow stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
