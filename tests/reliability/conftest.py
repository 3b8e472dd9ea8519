"""The reliability suite (`make reliability`): each test adds its figures to one tally,
printed as a table at the end of the run and written to reports/reliability.json and .md."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (key, label, what it must be: "zero" or the key it must equal)
ROWS = [
    ("inputs", "malformed or hostile inputs tried (each by portal, CLI and API paths)", None),
    ("refused_clearly", "refused with a clear error naming what to fix", "inputs"),
    ("tracebacks", "tracebacks shown to the user", "zero"),
    ("rows_wrongly_loaded", "rows wrongly loaded", "zero"),
    ("not_quarantined", "refused inputs whose raw file is not in quarantine", "zero"),
    ("fuzz_examples", "fuzzed inputs (hypothesis) to readers and validators", None),
    ("fuzz_unhandled", "unhandled exceptions while fuzzing", "zero"),
    ("mutants", "mutants of the template and the real exports (bench/fuzz.py) through submit_bytes and ideal serve", None),
    ("mutants_unanswered", "mutants without a verdict, a reason or their raw file kept; 5xx; server processes lost", "zero"),
    ("mutants_slowest", "mutants: slowest verdict (submit_bytes / API) and peak memory of a reading", None),
    ("crash_tests", "loader killed with SIGKILL mid-submission (SQLite, PostgreSQL)", None),
    ("crash_recovered", "of those: failed, retried, loaded exactly once", "crash_tests"),
    ("lost", "lost submissions", "zero"),
    ("duplicates", "duplicate observations (same file twice, retried task, re-run)", "zero"),
    ("concurrent", "submissions sent at once (10 processes x SQLite, PostgreSQL)", None),
    ("concurrent_recorded", "of those recorded, unmixed", "concurrent"),
    ("cross_country", "cross-country attempts (portal, API, CLI token, rows in a file)", None),
    ("cross_country_refused", "of those refused and audited", "cross_country"),
    ("renderer_fetches", "renderer fetches outside the project's assets", "zero"),
    ("unescaped", "submitted text left unescaped in portal pages or PDFs' HTML", "zero"),
    ("formulas", "exported cells that a spreadsheet would run as formulas", "zero"),
    ("audit_tampering", "audit log UPDATE/DELETE that went through", "zero"),
    ("secrets", "secrets or plain passwords found in the repository or database", "zero"),
    ("load_requests", "load: requests (18 stewards x 10 API + 1 portal upload, 2 assessments; SQLite, PostgreSQL)", None),
    ("load_5xx", "load: answers 5xx", "zero"),
    ("load_wrong", "load: wrong verdicts (each file against its verdict when sent alone)", "zero"),
    ("load_lost", "load: lost submissions", "zero"),
    ("load_runs_failed", "load: assessments triggered meanwhile that failed", "zero"),
    ("load_sqlite", "load, SQLite: p50 / p95 latency; throughput against one by one", None),
    ("load_postgresql", "load, PostgreSQL: p50 / p95 latency; throughput against one by one", None),
]
TALLY: OrderedDict[str, int] = OrderedDict()


class Tally:
    def add(self, key: str, n: int = 1) -> None:
        assert key in dict((k, 1) for k, _, _ in ROWS), key
        TALLY[key] = TALLY.get(key, 0) + n

    def note(self, key: str, text: str) -> None:
        """A measured figure shown as it is (timings: benchmarks, not pass or fail)."""
        assert key in dict((k, 1) for k, _, _ in ROWS), key
        TALLY[key] = text


@pytest.fixture(scope="session")
def tally() -> Tally:
    return Tally()


def table() -> tuple[list[tuple[str, int, str]], bool]:
    rows, ok = [], True
    for key, label, must in ROWS:
        if key not in TALLY:
            rows.append((label, "-", "not run"))
            continue
        value = TALLY[key]
        if isinstance(value, str):
            rows.append((label, value, "measured"))
            continue
        if must == "zero":
            good = value == 0
        elif must:
            good = value == TALLY.get(must, 0)
        else:
            good = True
        ok &= good
        rows.append((label, value, "ok" if good else "FAIL"))
    return rows, ok


def merge(part: list) -> None:
    """A worker's tally (pytest-xdist: each worker runs some of the tests) added to this one."""
    for key, value in part:
        TALLY[key] = value if isinstance(value, str) else TALLY.get(key, 0) + value


def summary(terminalreporter) -> None:
    """The table, printed and written to reports/ (called by tests/conftest.py's hook, which the
    controller of a parallel run loads too)."""
    if not TALLY:
        return
    rows, ok = table()
    width = max(len(r[0]) for r in rows)
    write = terminalreporter.write_line
    write("")
    write("IDEAL reliability " + ("(all targets met)" if ok else "(TARGETS MISSED)"))
    for label, value, verdict in rows:
        write(f"  {label:<{width}}  {value:>8}  {verdict}")
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    (out / "reliability.json").write_text(json.dumps(dict(TALLY), indent=1))
    (out / "reliability.md").write_text(
        "| measure | count | |\n| --- | ---: | --- |\n"
        + "".join(f"| {label} | {value} | {verdict} |\n" for label, value, verdict in rows))
