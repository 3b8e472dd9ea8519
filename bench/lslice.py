"""The L scale in a slice: one country's municipal data, about 6 M observations, through the
stages that grow with it. Brazil's 5,570 municipalities x 120 months (2016-2025) x 9 crime
types = 6.0 M observations (synthetic values, synthetic municipality codes and populations:
the reference data have first-level regions only, so the slice skips the region-code rules
and is loaded and scored directly).

    uv run python -m bench.lslice              (needs the PostgreSQL on 127.0.0.1:5432)

Measured, each in its own process: building the slice in memory; loading it into a fresh
IDEAL warehouse on PostgreSQL with IDEAL's bulk path (one transaction, COPY into the indexed
observations table); reading it back as the assessment does; the full assessment (pillars,
1000 Monte Carlo draws) on it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bench.harness import measure

MUNICIPALITIES, COUNTRY = 5570, "BR"
MONTHS = pd.period_range("2016-01", "2025-12", freq="M").strftime("%Y-%m").tolist()


def crime_types() -> list[str]:
    from ideal import reference

    return reference.scored_crime_types()[:9]


def build() -> pd.DataFrame:
    regions = [f"BR-{i:04d}" for i in range(MUNICIPALITIES)]
    idx = pd.MultiIndex.from_product([regions, MONTHS, crime_types()],
                                     names=["region", "period", "crime_type"])
    df = idx.to_frame(index=False)
    rng = np.random.default_rng(7)
    return df.assign(country=COUNTRY, indicator="incidents",
                     value=rng.poisson(3, len(df)).astype("float64"), obs_status="A")


def population() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    base = rng.lognormal(10, 1.2, MUNICIPALITIES).astype(int) + 1000
    return pd.DataFrame([(COUNTRY, f"BR-{i:04d}", y, int(base[i] * (1 + 0.01 * (y - 2016))), 1)
                         for i in range(MUNICIPALITIES) for y in range(2016, 2026)],
                        columns=["country", "region", "year", "population", "synthetic"])


def step_build() -> dict:
    return {"rows": len(build())}


def step_load(url: str) -> dict:
    from sqlalchemy import insert

    from ideal.store import make_engine, upgrade
    from ideal.store.load import bulk_insert
    from ideal.store.models import Submission

    frame = build()
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Submission.__table__).values(
            id="BR-municipal", country=COUNTRY, filename="br-municipal.csv", sha256="0" * 64,
            channel="bench", received_at=datetime.now(UTC), status="accepted",
            archive_path="-", rows_total=len(frame), rows_accepted=len(frame)))
        bulk_insert(conn, frame.assign(submission_id="BR-municipal",
                                       source_row=np.arange(2, len(frame) + 2)))
    return {"load_s": time.perf_counter() - t0, "rows": len(frame)}


def step_read(url: str) -> dict:
    from ideal.store import make_engine
    from ideal.store.runs import current_observations

    t0 = time.perf_counter()
    obs = current_observations(make_engine(url), 2020, 2025)
    return {"read_s": time.perf_counter() - t0, "rows": len(obs)}


def step_assess() -> dict:
    from ideal.scoring.profile import load_profile
    from ideal.scoring.score import score

    obs, pop = build(), population()
    profile = load_profile("default")
    t0 = time.perf_counter()
    scores, unscored, _ = score(obs, pop, profile, "2025")
    return {"assess_s": time.perf_counter() - t0, "units": len(scores),
            "scored": int((scores["status"] == "scored").sum())}


def main() -> None:
    from bench.ingest import fresh_pg_db

    res = {"date": date.today().isoformat(), "country": COUNTRY, "municipalities": MUNICIPALITIES,
           "months": len(MONTHS), "crime_types": len(crime_types())}
    r = measure(step_build)
    res["build"] = r
    print(f"slice: {r['rows']:,} observations built in {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB")
    url, drop = fresh_pg_db()
    try:
        r = measure(step_load, url)
        res["load_postgresql"] = r
        print(f"load (PostgreSQL, COPY in one transaction): {r['load_s']:.1f} s "
              f"({r['rows'] / r['load_s']:,.0f} rows/s), process peak {r['peak_mb']:.0f} MB")
        r = measure(step_read, url)
        res["read_back"] = r
        print(f"read back 2020-2025 for the assessment: {r['read_s']:.1f} s, {r['rows']:,} rows, "
              f"peak {r['peak_mb']:.0f} MB")
    finally:
        drop()
    r = measure(step_assess)
    res["assessment"] = r
    print(f"assessment (1000 draws): {r['assess_s']:.1f} s for {r['units']:,} units "
          f"({r['scored']:,} scored), process peak {r['peak_mb']:.0f} MB")
    out = Path("bench/results") / f"{res['date']}-L-slice.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
