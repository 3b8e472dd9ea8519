"""Ten submissions at once, each by its own process, on SQLite (WAL, busy timeout) and on
PostgreSQL: all ten recorded, none lost, no row under another submission."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from ideal.ingest.demo import country_frame
from ideal.store.models import Observation, Submission

ROOT = Path(__file__).resolve().parents[2]
COUNTRIES = ["AR", "BO", "BR", "CL", "CO", "CR", "EC", "PE"]


def test_ten_submissions_at_once(engine, tmp_path, tally):
    files = {}
    for cc in COUNTRIES:
        frame = country_frame(cc)
        files[(cc, f"{cc.lower()}.csv")] = frame
    mx = country_frame("MX")
    files[("MX", "mx-early.csv")] = mx[mx["period"].str[:4] <= "2023"]
    files[("MX", "mx-late.csv")] = mx[mx["period"].str[:4] > "2023"]
    procs = []
    for (cc, name), frame in files.items():
        path = tmp_path / name
        frame.to_csv(path, index=False)
        procs.append((cc, name, len(frame), subprocess.Popen(
            [sys.executable, "-m", "ideal.cli", "submit", str(path), "-c", cc], cwd=ROOT,
            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    outputs = {name: (p.communicate(timeout=600)[0].decode(), p.returncode) for cc, name, _, p in procs}
    tally.add("concurrent", len(procs))
    with engine.connect() as conn:
        subs = {r.filename: r for r in conn.execute(select(Submission.id, Submission.filename,
                                                           Submission.country, Submission.status,
                                                           Submission.rows_accepted))}
        by_sub = dict(conn.execute(select(Observation.submission_id, func.count())
                                   .group_by(Observation.submission_id)).all())
        mixed = conn.execute(select(func.count()).select_from(Observation).join(
            Submission, Submission.id == Observation.submission_id).where(
            Submission.country != Observation.country)).scalar()
    good = 0
    for cc, name, n, _ in procs:
        out, code = outputs[name]
        assert code == 0, (name, out[-2000:])
        s = subs[name]
        assert s.status == "accepted" and s.country == cc and by_sub.get(s.id) == n == s.rows_accepted, name
        good += 1
    assert mixed == 0
    tally.add("concurrent_recorded", good)
    tally.add("lost", len(procs) - good)
