"""Ingest + validate + load at a named scale, against the naive way, in one run.

    uv run python -m bench.ingest --scale S            (make bench SCALE=S)
    uv run python -m bench.ingest --scale M --repeat 2

For each backend: the 18 country files of the scale go through IDEAL's normal path
(ideal.pipeline.submission.submit_file: archive, read, validate with Great Expectations, plausibility,
load in one transaction) into a fresh warehouse, and through the baseline a user would write
by hand into a fresh database: pandas.read_csv + DataFrame.to_sql on SQLite, a bare COPY on
PostgreSQL. Each measurement runs in a child process (peak memory = its max RSS), after one
warm-up, `repeat` times; the JSON and markdown go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from bench.harness import measure, stats
from bench.scales import write_files

PG_ADMIN = os.environ.get("IDEAL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
COLS = "country,region,period,crime_type,indicator,value,obs_status"


def naive_sqlite(files, workdir):
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{workdir / f'naive-{uuid.uuid4().hex[:6]}.db'}")
    for _, path, _ in files:
        pd.read_csv(path).to_sql("observations", engine, if_exists="append", index=False)


def bare_copy(files, url):
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("CREATE TABLE bare (country text, region text, period text, crime_type text, "
                     "indicator text, value double precision, obs_status text)")
        with conn.cursor() as cur:
            for _, path, _ in files:
                with cur.copy(f"COPY bare ({COLS}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                    with open(path, "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            cp.write(chunk)


def ideal_path(files, url, home):
    os.environ["IDEAL_HOME"] = str(home)
    os.environ["IDEAL_DATABASE_URL"] = url
    os.environ["IDEAL_ACTOR"] = "bench"
    from ideal.pipeline.submission import submit_file
    from ideal.store import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    rows = 0
    for cc, path, _ in files:
        receipt = submit_file(path, cc, engine, channel="cli", today=date(2026, 11, 28))
        if not receipt.ok:
            raise RuntimeError(receipt.summary())
        rows += receipt.rows_accepted
    return {"rows_loaded": rows}


def fresh_pg_db() -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    name = f"ideal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return url, drop


def run(scale: str, repeat: int, backends: list[str]) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"ideal-bench-{scale}-"))
    files = write_files(Path("var/bench") / scale, scale)
    n_rows = sum(n for *_, n in files)
    print(f"scale {scale}: {len(files)} files, {n_rows:,} observations")
    results = {"scale": scale, "rows": n_rows, "date": date.today().isoformat(), "stages": {}}
    # A worker keeps its imports: pay IDEAL's (Great Expectations is most of it) once here,
    # before the measured children are forked, and report it on its own.
    t0 = time.perf_counter()
    import ideal.pipeline.submission  # noqa: F401  (the whole submission path)
    from ideal.validate.runner import warm_up

    warm_up()
    results["import_s"] = time.perf_counter() - t0
    print(f"import of ideal + Great Expectations context: {results['import_s']:.1f} s (once per process)")
    for backend in backends:
        for label in ("baseline", "ideal"):
            times = []
            for i in range(repeat + 1):  # the first is the warm-up
                if backend == "sqlite":
                    url = f"sqlite:///{work / f'ideal-{uuid.uuid4().hex[:6]}.db'}"
                    drop = lambda: None  # noqa: E731
                else:
                    url, drop = fresh_pg_db()
                try:
                    if label == "baseline":
                        r = measure(naive_sqlite, files, work) if backend == "sqlite" else \
                            measure(bare_copy, files, url)
                    else:
                        r = measure(ideal_path, files, url, work / f"home-{uuid.uuid4().hex[:6]}")
                finally:
                    drop()
                if i:
                    times.append(r)
                print(f"  {backend:10} {label:8} {'warm-up' if not i else f'run {i}':8} "
                      f"{r['seconds']:7.2f} s  peak {r['peak_mb']:7.0f} MB")
            results["stages"][f"{backend}/{label}"] = stats(times)
        b = results["stages"][f"{backend}/baseline"]["median_s"]
        o = results["stages"][f"{backend}/ideal"]["median_s"]
        results["stages"][f"{backend}/ratio"] = o / b
        print(f"  {backend}: ideal / baseline = {o / b:.2f}")
    return results


def markdown(res: dict) -> str:
    lines = [f"# Ingest benchmark, scale {res['scale']} ({res['rows']:,} observations), {res['date']}", "",
             "| backend | path | median s | min s | max s | peak MB |", "|---|---|---|---|---|---|"]
    for key, v in res["stages"].items():
        if key.endswith("/ratio"):
            continue
        backend, path = key.split("/")
        lines.append(f"| {backend} | {path} | {v['median_s']:.2f} | {v['min_s']:.2f} | {v['max_s']:.2f} "
                     f"| {v['peak_mb']:.0f} |")
    lines.append("")
    lines.append(f"IDEAL's imports and the Great Expectations context, paid once per worker process "
                 f"and not in the figures above: {res['import_s']:.1f} s.")
    lines.append("")
    for key, v in res["stages"].items():
        if key.endswith("/ratio"):
            lines.append(f"- {key.split('/')[0]}: IDEAL / baseline = **{v:.2f}**")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["S", "M"], default="S")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    res = run(args.scale, args.repeat, backends)
    out = Path("bench/results") / f"{res['date']}-ingest-{args.scale}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2))
    out.with_suffix(".md").write_text(markdown(res))
    print(markdown(res))
    print(f"written {out}.json and .md")


if __name__ == "__main__":
    main()
