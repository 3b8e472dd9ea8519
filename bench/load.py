"""A reporting deadline, on this machine: 18 stewards (one per member) each send 10 template
files through the API and one through the portal's form, all at once, while an analyst
triggers two assessments; every file's verdict is compared with its verdict when sent alone.

Loopback only, bounded in count and time. Used by tests/reliability/test_load.py (in `make
reliability`) and by `python -m bench.load` and `bench.soak`.

    python -m bench.load --db sqlite      # or postgresql (the local server)
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load test password 1"
PG_ADMIN = os.environ.get("IDEAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FIRST_YEAR = 2016
REQUEST_TIMEOUT = 120


@dataclass(frozen=True)
class Upload:
    country: str
    name: str
    data: bytes
    channel: str  # api | portal
    valid: bool


def uploads(members: list[str], per_country: int = 10) -> list[Upload]:
    """Per member: ``per_country`` API files of one year each (FIRST_YEAR ...), 2 of every 10
    with a negative value, and one portal file (the year before), every third one invalid."""
    from ideal.ingest.demo import country_frame

    out = []
    for i, cc in enumerate(members):
        frame = country_frame(cc)
        last = frame[frame["period"] == frame["period"].max()].reset_index(drop=True)
        for k in range(per_country + 1):
            year = FIRST_YEAR + k if k < per_country else FIRST_YEAR - 1
            f = last.assign(period=str(year))
            valid = (k % 10) not in (3, 7) if k < per_country else i % 3 != 2
            if not valid:
                f.loc[len(f) // 2, "value"] = -5
            channel = "api" if k < per_country else "portal"
            out.append(Upload(cc, f"{cc.lower()}-{year}.csv", f.to_csv(index=False).encode(),
                              channel, valid))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_database(kind: str, home: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{home / 'ideal.db'}"
    from sqlalchemy import create_engine, text

    name = f"ideal_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return create_engine(PG_ADMIN).url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def _rss_kb(pid: int) -> int:
    """Resident memory of the server: its process and uvicorn's workers, in kB (not the
    portal's job processes, which end when their run is done)."""
    total = 0
    for p in _tree(pid):
        try:
            if b"ideal.pipeline.jobs" in Path(f"/proc/{p}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            continue
    return total


class Server:
    """`ideal serve` on a fresh warehouse with 18 stewards and an analyst, each with a token."""

    def __init__(self, db: str, home: Path, members: list[str], workers: int = 2):
        self.home, self.members, self.workers = home, members, workers
        home.mkdir(parents=True, exist_ok=True)
        self.url = new_database(db, home)
        # the server's settings: a fresh home and warehouse; tuning settings pass through
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("IDEAL_", "AIRFLOW"))
                    or k in ("IDEAL_UPLOAD_SLOTS", "IDEAL_DB_POOL_SIZE")}
        self.env.update(IDEAL_HOME=str(home / "var"), IDEAL_REPORTS_DIR=str(home / "reports"),
                        IDEAL_DATABASE_URL=self.url, IDEAL_MEMBERS=" ".join(members),
                        GX_ANALYTICS_ENABLED="False")
        self.tokens = self._accounts()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(home / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ideal.cli", "serve", "--port", str(self.port),
             "--workers", str(workers)], cwd=ROOT, env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        # up, and done judging every member's codes (in the background since #33): the load
        # measures a server in its steady state
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                health = requests.get(f"{self.base}/api/v1/health", timeout=5)
                if health.status_code == 200 and health.json().get("warm"):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError(f"ideal serve did not start: {(home / 'server.log').read_text()[-2000:]}")

    def _accounts(self) -> dict[str, str]:
        code = ("import json, sys\n"
                "from ideal import services\n"
                "from ideal.store import accounts\n"
                "e = services.engine()\n"
                "out = {}\n"
                f"for cc in {self.members!r}:\n"
                "    accounts.add_user(e, f'steward.{cc.lower()}', sys.argv[1], 'steward', cc)\n"
                "    out[cc] = accounts.make_token(e, f'steward.{cc.lower()}')\n"
                "accounts.add_user(e, 'analyst', sys.argv[1], 'analyst')\n"
                "out['analyst'] = accounts.make_token(e, 'analyst')\n"
                "print(json.dumps(out))\n")
        done = subprocess.run([sys.executable, "-c", code, PASSWORD], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300, check=True)
        import json

        return json.loads(done.stdout.strip().splitlines()[-1])

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def rss_kb(self) -> int:
        return _rss_kb(self.proc.pid)

    def stop(self) -> None:
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()

    def stored(self) -> dict[tuple[str, str], str]:
        """(country, filename) -> status of every recorded submission."""
        from sqlalchemy import create_engine, select

        from ideal.store.models import Submission

        eng = create_engine(self.url)
        with eng.connect() as conn:
            rows = conn.execute(select(Submission.country, Submission.filename, Submission.status)).all()
        eng.dispose()
        return {(c, f): s for c, f, s in rows}


@dataclass
class Outcome:
    upload: Upload
    status_code: int
    seconds: float
    verdict: tuple | None  # (status, error rules) or None when there was no answer
    sent_at: float = 0.0  # time.perf_counter() when the upload was sent


@dataclass
class Result:
    outcomes: list[Outcome] = field(default_factory=list)
    others: list[int] = field(default_factory=list)  # status codes of the other requests
    wall: float = 0.0
    runs: list[dict] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds of CPU the server's processes used

    @property
    def requests(self) -> int:
        return len(self.outcomes) + len(self.others)

    @property
    def errors_5xx(self) -> int:
        return sum(o.status_code >= 500 for o in self.outcomes) + sum(c >= 500 for c in self.others)

    def latency(self, q: float) -> float:
        times = sorted(o.seconds for o in self.outcomes)
        return statistics.quantiles(times, n=100, method="inclusive")[int(q * 100) - 1] if len(times) > 1 else times[0]

    @property
    def throughput(self) -> float:
        return len(self.outcomes) / self.wall if self.wall else 0.0


def _verdict(body: dict) -> tuple:
    errors = sorted({f["rule"] for f in body.get("findings") or [] if f.get("severity") == "error"})
    return body.get("status"), tuple(errors)


def send_api(server: Server, up: Upload, http: requests.Session | None = None) -> Outcome:
    http = http or requests.Session()
    t0 = time.perf_counter()
    try:
        r = http.post(f"{server.base}/api/v1/submissions", timeout=REQUEST_TIMEOUT,
                      headers={"Authorization": f"Bearer {server.tokens[up.country]}"},
                      files={"file": (up.name, up.data, "text/csv")})
    except requests.RequestException:
        return Outcome(up, 599, time.perf_counter() - t0, None)
    seconds = time.perf_counter() - t0
    verdict = _verdict(r.json()) if r.headers.get("content-type", "").startswith("application/json") \
        and r.status_code < 500 else None
    return Outcome(up, r.status_code, seconds, verdict, t0)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return found.group(1) if found else ""


def portal_login(server: Server, cc: str) -> requests.Session:
    http = requests.Session()
    form = http.get(f"{server.base}/login", timeout=REQUEST_TIMEOUT)
    http.post(f"{server.base}/login", timeout=REQUEST_TIMEOUT, allow_redirects=False,
              data={"username": f"steward.{cc.lower()}", "password": PASSWORD, "next": "/",
                    "csrf_token": _csrf(form.text)})
    return http


def send_portal(server: Server, up: Upload, http: requests.Session, others: list[int]) -> Outcome:
    page = http.get(f"{server.base}/submissions", timeout=REQUEST_TIMEOUT)
    others.append(page.status_code)
    t0 = time.perf_counter()
    try:
        r = http.post(f"{server.base}/submissions", timeout=REQUEST_TIMEOUT, allow_redirects=False,
                      data={"csrf_token": _csrf(page.text)},
                      files={"file": (up.name, up.data, "text/csv")})
    except requests.RequestException:
        return Outcome(up, 599, time.perf_counter() - t0, None)
    seconds = time.perf_counter() - t0
    where = r.headers.get("location", "")
    if r.status_code != 303 or "/submissions/" not in where:
        return Outcome(up, r.status_code, seconds, None)
    sid = where.rsplit("/", 1)[-1]
    body = requests.get(f"{server.base}/api/v1/submissions/{sid}", timeout=REQUEST_TIMEOUT,
                        headers={"Authorization": f"Bearer {server.tokens[up.country]}"})
    others.append(body.status_code)
    return Outcome(up, r.status_code, seconds, _verdict(body.json()) if body.ok else None, t0)


def one_by_one(server: Server, files: list[Upload]) -> Result:
    """Every file alone, one after another, through the API: each file's reference verdict."""
    res, http = Result(), requests.Session()
    t0 = time.perf_counter()
    for up in files:
        res.outcomes.append(send_api(server, up, http))
    res.wall = time.perf_counter() - t0
    return res


def _analyst(server: Server, res: Result, start: threading.Event, runs: int) -> None:
    start.wait(timeout=REQUEST_TIMEOUT)
    auth = {"Authorization": f"Bearer {server.tokens['analyst']}"}
    jobs = []
    # two different runs: two members, then all of them (the suite's single run is the first)
    scopes = [["MX", "CO"], []]
    for k in range(runs):
        r = requests.post(f"{server.base}/api/v1/runs", headers=auth, timeout=REQUEST_TIMEOUT,
                          json={"note": f"load test {k + 1}", "countries": scopes[k % 2]})
        res.others.append(r.status_code)
        if r.status_code == 202 and r.json().get("job"):
            jobs.append(r.json()["job"])
    deadline = time.time() + 600
    for job in jobs:
        while time.time() < deadline:
            r = requests.get(f"{server.base}/api/v1/jobs/{job}", headers=auth, timeout=REQUEST_TIMEOUT)
            res.others.append(r.status_code)
            if r.status_code != 200 or r.json()["state"] in ("success", "failed"):
                res.runs.append(r.json() if r.status_code == 200 else {"state": f"HTTP {r.status_code}"})
                break
            time.sleep(1)


def together(server: Server, files: list[Upload], runs: int = 2) -> Result:
    """All stewards at once (each its API files in turn, then its portal file), and the
    analyst's assessments once a third of the files are in."""
    res = Result()
    by_country: dict[str, list[Upload]] = {}
    for up in files:
        by_country.setdefault(up.country, []).append(up)
    done, start = [0], threading.Event()
    lock = threading.Lock()

    def steward(cc: str) -> list[Outcome]:
        mine, portal = [], portal_login(server, cc)
        for up in by_country[cc]:
            out = send_api(server, up) if up.channel == "api" else send_portal(server, up, portal, res.others)
            mine.append(out)
            with lock:
                done[0] += 1
                if done[0] >= len(files) // 3:
                    start.set()
        return mine

    analyst = threading.Thread(target=_analyst, args=(server, res, start, runs))
    t0 = time.perf_counter()
    analyst.start()
    with ThreadPoolExecutor(max_workers=len(by_country)) as pool:
        for mine in pool.map(steward, list(by_country)):
            res.outcomes += mine
    res.wall = time.perf_counter() - t0
    start.set()
    analyst.join(timeout=900)
    return res


@dataclass
class Report:
    db: str
    alone: Result
    together: Result
    wrong: list[str]
    lost: list[str]

    def rows(self) -> list[tuple[str, str]]:
        a, t = self.alone, self.together
        return [
            ("requests", f"{t.requests}"),
            ("uploads (API + portal)", f"{len(t.outcomes)}"),
            ("answers 5xx", f"{t.errors_5xx}"),
            ("wrong verdicts (against the file sent alone)", f"{len(self.wrong)}"),
            ("lost submissions", f"{len(self.lost)}"),
            ("assessments triggered / succeeded", f"{len(t.runs)} / {sum(r.get('state') == 'success' for r in t.runs)}"),
            ("latency p50 / p95, together", f"{t.latency(0.5):.2f} s / {t.latency(0.95):.2f} s"),
            ("latency p50 / p95, one by one", f"{a.latency(0.5):.2f} s / {a.latency(0.95):.2f} s"),
            ("server CPU per upload, together / one by one",
             f"{t.server_cpu / len(t.outcomes):.3f} s / {a.server_cpu / len(a.outcomes):.3f} s"),
            ("throughput together / one by one", f"{t.throughput:.2f} / {a.throughput:.2f} uploads/s "
                                                 f"({t.throughput / a.throughput:.2f}x)"),
        ]

    def markdown(self) -> str:
        return (f"| {self.db} | |\n| --- | ---: |\n"
                + "".join(f"| {k} | {v} |\n" for k, v in self.rows()))


def scenario(db: str, work: Path, members: list[str] | None = None, per_country: int = 10,
             workers: int = 2, runs: int = 2) -> Report:
    """One-by-one reference on one fresh server, then everything together on another."""
    from ideal.config import DEFAULT_MEMBERS

    members = members or list(DEFAULT_MEMBERS)
    files = uploads(members, per_country)
    servers = []
    try:
        first = Server(db, work / "alone", members, workers)
        servers.append(first)
        cpu = first.cpu_seconds()
        alone = one_by_one(first, files)
        alone.server_cpu = first.cpu_seconds() - cpu
        second = Server(db, work / "together", members, workers)
        servers.append(second)
        cpu = second.cpu_seconds()
        both = together(second, files, runs)
        both.server_cpu = second.cpu_seconds() - cpu
        stored = second.stored()
    finally:
        for s in servers:
            s.stop()
            drop_database(s.url)
    expected = {o.upload.name + o.upload.country: o.verdict for o in alone.outcomes}
    wrong = [f"{o.upload.country}:{o.upload.name} alone {expected[o.upload.name + o.upload.country]} "
             f"together {o.verdict} (HTTP {o.status_code})"
             for o in both.outcomes if o.verdict != expected[o.upload.name + o.upload.country]]
    lost = [f"{u.country}:{u.name}" for u in files
            if stored.get((u.country, u.name)) not in ("accepted", "rejected")]
    return Report(db, alone, both, wrong, lost)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2, help="assessments triggered meanwhile")
    args = ap.parse_args()
    import tempfile

    report = scenario(args.db, Path(tempfile.mkdtemp(prefix="ideal-load-")), workers=args.workers,
                      runs=args.runs)
    for line in report.wrong[:20] + report.lost[:20]:
        print("  ", line)
    for run in report.together.runs:
        print("   assessment:", run.get("state"), run.get("error") or "", run.get("result") or "")
    from datetime import date

    from bench.harness import write_report

    t, a = report.together, report.alone
    ratio = t.throughput / a.throughput if a.throughput else 0.0
    met = ratio >= 1.5 and t.latency(0.95) < 3.0 and not t.errors_5xx and not report.wrong and not report.lost
    res = {"date": date.today().isoformat(), "db": args.db, "workers": args.workers, "runs": args.runs,
           "rows": dict(report.rows()), "p50_s": t.latency(0.5), "p95_s": t.latency(0.95),
           "throughput_ratio": ratio, "target": "together >= 1.5x one by one, p95 < 3 s", "met": met}
    write_report(res, f"load-{args.db}",
                 f"# Load, {args.db}: 18 stewards at once (`python -m bench.load --db {args.db}`)\n\n"
                 + report.markdown()
                 + f"\nTarget: together at least 1.5x one by one and p95 under 3 s: {'met' if met else 'missed'}.\n")


if __name__ == "__main__":
    main()
