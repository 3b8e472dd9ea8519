"""What the schema itself costs on PostgreSQL: the M files loaded through IDEAL, then the same
facts (integer keys) COPYed back into an unindexed table and into the partitioned table with
its unique index (the rule of one current value per key).

    uv run python -m bench.floor          (needs the PostgreSQL on 127.0.0.1)
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

COLUMNS = ("country, region_id, period_id, crime_type_id, indicator_id, value, obs_status, "
           "source_row, submission_id")


def main() -> None:
    import psycopg

    import ideal.pipeline.submission  # noqa: F401  (the whole submission path)
    from bench.ingest import fresh_pg_db, ideal_path
    from bench.scales import write_files

    files = write_files(Path("var/bench") / "M", "M")
    url, drop = fresh_pg_db()
    try:
        ideal_path(files, url, Path(tempfile.mkdtemp()))
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            buf = io.BytesIO()
            with conn.cursor().copy(f"COPY (SELECT {COLUMNS} FROM observation_facts) TO STDOUT") as cp:
                for chunk in cp:
                    buf.write(chunk)
            n = conn.execute("SELECT count(*) FROM observation_facts").fetchone()[0]
            conn.execute("CREATE TABLE bare_facts (LIKE observation_facts)")
            print(f"{n:,} facts of the M files")
            for label, table in (("an unindexed table", "bare_facts"),
                                 ("the partitioned table with its unique index", "observation_facts")):
                conn.execute(f"TRUNCATE {table}")
                t0 = time.perf_counter()
                with conn.cursor().copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as cp:
                    cp.write(buf.getvalue())
                print(f"  COPY into {label}: {time.perf_counter() - t0:.2f} s")
    finally:
        drop()


if __name__ == "__main__":
    main()
