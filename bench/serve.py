"""How soon `ideal serve` answers (#33 target: accepts requests within 5 s of start): the time
from starting the process to its first 200 on /api/v1/health and on /login, and to the end of
its background judging of every member's codes (health says warm). A fresh warehouse each time.
Usage: python -m bench.serve [--repeat 3] [--workers 2]."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

from bench.harness import write_report

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(workers: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix="ideal-serve-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDEAL_", "AIRFLOW"))}
    env.update(IDEAL_HOME=str(home / "var"), IDEAL_REPORTS_DIR=str(home / "reports"), GX_ANALYTICS_ENABLED="False")
    subprocess.run([sys.executable, "-m", "ideal.cli", "init"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ideal.cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    out = {}
    try:
        while time.perf_counter() - t0 < 300 and "warm_s" not in out:
            try:
                h = requests.get(f"{base}/api/v1/health", timeout=5)
                now = time.perf_counter() - t0
                if h.status_code == 200:
                    out.setdefault("health_s", now)
                    if "login_s" not in out and requests.get(f"{base}/login", timeout=5).status_code == 200:
                        out["login_s"] = time.perf_counter() - t0
                    if h.json().get("warm"):
                        out["warm_s"] = now
            except requests.RequestException:
                pass
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    runs = [once(args.workers) for _ in range(args.repeat)]
    for i, r in enumerate(runs, 1):
        print(f"  run {i}: health {r.get('health_s', float('nan')):5.1f} s, login {r.get('login_s', float('nan')):5.1f} s,"
              f" warm {r.get('warm_s', float('nan')):5.1f} s")
    med = {k: statistics.median(r[k] for r in runs if k in r) for k in ("health_s", "login_s", "warm_s")}
    res = {"date": date.today().isoformat(), "workers": args.workers, "repeat": args.repeat, "runs": runs,
           "median": med, "target_s": 5.0, "met": med["login_s"] <= 5.0}
    text = (f"# `ideal serve` start ({args.workers} server processes, median of {args.repeat})\n\n"
            f"| first answer (/api/v1/health) | first page (/login) | codes judged (warm) | target |\n|---|---|---|---|\n"
            f"| {med['health_s']:.1f} s | {med['login_s']:.1f} s | {med['warm_s']:.1f} s | "
            f"accepts requests within 5 s: {'met' if res['met'] else 'missed'} |\n\n"
            f"Command: `python -m bench.serve --repeat {args.repeat} --workers {args.workers}`\n")
    write_report(res, "serve", text)


if __name__ == "__main__":
    main()
