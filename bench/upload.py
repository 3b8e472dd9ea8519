"""A steward's typical upload, answered (#33 target: a file of 50,000 rows answered in under 3 s
on PostgreSQL): Mexico's 32 states x its 17 demo crime types x 12 months x 9 years (58,752
rows, monthly, as SESNSP publishes them) sent through the API to `ideal serve` on a fresh warehouse;
the time from sending the file to the verdict in the answer (read, checked, validated, stored).

Three sends per database: the first file of an empty warehouse; the same file again with one
value changed (a revision: every row compared with the stored one, one superseded); and a file
of the next year's 12 months added to them (6,528 rows).

    python -m bench.upload [--db postgresql] [--db sqlite] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
import requests

from bench.harness import write_report
from bench.load import Server, drop_database

TARGET_S = 3.0


def monthly(years: range) -> pd.DataFrame:
    """Mexico's demo counts, each year's count spread over its 12 months."""
    from ideal.ingest.demo import country_frame

    annual = country_frame("MX")
    last = annual[annual["period"] == annual["period"].max()].reset_index(drop=True)
    frames = []
    for year in years:
        for month in range(1, 13):
            f = last.copy()
            share = f["value"] // 12 + (f["value"] % 12 >= month)
            frames.append(f.assign(period=f"{year}-{month:02d}", value=share))
    return pd.concat(frames, ignore_index=True)


def send(server: Server, name: str, data: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = requests.post(f"{server.base}/api/v1/submissions", timeout=300,
                      headers={"Authorization": f"Bearer {server.tokens['MX']}"},
                      files={"file": (name, data, "text/csv")})
    seconds = time.perf_counter() - t0
    r.raise_for_status()
    return seconds, r.json()


def once(db: str, work: Path) -> dict:
    base = monthly(range(2016, 2025))
    first = base.to_csv(index=False).encode()
    revised = base.copy()
    revised.loc[len(revised) // 2, "value"] += 1
    server = Server(db, work, ["MX"], workers=2)
    try:
        out = {"rows": len(base), "mb": len(first) / 2**20}
        for key, name, data in (("first_s", "mx-2016-2024.csv", first),
                                ("revision_s", "mx-2016-2024-rev.csv", revised.to_csv(index=False).encode()),
                                ("next_year_s", "mx-2025.csv", monthly(range(2025, 2026)).to_csv(index=False).encode())):
            seconds, body = send(server, name, data)
            if body.get("status") != "accepted":
                raise RuntimeError(f"{name}: {body.get('status')} {body.get('findings', [])[:3]}")
            out[key] = seconds
    finally:
        server.stop()
        drop_database(server.url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", action="append", choices=["postgresql", "sqlite"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    res = {"date": date.today().isoformat(), "target_s": TARGET_S, "repeat": args.repeat, "databases": {}}
    lines = []
    for db in args.db or ["postgresql", "sqlite"]:
        runs = []
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="ideal-upload-") as tmp:
                runs.append(once(db, Path(tmp)))
            r = runs[-1]
            print(f"  {db} run {i + 1}: first {r['first_s']:.2f} s, revision {r['revision_s']:.2f} s, "
                  f"next year {r['next_year_s']:.2f} s")
        med = {k: statistics.median(r[k] for r in runs) for k in ("first_s", "revision_s", "next_year_s")}
        res["databases"][db] = {"runs": runs, "median": med, "met": med["first_s"] <= TARGET_S}
        lines.append(f"| {db} | {runs[0]['rows']:,} rows, {runs[0]['mb']:.1f} MB | {med['first_s']:.2f} s | "
                     f"{med['revision_s']:.2f} s | {med['next_year_s']:.2f} s | "
                     f"{'met' if med['first_s'] <= TARGET_S else 'missed'} |")
    text = (f"# A steward's typical upload through the API (median of {args.repeat})\n\n"
            "`python -m bench.upload`: Mexico's 32 states x 17 crime types x 12 months x 9 years to "
            "`ideal serve` (2 processes) on a fresh warehouse; the time from sending the file to the "
            "verdict.\n\n"
            "| database | file | first file | the same revised (one value) | next year (6,528 rows) | "
            f"first file under {TARGET_S:.0f} s |\n|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n")
    write_report(res, "upload", text)


if __name__ == "__main__":
    main()
