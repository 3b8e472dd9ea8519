"""Under load (bench/load.py): 18 stewards each send 10 files through the API and one through
the portal's form, all at once, to `ideal serve` with two processes, while an analyst triggers
two assessments; on SQLite and on PostgreSQL. Every file must get the verdict it gets when
sent alone; no answer may be a 5xx; no submission may be lost. Timings are reported (the
targets are checked by the benchmark, not here). In the suite at a smaller size (four members,
four API files (one invalid) and one portal file each, one assessment of two members
meanwhile: #33, a suite that
fits); at full size in `make load`."""

from __future__ import annotations

import pytest

from bench.load import scenario

SUITE_MEMBERS = ["BR", "CO", "MX", "PE"]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_every_verdict_right_under_load(db, tmp_path, tally, request):
    if db == "postgresql":
        request.getfixturevalue("pg_url")  # the server is up (started if it was stopped)
    report = scenario(db, tmp_path, members=SUITE_MEMBERS, per_country=4, runs=1)
    both = report.together
    tally.add("load_requests", both.requests)
    tally.add("load_5xx", both.errors_5xx)
    tally.add("load_wrong", len(report.wrong))
    tally.add("load_lost", len(report.lost))
    failed = [r for r in both.runs if r.get("state") != "success"]
    tally.add("load_runs_failed", len(failed) + (1 - len(both.runs)))
    tally.note(f"load_{db}", f"{both.latency(0.5):.2f} / {both.latency(0.95):.2f} s; "
                             f"{both.throughput:.2f} vs {report.alone.throughput:.2f}/s "
                             f"({both.throughput / report.alone.throughput:.2f}x)")
    print("\n" + report.markdown())
    assert both.errors_5xx == 0
    assert not report.wrong, "\n".join(report.wrong[:20])
    assert not report.lost, "\n".join(report.lost[:20])
    assert len(both.runs) == 1 and not failed, both.runs
