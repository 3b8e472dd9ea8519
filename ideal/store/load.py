"""Writing submissions, findings and observations; one transaction per submission."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ideal import reference
from ideal.config import sql
from ideal.store import audit
from ideal.store.db import to_frame
from ideal.store.models import (
    CrimeType,
    Indicator,
    Period,
    Region,
    Submission,
    ValidationResult,
    observation_facts,
)


def find_submission(engine: Engine, country: str, sha256: str, reading: str = "") -> dict | None:
    """The submission of these bytes read this way (``reading``), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(Submission.__table__).where(
            Submission.country == country, Submission.sha256 == sha256,
            Submission.reading == reading)).mappings().first()
    return dict(row) if row else None


def rejected_by_limit(engine: Engine, submission_id: str) -> bool:
    """The submission was rejected because its reading outlived a limit or died (rule
    reading_limit): the same bytes may be sent again."""
    with engine.connect() as conn:
        return conn.execute(select(ValidationResult.id).where(
            ValidationResult.submission_id == submission_id,
            ValidationResult.rule == "reading_limit").limit(1)).first() is not None


def first_attempt(engine: Engine, country: str, sha256: str) -> str | None:
    """The first submission of these bytes, however they were read (resubmissions link to it)."""
    with engine.connect() as conn:
        return conn.execute(select(Submission.id).where(
            Submission.country == country, Submission.sha256 == sha256)
            .order_by(Submission.received_at).limit(1)).scalar()


def current_for_country(engine: Engine, country: str) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(text(sql("current_for_country")), {"country": country})
        return to_frame(result)


def record_received(engine: Engine, *, submission_id: str, country: str, filename: str,
                    sha256: str, channel: str, archive_path: str, actor: str,
                    reading: str = "", attempt_of: str | None = None) -> bool:
    """Commit the fact that a file arrived, before anything else can fail. False when the
    same bytes from the same country were recorded meanwhile (the same file sent twice at
    once): nothing is written then."""
    try:
        _record_received(engine, submission_id, country, filename, sha256, channel, archive_path,
                         actor, reading, attempt_of)
    except IntegrityError:
        if find_submission(engine, country, sha256, reading) is None:
            raise
        return False
    return True


def _record_received(engine: Engine, submission_id: str, country: str, filename: str,
                     sha256: str, channel: str, archive_path: str, actor: str, reading: str,
                     attempt_of: str | None) -> None:
    with engine.begin() as conn:
        again = f"; read again ({reading or 'detected'}) after {attempt_of}" if attempt_of else ""
        audit.record(conn, actor=actor, action="submission.received", outcome="ok",
                     object_id=submission_id, country=country,
                     detail=f"{filename} via {channel}, sha256 {sha256}{again}")
        conn.execute(insert(Submission.__table__).values(
            id=submission_id, country=country, filename=filename[:255], sha256=sha256,
            channel=channel, received_at=datetime.now(UTC), status="received",
            archive_path=archive_path, rows_total=0, rows_accepted=0, rows_rejected=0,
            n_errors=0, n_warnings=0, rows_superseded=0, reading=reading, attempt_of=attempt_of))


def _findings(conn: Connection, submission_id: str, findings: pd.DataFrame) -> None:
    conn.execute(ValidationResult.__table__.delete().where(
        ValidationResult.submission_id == submission_id))
    if findings.empty:
        return
    rows = [{"submission_id": submission_id, "severity": f.severity, "rule": f.rule,
             "column": f.column, "row": None if pd.isna(f.row) else int(f.row),
             "value": None if f.value is None or pd.isna(f.value) else str(f.value)[:500],
             "message": f.message, "rows": int(getattr(f, "rows", 1) or 1),
             "said": _said(getattr(f, "said", None))} for f in findings.itertuples()]
    conn.execute(insert(ValidationResult.__table__), rows)


def _said(parts) -> list | None:
    """A finding's parts as stored (JSON): only when there are parts to say again."""
    return list(parts) if isinstance(parts, list) and any(isinstance(p, dict) for p in parts) else None


def _one_load_per_country(conn: Connection, country: str) -> None:
    """Loads of one country wait for each other: each supersedes the current values of its
    keys and inserts new ones, which must not interleave with another load of the same keys.
    PostgreSQL: a transaction-level advisory lock per country. SQLite: the write lock taken at
    the start (BEGIN IMMEDIATE; other writers wait for it through the busy timeout)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"ideal.load:{country}"})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


DIMENSIONS = {"region": Region, "period": Period, "crime_type": CrimeType, "indicator": Indicator}


def dimension_keys(engine: Engine, rows: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The small integer key of every region, period, crime type and indicator code in
    ``rows``, adding the codes not seen before to their lookup tables (in a transaction of
    their own, committed before the load: a key stays valid whatever becomes of the load, and
    concurrent loads of other countries do not wait on each other's lookups)."""
    keys: dict[str, dict[str, int]] = {}
    with engine.begin() as conn:
        for column, model in DIMENSIONS.items():
            codes = sorted(str(c) for c in rows[column].unique())
            table = model.__table__
            found = dict(conn.execute(select(table.c.code, table.c.id)
                                      .where(table.c.code.in_(codes))).all()) if codes else {}
            missing = [c for c in codes if c not in found]
            if missing:
                values = [{"code": c, **({"year": int(c[:4])} if model is Period else {})}
                          for c in missing]
                _insert_codes(conn, table, values)
                found |= dict(conn.execute(select(table.c.code, table.c.id)
                                           .where(table.c.code.in_(missing))).all())
                if model is Region:
                    set_region_parents(conn, missing)
            keys[column] = found
    return keys


def _insert_codes(conn: Connection, table, values: list[dict]) -> None:
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert_(table).on_conflict_do_nothing(index_elements=["code"]), values)


def set_region_parents(conn: Connection, codes: list[str] | None = None) -> int:
    """Give the stored municipal codes (``codes``, or all) their first-level region from the
    reference list (adding the parent's code when it is not stored yet). Returns how many."""
    parents = reference.parents()
    table = Region.__table__
    if codes is None:
        codes = list(conn.execute(select(table.c.code).where(table.c.parent_id.is_(None))).scalars())
    pairs = {c: parents[c] for c in codes if c in parents}
    if not pairs:
        return 0
    _insert_codes(conn, table, [{"code": p} for p in sorted(set(pairs.values()))])
    ids = dict(conn.execute(select(table.c.code, table.c.id)
                            .where(table.c.code.in_(sorted(set(pairs.values()))))).all())
    conn.execute(update(table).where(table.c.code == bindparam("c"), table.c.parent_id.is_(None))
                 .values(parent_id=bindparam("p")),
                 [{"c": c, "p": ids[p]} for c, p in pairs.items()])
    return len(pairs)


def partition(engine: Engine, country: str) -> str:
    """The table a country's observations go to: its partition on PostgreSQL (made on the
    country's first submission when no migration made it), the one table on SQLite."""
    if engine.dialect.name != "postgresql":
        return "observation_facts"
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"not a country code: {country!r}")
    name = f"observation_facts_{country.lower()}"
    if name in _PARTITIONS:
        return name
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"ideal.partition:{country}"})
        exists = conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
        if exists is None:
            # bandit B608 accepted: the name and the value are the checked two-letter code
            conn.exec_driver_sql(f"CREATE TABLE {name} PARTITION OF observation_facts "  # nosec
                                 f"FOR VALUES IN ('{country}')")
    _PARTITIONS.add(name)
    return name


_PARTITIONS: set[str] = set()
FACT_COLUMNS = ["region_id", "period_id", "crime_type_id", "indicator_id", "value", "obs_status",
                "source_row", "coverage"]


def _codes_to_keys(codes: pd.Series, keys: dict[str, int]) -> np.ndarray:
    """Each code's key, looked up once per distinct code."""
    positions, uniques = pd.factorize(codes)
    return np.array([keys[str(u)] for u in uniques], dtype="int64")[positions]


def keyed(rows: pd.DataFrame, keys: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The rows with their dimension keys, as the fact table stores them (plus ``del``:
    SDMX action D, which only supersedes)."""
    out = pd.DataFrame({f"{c}_id": _codes_to_keys(rows[c], keys[c]) for c in DIMENSIONS},
                       index=rows.index)
    out["value"] = rows["value"].astype("float64")
    out["obs_status"] = rows["obs_status"].astype(str)
    out["source_row"] = rows["source_row"].astype("int64")
    out["coverage"] = rows["coverage"] if "coverage" in rows else None
    out["del"] = (rows["action"] == "D") if "action" in rows else False
    return out.reset_index(drop=True)


def finish_rejected(engine: Engine, submission_id: str, *, rows_total: int, n_errors: int,
                    n_warnings: int, findings: pd.DataFrame, message: str, actor: str,
                    country: str, quarantine: str, kept: bool = True) -> None:
    """Record a rejection. ``kept`` False: the raw file was deleted, not quarantined (a
    contributions file whose assessor column may name a person)."""
    with engine.begin() as conn:
        audit.record(conn, actor=actor, action="submission.rejected", outcome="refused",
                     object_id=submission_id, country=country, detail=message)
        if kept:
            audit.record(conn, actor=actor, action="submission.quarantined", outcome="ok",
                         object_id=submission_id, country=country, detail=quarantine)
        else:
            audit.record(conn, actor=actor, action="submission.not_kept", outcome="ok",
                         object_id=submission_id, country=country,
                         detail="the raw file was deleted: its assessor column may name a person")
        _findings(conn, submission_id, findings)
        extra = {} if kept else {"archive_path": "", "kind": "contributions"}
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="rejected", rows_total=rows_total, rows_accepted=0, rows_rejected=rows_total,
            n_errors=n_errors, n_warnings=n_warnings, message=message, **extra))


def load_accepted(engine: Engine, submission_id: str, rows: pd.DataFrame, *, n_warnings: int,
                  findings: pd.DataFrame, actor: str, rows_total: int | None = None,
                  before_commit: Callable[[], None] | None = None) -> int:
    """Insert the rows of an accepted submission, superseding the current values of the same
    region, period, crime type and indicator; rows with action D (SDMX delete) only supersede.
    Set-based: the rows go to a staging table, one UPDATE supersedes what they replace, one
    INSERT ... SELECT puts them in the country's partition. One transaction: all or nothing.
    Returns the number of observations superseded. ``before_commit`` is called inside the open
    transaction once the rows are in (the crash tests inject a hold there; see
    ideal.pipeline.submission)."""
    country = str(rows["country"].iloc[0])
    facts = keyed(rows, dimension_keys(engine, rows))
    target = partition(engine, country)
    with engine.begin() as conn:
        _one_load_per_country(conn, country)
        earlier = stage_and_supersede(conn, facts, country, submission_id)
        inserted = insert_staged(conn, facts, target, country, submission_id, earlier is not None)
        earlier = earlier or {}
        if before_commit is not None:
            before_commit()
        _findings(conn, submission_id, findings)
        replaced = sum(earlier.values())
        still = _still_current(conn, country, list(earlier))
        for prior, n in sorted(earlier.items()):
            left = still.get(prior, 0)
            if left == 0:
                conn.execute(update(Submission.__table__).where(Submission.id == prior)
                             .values(status="superseded"))
            audit.record(conn, actor=actor, action="submission.superseded", outcome="ok",
                         object_id=prior, country=country,
                         detail=f"{n} values superseded by {submission_id}"
                                f"{' (wholly)' if left == 0 else f'; {left} still current'}")
        deleted = len(facts) - inserted
        audit.record(conn, actor=actor, action="submission.accepted", outcome="ok",
                     object_id=submission_id, country=country,
                     detail=f"{inserted} rows loaded, {deleted} deletions, {n_warnings} warnings, "
                            f"{replaced} earlier values superseded")
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="accepted", rows_total=rows_total or len(rows), rows_accepted=len(rows), rows_rejected=0,
            n_errors=0, n_warnings=n_warnings, rows_superseded=replaced,
            message=f"{inserted} rows loaded, {deleted} deletions, "
                    f"{replaced} earlier values superseded"))
    refresh_statistics(engine, target, inserted + replaced)
    return replaced


ANALYZE_FROM_ROWS = 50_000


def refresh_statistics(engine: Engine, table: str, changed: int) -> None:
    """After a large load, the planner's statistics of the partition and the lookups (without
    them PostgreSQL reads a country's millions of rows through nested loops: several times
    slower). Small loads leave it to autovacuum."""
    if engine.dialect.name != "postgresql" or changed < ANALYZE_FROM_ROWS:
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in (table, "regions", "periods", "crime_types", "indicators"):
            # bandit B608 accepted: the partition's name built from a checked country code
            conn.exec_driver_sql(f"ANALYZE {name}")  # nosec B608


STAGING = "ideal_staging"


def stage_and_supersede(conn: Connection, facts: pd.DataFrame, country: str,
                        submission_id: str) -> dict[str, int] | None:
    """Put ``facts`` (see :func:`keyed`) in a temporary staging table and mark the current
    values of their keys superseded by ``submission_id``, in one statement. Returns, per
    earlier submission, how many of its values were superseded; None when nothing was
    staged because the country has no current value that could be superseded (its first
    submission): the rows then go straight into its partition."""
    if conn.execute(text("SELECT 1 FROM observation_facts WHERE country = :c "
                         "AND superseded_by IS NULL LIMIT 1"), {"c": country}).first() is None:
        return None
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (region_id integer, period_id integer, "
                             "crime_type_id smallint, indicator_id smallint, value double precision, "
                             "obs_status text, source_row integer, coverage text, del boolean) "
                             "ON COMMIT DROP")
        _copy(conn, STAGING, facts)
    else:
        # SQLite: only the keys are staged (the rows go straight into the table afterwards)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGING}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (region_id INTEGER, period_id INTEGER, "
                             "crime_type_id INTEGER, indicator_id INTEGER)")
        # bandit B608 accepted: STAGING is the module's constant, the values bound parameters
        conn.exec_driver_sql(f"INSERT INTO temp.{STAGING} VALUES (?, ?, ?, ?)",  # nosec B608
                             list(facts[FACT_COLUMNS[:4]].itertuples(index=False, name=None)))
        conn.exec_driver_sql(f"CREATE INDEX temp.ix_{STAGING} ON {STAGING} "
                             "(region_id, period_id, crime_type_id, indicator_id)")
    # bandit B608 accepted: the table and staging names are the module's constants
    hit = conn.execute(text(f"""
        UPDATE observation_facts SET superseded_by = :sid
        FROM {STAGING} AS s
        WHERE observation_facts.country = :country AND observation_facts.superseded_by IS NULL
          AND observation_facts.submission_id <> :sid
          AND observation_facts.region_id = s.region_id
          AND observation_facts.period_id = s.period_id
          AND observation_facts.crime_type_id = s.crime_type_id
          AND observation_facts.indicator_id = s.indicator_id
        RETURNING observation_facts.submission_id"""),  # nosec B608
        {"sid": submission_id, "country": country}).scalars().all()
    return dict(Counter(hit))


def _copy(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY ``frame``'s columns, in order, into ``table`` (PostgreSQL), as CSV written by Arrow's
    C++ writer (several times faster than DataFrame.to_csv); an empty field is NULL."""
    buf = pa.BufferOutputStream()
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buf,
                     pa_csv.WriteOptions(include_header=False))
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buf.getvalue().to_pybytes())


def insert_staged(conn: Connection, facts: pd.DataFrame, target: str, country: str,
                  submission_id: str, staged: bool = True) -> int:
    """Insert the rows that are not deletions into ``target`` (the country's partition);
    returns how many. PostgreSQL: one INSERT ... SELECT from the staging table, or (nothing
    staged: the country's first submission) one COPY straight into the partition. SQLite:
    one executemany of the rows."""
    if conn.dialect.name == "postgresql":
        if not staged:
            kept = facts.loc[~facts["del"], FACT_COLUMNS]
            _copy(conn, target, kept.assign(country=country, submission_id=submission_id))
            return len(kept)
        # bandit B608 accepted: target is the partition's name built from a checked country code
        return conn.execute(text(
            f"INSERT INTO {target} (country, {', '.join(FACT_COLUMNS)}, submission_id) "  # nosec
            f"SELECT :country, {', '.join(FACT_COLUMNS)}, :sid FROM {STAGING} WHERE NOT del"),
            {"country": country, "sid": submission_id}).rowcount
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGING}")
    kept = facts[~facts["del"]]
    if kept.empty:
        return 0
    values = kept["value"].to_numpy()
    coverage = [None if c is None or c != c else str(c) for c in kept["coverage"].astype(object)]
    tuples = list(zip([country] * len(kept), *(kept[c].tolist() for c in FACT_COLUMNS[:4]),
                      [None if v != v else float(v) for v in values], kept["obs_status"].tolist(),
                      kept["source_row"].tolist(), coverage, [submission_id] * len(kept),
                      strict=True))
    columns = ", ".join(["country", *FACT_COLUMNS, "submission_id"])
    marks = ", ".join("?" for _ in range(len(FACT_COLUMNS) + 2))
    # bandit B608 (SQL built from a string) accepted: the column names are the module's constant
    # FACT_COLUMNS, every value is a bound parameter
    conn.exec_driver_sql(f"INSERT INTO observation_facts ({columns}) VALUES ({marks})", tuples)  # nosec
    return len(kept)


def _still_current(conn: Connection, country: str, submissions: list[str]) -> dict[str, int]:
    """How many current values each of ``submissions`` still has (one pass over the country)."""
    if not submissions:
        return {}
    return dict(conn.execute(
        select(observation_facts.c.submission_id, func.count())
        .where(observation_facts.c.country == country, observation_facts.c.superseded_by.is_(None),
               observation_facts.c.submission_id.in_(submissions))
        .group_by(observation_facts.c.submission_id)).all())


def bulk_insert(engine: Engine, rows: pd.DataFrame, submission_id: str) -> int:
    """Insert observations of one country and submission with nothing to supersede (a bulk
    load of a fresh warehouse, as the L slice's benchmark does): keys, staging, insert."""
    country = str(rows["country"].iloc[0])
    facts = keyed(rows, dimension_keys(engine, rows))
    target = partition(engine, country)
    with engine.begin() as conn:
        _one_load_per_country(conn, country)
        staged = stage_and_supersede(conn, facts, country, submission_id) is not None
        inserted = insert_staged(conn, facts, target, country, submission_id, staged)
    refresh_statistics(engine, target, inserted)
    return inserted


def mark_failed(engine: Engine, submission_id: str, message: str, actor: str,
                country: str) -> None:
    with engine.begin() as conn:
        audit.record(conn, actor=actor, action="submission.failed", outcome="error",
                     object_id=submission_id, country=country, detail=message[:2000])
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="failed", message=message[:2000]))


INTERRUPTED = ("interrupted: the process stopped before the submission was finished; nothing "
               "of it was loaded. It is retried from the archive (`ideal retry ID`, or the "
               "next ingest run).")


def mark_interrupted(engine: Engine, older_than: timedelta, actor: str) -> list[dict]:
    """Submissions left in 'received' longer than ``older_than`` (their process died: a
    submission is finished in seconds to minutes) are marked failed and retryable. Their
    rows were never committed: loading is one transaction."""
    cutoff = datetime.now(UTC) - older_than
    with engine.begin() as conn:
        stale = [dict(r) for r in conn.execute(
            select(Submission.id, Submission.country, Submission.filename, Submission.archive_path)
            .where(Submission.status == "received", Submission.received_at <= cutoff)).mappings()]
        for s in stale:
            audit.record(conn, actor=actor, action="submission.interrupted", outcome="error",
                         object_id=s["id"], country=s["country"], detail=INTERRUPTED)
            conn.execute(update(Submission.__table__).where(
                Submission.id == s["id"], Submission.status == "received").values(
                status="failed", message=INTERRUPTED))
    return stale
