"""The L scale on a slice that fits one 2-core machine: municipal data of three countries,
through the stages that grow with it, each stage a process of its own as the Airflow tasks are.

    make bench SCALE=L          (uv run python -m bench.lscale; needs the PostgreSQL on 127.0.0.1)

The slice: Brazil's 5,570, Mexico's 2,475 and Colombia's 1,123 municipalities (their statistics
offices' codes, ideal/reference/data/municipalities.csv) x 120 months (2016-2025) x 10 crime
types x 2 indicators = 22.0 M observations with synthetic values. The rows go through the
loader directly (validation has its own benchmark). Each country sends one file per year (30
submissions of 0.27 to 1.34 M rows). The assessment adds the municipalities up to their
first-level regions (in the database) and rates them with the reference populations.

Measured, each in its own process (time and peak memory, as one Airflow task would have them):
  load       per country: its ten yearly submissions through IDEAL's loader (dimension keys,
             COPY into a staging table, set-based supersede and insert into the partition)
  prepare    per country (the DAG's mapped task): read its current observations of the years
             the assessment needs, added up to first-level regions, yearly rates, monthly
             series, written as Parquet
  combine    the DAG's combining task: goalposts, ranks, 1000 Monte Carlo draws, early
             warning, the run stored
  briefing   the run's PDF
The whole slice runs twice, at half the municipalities and at all of them, to show the time
per million rows of each stage at two sizes. Writes bench/results/<date>-L.json and .md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bench.harness import measure, write_report

COUNTRIES = ("BR", "MX", "CO")
YEARS = list(range(2016, 2026))
N_CRIMES = 10
INDICATORS = ["incidents", "victims"]
YEAR = "2025"


def crime_types() -> list[str]:
    from ideal import reference

    return reference.scored_crime_types()[:N_CRIMES]


def municipalities(country: str, share: float) -> list[str]:
    """The share of the country's municipalities, spread over the whole list (every state keeps
    some at half the slice)."""
    from ideal import reference

    codes = reference.municipalities([country])["region"].tolist()
    picked = np.unique(np.linspace(0, len(codes) - 1, int(len(codes) * share)).round().astype(int))
    return [codes[i] for i in picked]


def year_frame(country: str, share: float, year: int) -> pd.DataFrame:
    """One country's file of one year: municipalities x months x crime types x indicators."""
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    idx = pd.MultiIndex.from_product([municipalities(country, share), months, crime_types(), INDICATORS],
                                     names=["region", "period", "crime_type", "indicator"])
    df = idx.to_frame(index=False)
    rng = np.random.default_rng([year, *map(ord, country)])
    return df.assign(country=country, value=rng.poisson(3, len(df)).astype("float64"),
                     obs_status="A", source_row=np.arange(2, len(df) + 2))


def step_load(url: str, country: str, share: float) -> dict:
    from sqlalchemy import insert

    from ideal.store import make_engine
    from ideal.store.load import bulk_insert
    from ideal.store.models import Submission

    engine = make_engine(url)
    rows, seconds = 0, 0.0
    for year in YEARS:
        frame = year_frame(country, share, year)
        sid = f"{country}-L-{year}"
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Submission.__table__).values(
                id=sid, country=country, filename=f"{sid}.csv", sha256=f"{sid:0>64}"[-64:],
                channel="bench", received_at=datetime.now(UTC), status="accepted",
                archive_path="-", rows_total=len(frame), rows_accepted=len(frame)))
        bulk_insert(engine, frame, sid)
        seconds += time.perf_counter() - t0
        rows += len(frame)
    return {"rows": rows, "load_s": seconds}


def _plan(countries: list[str]):
    from ideal.pipeline.assessment import Plan
    from ideal.scoring.profile import load_profile

    return Plan(YEAR, countries, sorted(crime_types()), load_profile("default"))


def step_prepare(url: str, country: str, share: float, folder: str) -> dict:
    from ideal.pipeline.assessment import prepare
    from ideal.store import make_engine

    t0 = time.perf_counter()
    part = prepare(make_engine(url), _plan(list(COUNTRIES)), country)
    part.save(Path(folder))
    return {"prepare_s": time.perf_counter() - t0, "rows_read": part.n_observations,
            "units": int(len(part.rates))}


def step_combine(url: str, folder: str) -> dict:
    from ideal.pipeline.assessment import CountryPart, combine
    from ideal.store import make_engine

    t0 = time.perf_counter()
    parts = [CountryPart.load(Path(folder) / cc) for cc in COUNTRIES]
    loaded = time.perf_counter() - t0
    result = combine(make_engine(url), _plan(list(COUNTRIES)), parts)
    return {"combine_s": time.perf_counter() - t0, "read_parts_s": loaded, "run_id": result.run_id,
            "scores": result.n_scores}


def step_briefing(url: str, run_id: str, out: str) -> dict:
    import resource

    from ideal.pipeline.assessment import render_report
    from ideal.store import make_engine

    # a runaway briefing fails here instead of taking the machine's memory
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

    t0 = time.perf_counter()
    path = render_report(make_engine(url), run_id, "briefing", "es", Path(out))
    return {"briefing_s": time.perf_counter() - t0, "path": str(path)}


def one_size(share: float) -> dict:
    from bench.ingest import fresh_pg_db
    from ideal.store import make_engine, upgrade

    url, drop = fresh_pg_db()
    folder = tempfile.mkdtemp(prefix="ideal-bench-L-")
    out: dict = {"share": share, "municipalities": {cc: len(municipalities(cc, share)) for cc in COUNTRIES},
                 "load": {}, "prepare": {}}
    t_all = time.perf_counter()
    try:
        upgrade(make_engine(url))
        for cc in COUNTRIES:
            r = measure(step_load, url, cc, share)
            out["load"][cc] = r
            print(f"  load {cc}: {r['rows']:,} rows in {r['load_s']:.1f} s "
                  f"({r['rows'] / r['load_s']:,.0f} rows/s), peak {r['peak_mb']:.0f} MB")
        for cc in COUNTRIES:
            r = measure(step_prepare, url, cc, share, folder)
            out["prepare"][cc] = r
            print(f"  prepare {cc}: {out['load'][cc]['rows']:,} observations added up to "
                  f"{r['rows_read']:,} regional values, {r['units']:,} yearly rates in "
                  f"{r['prepare_s']:.1f} s, peak {r['peak_mb']:.0f} MB")
        r = measure(step_combine, url, folder)
        out["combine"] = r
        print(f"  combine: {r['scores']:,} scores (1000 draws) in {r['combine_s']:.1f} s, "
              f"peak {r['peak_mb']:.0f} MB")
        try:
            r = measure(step_briefing, url, out["combine"]["run_id"], folder)
            out["briefing"] = r
            print(f"  briefing: {r['briefing_s']:.1f} s, peak {r['peak_mb']:.0f} MB")
        except RuntimeError as exc:
            out["briefing"] = {"error": str(exc)}
            print(f"  briefing: FAILED ({exc})")
    finally:
        drop()
    out["whole_s"] = time.perf_counter() - t_all
    out["rows"] = sum(r["rows"] for r in out["load"].values())
    return out


def per_million(size: dict) -> dict:
    rows = size["rows"] / 1e6
    return {"load": sum(r["load_s"] for r in size["load"].values()) / rows,
            "prepare": sum(r["prepare_s"] for r in size["prepare"].values()) / rows,
            "combine": size["combine"]["combine_s"] / rows}


def markdown(res: dict) -> str:
    lines = [f"# IDEAL benchmark, scale L slice, {res['date']}", "",
             f"{res['machine']}; PostgreSQL 15 on the same machine; BR, MX, CO municipal "
             f"(the statistics offices' codes, synthetic values; added up to first-level regions), 120 months, {N_CRIMES} crime types, 2 indicators.", "",
             "| slice | observations | stage | seconds | rows/s | peak MB (per process) |",
             "| --- | ---: | --- | ---: | ---: | ---: |"]
    for size in res["sizes"]:
        label = f"{size['share']:.0%}"
        for cc, r in size["load"].items():
            lines.append(f"| {label} | {r['rows']:,} | load {cc} (10 yearly files) | {r['load_s']:.1f} | "
                         f"{r['rows'] / r['load_s']:,.0f} | {r['peak_mb']:.0f} |")
        for cc, r in size["prepare"].items():
            stored = size["load"][cc]["rows"]
            lines.append(f"| {label} | {stored:,} read as {r['rows_read']:,} regional | prepare {cc} "
                         f"(mapped task) | {r['prepare_s']:.1f} | {stored / r['prepare_s']:,.0f} | "
                         f"{r['peak_mb']:.0f} |")
        c = size["combine"]
        lines.append(f"| {label} | {c['scores']:,} scores | combine (ranks, 1000 draws, run stored) | "
                     f"{c['combine_s']:.1f} | - | {c['peak_mb']:.0f} |")
        b = size.get("briefing", {})
        lines.append(f"| {label} | - | briefing PDF | "
                     + (f"{b['briefing_s']:.1f} | - | {b['peak_mb']:.0f} |" if "briefing_s" in b
                        else "failed | - | - |"))
        lines.append(f"| {label} | {size['rows']:,} | whole run, first file to the PDF | "
                     f"{size['whole_s']:.1f} | - | - |")
    lines += ["", "Seconds per million observations stored, at each size:", "", "| stage | " + " | ".join(
                  f"{s['share']:.0%}" for s in res["sizes"]) + " |",
              "| --- |" + " ---: |" * len(res["sizes"])]
    for stage in ("load", "prepare", "combine"):
        lines.append(f"| {stage} | " + " | ".join(f"{per_million(s)[stage]:.2f}" for s in res["sizes"]) + " |")
    full = res["sizes"][-1]
    peak = max([r["peak_mb"] for r in full["load"].values()] + [r["peak_mb"] for r in full["prepare"].values()]
               + [full["combine"]["peak_mb"]])
    largest = full["prepare"]["BR"]
    lines += ["", f"Targets: peak memory of any one task < 2048 MB: {peak:.0f} MB "
              f"({'met' if peak < 2048 else 'MISSED'}); the largest country's assessment task "
              f"(prepare BR) < 60 s: {largest['prepare_s']:.1f} s "
              f"({'met' if largest['prepare_s'] < 60 else 'MISSED'})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shares", default="0.5,1", help="fractions of the municipalities, one run each")
    args = ap.parse_args()
    os.environ.setdefault("IDEAL_ACTOR", "bench")
    res = {"scale": "L", "date": date.today().isoformat(), "machine": f"{os.cpu_count()} cores",
           "sizes": []}
    for share in map(float, args.shares.split(",")):
        print(f"[L slice at {share:.0%} of the municipalities]")
        res["sizes"].append(one_size(share))
    write_report(res, "L", markdown(res))


if __name__ == "__main__":
    main()
