"""Migration 0012 (observations as integer-keyed facts, partitioned by country on PostgreSQL)
keeps every row of an existing warehouse, and its downgrade gives them back."""

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from ideal.store import make_engine, upgrade
from ideal.store.db import alembic_config
from tests.conftest import PG_ADMIN_URL

ROWS = [  # submission, country, region, period, crime, indicator, value, status, row, superseded, coverage
    ("S1", "MX", "MX-JAL", "2024", "0101", "incidents", 12.0, "A", 2, "S2", None),
    ("S2", "MX", "MX-JAL", "2024", "0101", "incidents", 13.0, "A", 2, None, None),
    ("S2", "MX", "MX-JAL", "2024-03", "0101", "victims", None, "M", 3, None, None),
    ("S2", "MX", "MX-CMX", "2025-Q1", "0201", "seizures_kg", 4.5, "E", 4, None, "3/12: 01-03"),
    ("S3", "BR", "BR-SP", "2023", "0101", "incidents", 99.0, "A", 2, None, None),
    ("S4", "US", "US-TX", "2023", "0101", "incidents", 1.0, "A", 2, None, None),  # not a member
    ("S5", "CO", "CO-05001", "2024", "0101", "victims", 3.0, "A", 2, None, None),  # a municipality
]
COLUMNS = ("submission_id, country, region, period, crime_type, indicator, value, obs_status, "
           "source_row, superseded_by, coverage")
READ = f"SELECT {COLUMNS} FROM observations ORDER BY submission_id, source_row, period"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_warehouse(request, tmp_path):
    if request.param == "sqlite":
        yield make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        return
    request.getfixturevalue("pg_url")  # the server is up
    name = f"ideal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_migration_keeps_every_row_and_gives_them_back(old_warehouse):
    engine = old_warehouse
    assert upgrade(engine, "0011") == "0011"
    with engine.begin() as conn:
        for sid, cc in sorted({(r[0], r[1]) for r in ROWS}):
            conn.execute(text(
                "INSERT INTO submissions (id, country, filename, sha256, channel, received_at, "
                "status, archive_path, rows_total, rows_accepted, rows_rejected, n_errors, "
                "n_warnings, rows_superseded, reading) VALUES (:id, :cc, 'f.csv', :sha, 'cli', "
                ":at, 'accepted', '-', 1, 1, 0, 0, 0, 0, '')"),
                {"id": sid, "cc": cc, "sha": sid * 16, "at": datetime.now(UTC)})
        conn.execute(text(f"INSERT INTO observations ({COLUMNS}) VALUES (:s, :c, :r, :p, :t, :i, "
                          ":v, :o, :n, :sup, :cov)"),
                     [dict(zip(("s", "c", "r", "p", "t", "i", "v", "o", "n", "sup", "cov"), r,
                               strict=True)) for r in ROWS])
        before = conn.execute(text(READ)).all()
    assert len(before) == len(ROWS)

    assert upgrade(engine, "0012") == "0012"
    with engine.connect() as conn:
        assert conn.execute(text(READ)).all() == before
        assert conn.execute(text("SELECT COUNT(*) FROM observation_facts")).scalar() == len(ROWS)
        if engine.dialect.name == "postgresql":
            # one partition per member (made by the migration) and one for the stray country
            parts = set(conn.execute(text(
                "SELECT c.relname FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid "
                "JOIN pg_class p ON p.oid = inhparent WHERE p.relname = 'observation_facts'"))
                .scalars())
            assert {"observation_facts_mx", "observation_facts_br", "observation_facts_us"} <= parts
            assert len(parts) == 19
            assert conn.execute(text("SELECT COUNT(*) FROM observation_facts_mx")).scalar() == 4
    # the one current value per key is still the database's rule
    with pytest.raises(Exception, match="(?i)unique"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO observation_facts (country, region_id, period_id, crime_type_id, "
                "indicator_id, value, obs_status, source_row, submission_id) SELECT country, "
                "region_id, period_id, crime_type_id, indicator_id, 1, 'A', 9, 'S9' "
                "FROM observation_facts WHERE superseded_by IS NULL AND country = 'BR'"))

    # 0013: a stored municipal code gets its first-level region (Medellín -> Antioquia)
    assert upgrade(engine, "0013") == "0013"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT p.code FROM regions r JOIN regions p ON p.id = r.parent_id "
                                 "WHERE r.code = 'CO-05001'")).scalar() == "CO-ANT"
        assert conn.execute(text("SELECT parent_id FROM regions WHERE code = 'MX-JAL'")).scalar() is None
    # 0014: methodology v4's probabilities and enforcement flag beside each score
    assert upgrade(engine, "0014") == "0014"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(p_first) + COUNT(p_top10) + COUNT(p_top15) + COUNT(enforcement) "
                                 "FROM threat_scores")).scalar() == 0
    # 0015: how each finding was said, beside its text; findings stored before keep their text
    findings = "SELECT submission_id, rule, message FROM validation_results ORDER BY id"
    with engine.connect() as conn:
        stored = conn.execute(text(findings)).all()
    assert upgrade(engine, "0015") == "0015"
    with engine.connect() as conn:
        assert conn.execute(text(findings)).all() == stored
        assert conn.execute(text("SELECT COUNT(said) FROM validation_results")).scalar() == 0
    # 0016: every submission stored before is a data submission; contributions start empty
    assert upgrade(engine) == "0017"
    with engine.connect() as conn:
        kinds = {k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM submissions"))}
        assert kinds == {"data"}
        assert conn.execute(text("SELECT COUNT(*) FROM contributions")).scalar() == 0

    command.downgrade(alembic_config(engine), "0011")
    with engine.connect() as conn:
        assert conn.execute(text(READ)).all() == before
