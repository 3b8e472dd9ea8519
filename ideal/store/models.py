"""Warehouse tables (SQLAlchemy 2 declarative). Schema changes go through Alembic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# lookup keys: SMALLINT / INTEGER on PostgreSQL; INTEGER on SQLite, where only an INTEGER
# PRIMARY KEY numbers itself
SMALL_KEY = SmallInteger().with_variant(Integer(), "sqlite")
KEY_INT = Integer()


class Submission(Base):
    """One file a steward sent, whatever became of it. Never deleted."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # cli | inbox | portal | api
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # received -> accepted | rejected | failed ; accepted -> superseded (partly or wholly)
    status: Mapped[str] = mapped_column(String(16), index=True)
    archive_path: Mapped[str] = mapped_column(Text)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    n_errors: Mapped[int] = mapped_column(Integer, default=0)
    n_warnings: Mapped[int] = mapped_column(Integer, default=0)
    rows_superseded: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # how the file was read (profile, sheet, separator...): the same bytes read another way
    # are a new attempt, linked to the first by attempt_of
    reading: Mapped[str] = mapped_column(String(300), default="", server_default="")
    attempt_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # data (observations) | contributions (structured expert contributions on markets)
    kind: Mapped[str] = mapped_column(String(16), default="data", server_default="data")

    __table_args__ = (Index("uq_submission_country_sha", "country", "sha256", "reading", unique=True),)


class Contribution(Base):
    """One assessor's rating of one market of the catalogue for a member (and optionally one of
    its first-level regions), a year and a round (ingest.contributions). The assessor is a
    number the focal point gave, never a name; who sent the file is in the audit log."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    market: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(8), nullable=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    round: Mapped[int] = mapped_column(SmallInteger)
    assessor: Mapped[int] = mapped_column(SmallInteger)
    role: Mapped[str] = mapped_column(String(16))
    severity: Mapped[float] = mapped_column(Float)
    trend: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    cross_border: Mapped[str | None] = mapped_column(String(120), nullable=True)
    international: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    violence: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    corruption: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    laundering: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    adaptability: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    confidence: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_grade: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # false once a later file of the same member, year and round replaces it
    current: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_contribution_current", "country", "year", "current"),)


class MarketSeverity(Base):
    """A run's severity of one market (or CLASI area) for one member: the contributions'
    median and spread, the data track, the fused severity with its 90 % interval
    (scoring.markets)."""

    __tablename__ = "market_severities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("assessment_runs.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    market: Mapped[str] = mapped_column(String(32))  # a market code, or area:<code>
    year: Mapped[int] = mapped_column(SmallInteger)
    severity: Mapped[float | None] = mapped_column(Float, nullable=True)
    low: Mapped[float | None] = mapped_column(Float, nullable=True)
    high: Mapped[float | None] = mapped_column(Float, nullable=True)
    experts: Mapped[float | None] = mapped_column(Float, nullable=True)  # the assessors' median
    experts_q1: Mapped[float | None] = mapped_column(Float, nullable=True)
    experts_q3: Mapped[float | None] = mapped_column(Float, nullable=True)
    assessors: Mapped[int] = mapped_column(Integer, default=0)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[float | None] = mapped_column(Float, nullable=True)  # the data track
    data_basis: Mapped[str | None] = mapped_column(String(16), nullable=True)  # prevalence | enforcement
    data_series: Mapped[int] = mapped_column(Integer, default=0)
    agreement: Mapped[str] = mapped_column(String(16))  # agree | disagree | experts_only | data_only | none
    p_seven: Mapped[float | None] = mapped_column(Float, nullable=True)


class Region(Base):
    """Lookup of region codes (ISO 3166-2 first-level regions, and municipal codes as a second
    level): the fact table stores the small integer key, every interface the code."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(KEY_INT, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # a municipality's first-level region (its key in this table); NULL for first-level
    # regions and countries. The assessment adds municipalities up to it.
    parent_id: Mapped[int | None] = mapped_column(KEY_INT, nullable=True)


class Period(Base):
    """Lookup of period codes ('2024', '2024-Q1', '2024-03') with their year, which the
    assessment filters on."""

    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(KEY_INT, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    year: Mapped[int] = mapped_column(SmallInteger)


class CrimeType(Base):
    __tablename__ = "crime_types"

    id: Mapped[int] = mapped_column(SMALL_KEY, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)


class Indicator(Base):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(SMALL_KEY, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)


# The canonical observation (DESIGN.md) as stored: one row per value a submission loaded, its
# dimensions as small integer keys of the lookup tables above. ``superseded_by`` is NULL for the
# current value, and the partial unique index keeps one current value per key. On PostgreSQL the
# table is partitioned by country (list partitions observation_facts_<cc>: a submission's COPY,
# its supersede and a country's reads touch one partition); SQLite keeps one table. No primary
# key, no foreign key and no other index: each would be paid on every row of every load, and
# nothing reads single observations (the loader alone writes here, keys from the lookups in the
# same process; submissions are never deleted). Reads go through the view ``observations``
# (text codes), described by :class:`Observation`.
observation_facts = Table(
    "observation_facts", Base.metadata,
    Column("country", String(2), nullable=False),
    Column("region_id", Integer, nullable=False),
    Column("period_id", Integer, nullable=False),
    Column("crime_type_id", SmallInteger, nullable=False),
    Column("indicator_id", SmallInteger, nullable=False),
    Column("value", Float, nullable=True),
    Column("obs_status", String(1), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("submission_id", String(32), nullable=False),
    Column("superseded_by", String(32), nullable=True),
    # a month or quarter of a year the submission covers only partly, e.g. '3/12: 01-03'
    Column("coverage", String(40), nullable=True),
    Index("uq_obs_current", "country", "region_id", "period_id", "crime_type_id", "indicator_id",
          unique=True, sqlite_where=text("superseded_by IS NULL"),
          postgresql_where=text("superseded_by IS NULL")),
    postgresql_partition_by="LIST (country)",
)


class Views(DeclarativeBase):
    """Views the migrations make (not tables: not in Base.metadata)."""


class Observation(Views):
    """The view ``observations``: the stored observations with their text codes, as every
    query and interface sees them."""

    __table__ = Table(
        "observations", Views.metadata,
        Column("country", String(2)), Column("region", String(16)), Column("period", String(10)),
        Column("crime_type", String(8)), Column("indicator", String(32)), Column("value", Float),
        Column("obs_status", String(1)), Column("source_row", Integer),
        Column("submission_id", String(32)), Column("superseded_by", String(32)),
        Column("coverage", String(40)))
    __mapper_args__ = {"primary_key": [__table__.c.submission_id, __table__.c.source_row,
                                       __table__.c.region, __table__.c.period]}


class ValidationResult(Base):
    """One finding about one submission: which row, column, value, rule, and what to do."""

    __tablename__ = "validation_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    severity: Mapped[str] = mapped_column(String(8))  # error | warning
    rule: Mapped[str] = mapped_column(String(64))
    column: Mapped[str | None] = mapped_column(String(64), nullable=True)
    row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str] = mapped_column(Text)
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)  # source rows it stands for
    # the message's catalogue messages and values (i18n.Said.parts), to say it in a reader's language
    said: Mapped[list | None] = mapped_column(JSON, nullable=True)


class AssessmentRun(Base):
    """One immutable assessment: parameters and the methodology profile it used."""

    __tablename__ = "assessment_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period: Mapped[str] = mapped_column(String(10), index=True)
    countries: Mapped[list] = mapped_column(JSON)
    profile_name: Mapped[str] = mapped_column(String(64))
    profile_sha256: Mapped[str] = mapped_column(String(64))
    profile: Mapped[dict] = mapped_column(JSON)
    params: Mapped[dict] = mapped_column(JSON)
    n_observations: Mapped[int] = mapped_column(Integer)
    n_scores: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    code_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    info: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # outliers, sensitivity


class ThreatScore(Base):
    __tablename__ = "threat_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("assessment_runs.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(8))
    crime_type: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(10))
    indicator: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    synthetic_population: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    data_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imputed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    magnitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    trend: Mapped[float | None] = mapped_column(Float, nullable=True)
    harm: Mapped[float | None] = mapped_column(Float, nullable=True)
    spread: Mapped[float | None] = mapped_column(Float, nullable=True)
    coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    reliability: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_median: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_p5: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_p95: Mapped[float | None] = mapped_column(Float, nullable=True)
    partial: Mapped[str | None] = mapped_column(String(60), nullable=True)  # "annualised 9/12"
    population_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # each pillar's points of the score (they add up to it): why a threat is high
    contrib_magnitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    contrib_trend: Mapped[float | None] = mapped_column(Float, nullable=True)
    contrib_harm: Mapped[float | None] = mapped_column(Float, nullable=True)
    contrib_spread: Mapped[float | None] = mapped_column(Float, nullable=True)
    # the modelled measurement (v3): the smoothed rate the magnitude reads, the yearly change of
    # the trend and the standard error of its log-linear slope (interval exp(b +- 1.96 se) - 1)
    rate_model: Mapped[float | None] = mapped_column(Float, nullable=True)
    trend_change: Mapped[float | None] = mapped_column(Float, nullable=True)
    trend_se: Mapped[float | None] = mapped_column(Float, nullable=True)
    # v4: the share of the data draws in which the unit ranks first, in the top 10, in the top
    # 15; and whether its indicator grows with enforcement (seizures, arrests)
    p_first: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_top10: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_top15: Mapped[float | None] = mapped_column(Float, nullable=True)
    enforcement: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # v5 (#48), the WHERE track: k x the members' median regional rate, P(rate above it),
    # P(rising), hotspot (P(exceed) >= 0.8) and rising, the modelled rate's 90 % interval
    exceed_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_exceed: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_rising: Mapped[float | None] = mapped_column(Float, nullable=True)
    hotspot: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rising: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rate_p5: Mapped[float | None] = mapped_column(Float, nullable=True)
    rate_p95: Mapped[float | None] = mapped_column(Float, nullable=True)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("assessment_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # briefing
    language: Mapped[str] = mapped_column(String(2))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only record of every decision: who, what, when, outcome, why. Triggers in the
    migration refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class Delivery(Base):
    """One briefing sent (or tried) to one recipient. A recipient gets a run's briefing in a
    language once: the unique index makes a retried delivery skip what was already sent."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("assessment_runs.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("uq_delivery", "run_id", "recipient", "language", unique=True),)


class User(Base):
    """A portal account. Stewards are bound to one country; analysts and admins see all.
    Passwords are stored as argon2 hashes only."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # steward | analyst | admin
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="es")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # feedback by mail


class ApiToken(Base):
    """A token for scripts (a national system uploading by itself). Only its SHA-256 is kept;
    the token is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A portal session kept on the server: the cookie holds only a random token, this row
    its SHA-256, the signed-in user and the session's small data (CSRF token, language).
    Logout deletes it; a password, role or active change deletes every session of the user."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginCounter(Base):
    """Failed (and in-flight) logins per user name or client address within the window,
    counted atomically before the password is checked: simultaneous attempts cannot all pass."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "user:<name>" | "addr:<ip>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """Long work started from the portal (an assessment with its briefing, an annex): run by
    a thread of the server process that started it, its state kept here so that every server
    process can show it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # queued | running | success | failed
    steps: Mapped[list] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What Alembic compares with the models: not the partitions of observation_facts (made
    per country by the migrations and the loader)."""
    return not (type_ == "table" and reflected and name.startswith("observation_facts_"))
