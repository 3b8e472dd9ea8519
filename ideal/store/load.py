"""Writing submissions, findings and observations; one transaction per submission."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from ideal.config import sql
from ideal.contracts import KEY, STORED_COLUMNS
from ideal.store import audit
from ideal.store.db import to_frame
from ideal.store.models import Observation, Submission, ValidationResult

CHUNK = 500


def find_submission(engine: Engine, country: str, sha256: str, reading: str = "") -> dict | None:
    """The submission of these bytes read this way (``reading``), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(Submission.__table__).where(
            Submission.country == country, Submission.sha256 == sha256,
            Submission.reading == reading)).mappings().first()
    return dict(row) if row else None


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
             "message": f.message, "rows": int(getattr(f, "rows", 1) or 1)} for f in findings.itertuples()]
    conn.execute(insert(ValidationResult.__table__), rows)


def _one_load_per_country(conn: Connection, country: str) -> None:
    """Loads of one country wait for each other: each reads the current values it supersedes
    and inserts new ones, which must not interleave with another load of the same keys.
    PostgreSQL: a transaction-level advisory lock per country. SQLite: the write lock taken at
    the start (BEGIN IMMEDIATE; other writers wait for it through the busy timeout)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"ideal.load:{country}"})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def finish_rejected(engine: Engine, submission_id: str, *, rows_total: int, n_errors: int,
                    n_warnings: int, findings: pd.DataFrame, message: str, actor: str,
                    country: str, quarantine: str) -> None:
    with engine.begin() as conn:
        audit.record(conn, actor=actor, action="submission.rejected", outcome="refused",
                     object_id=submission_id, country=country, detail=message)
        audit.record(conn, actor=actor, action="submission.quarantined", outcome="ok",
                     object_id=submission_id, country=country, detail=quarantine)
        _findings(conn, submission_id, findings)
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="rejected", rows_total=rows_total, rows_accepted=0, rows_rejected=rows_total,
            n_errors=n_errors, n_warnings=n_warnings, message=message))


def load_accepted(engine: Engine, submission_id: str, rows: pd.DataFrame, *, n_warnings: int,
                  findings: pd.DataFrame, actor: str, rows_total: int | None = None,
                  before_commit: Callable[[], None] | None = None) -> int:
    """Insert the rows of an accepted submission, superseding the current values of the same
    region, period, crime type and indicator; rows with action D (SDMX delete) only supersede.
    One transaction: all or nothing. Returns the number of observations superseded.
    ``before_commit`` is called inside the open transaction once the rows are in (the crash
    tests inject a hold there; see ideal.pipeline.submission)."""
    country = rows["country"].iloc[0]
    with engine.begin() as conn:
        _one_load_per_country(conn, country)
        current = to_frame(conn.execute(
            select(Observation.id, Observation.submission_id, *[getattr(Observation, k) for k in KEY])
            .where(Observation.country == country, Observation.superseded_by.is_(None),
                   Observation.submission_id != submission_id)), ["id", "submission_id", *KEY])
        hit = current.merge(rows[KEY].drop_duplicates(), on=KEY)
        replaced = hit["id"].tolist()
        for i in range(0, len(replaced), CHUNK):
            conn.execute(update(Observation.__table__)
                         .where(Observation.id.in_(replaced[i:i + CHUNK]))
                         .values(superseded_by=submission_id))
        inserts = rows[rows["action"] != "D"] if "action" in rows else rows
        deleted = len(rows) - len(inserts)
        bulk_insert(conn, inserts.assign(submission_id=submission_id))
        if before_commit is not None:
            before_commit()
        _findings(conn, submission_id, findings)
        for earlier, n in hit.groupby("submission_id").size().items():
            left = (current["submission_id"] == earlier).sum() - n
            if left == 0:
                conn.execute(update(Submission.__table__).where(Submission.id == earlier)
                             .values(status="superseded"))
            audit.record(conn, actor=actor, action="submission.superseded", outcome="ok",
                         object_id=earlier, country=country,
                         detail=f"{n} values superseded by {submission_id}"
                                f"{' (wholly)' if left == 0 else f'; {left} still current'}")
        audit.record(conn, actor=actor, action="submission.accepted", outcome="ok",
                     object_id=submission_id, country=country,
                     detail=f"{len(inserts)} rows loaded, {deleted} deletions, {n_warnings} warnings, "
                            f"{len(replaced)} earlier values superseded")
        conn.execute(update(Submission.__table__).where(Submission.id == submission_id).values(
            status="accepted", rows_total=rows_total or len(rows), rows_accepted=len(rows), rows_rejected=0,
            n_errors=0, n_warnings=n_warnings, rows_superseded=len(replaced),
            message=f"{len(inserts)} rows loaded, {deleted} deletions, "
                    f"{len(replaced)} earlier values superseded"))
    return len(replaced)


def bulk_insert(conn: Connection, rows: pd.DataFrame) -> None:
    """Insert observations inside the caller's transaction: COPY on PostgreSQL, a plain
    DBAPI executemany on SQLite (both far faster than ORM-style inserts of dicts)."""
    if rows.empty:
        return
    rows = rows if "coverage" in rows else rows.assign(coverage=None)
    frame = rows[STORED_COLUMNS].astype({"value": "float64", "source_row": "int64"})
    columns = ", ".join(STORED_COLUMNS)
    if conn.dialect.name == "postgresql":
        # CSV text written by pandas (C speed) straight into COPY; an empty value is NULL
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY observations ({columns}) FROM STDIN "
                                           "WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        return
    values = frame["value"].to_numpy()
    coverage = [None if c is None or c != c else str(c) for c in frame["coverage"].astype(object)]
    tuples = list(zip(*(frame[c].astype(object) for c in STORED_COLUMNS[:-4]),
                      [None if v != v else float(v) for v in values],
                      frame["obs_status"].astype(object), frame["source_row"].tolist(), coverage,
                      strict=False))
    marks = ", ".join("?" for _ in STORED_COLUMNS)
    # bandit B608 (SQL built from a string) accepted: the column names are the module's constant
    # STORED_COLUMNS, every value is a bound parameter
    conn.exec_driver_sql(f"INSERT INTO observations ({columns}) VALUES ({marks})", tuples)  # nosec


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
