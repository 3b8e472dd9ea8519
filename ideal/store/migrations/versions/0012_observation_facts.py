"""observations stored for their load: dimension keys as small integers with their lookup tables
(regions, periods, crime types, indicators), on PostgreSQL list-partitioned by country; the
view ``observations`` keeps the text codes for every reader. Every row is kept.

Revision ID: 0012
Revises: 0011
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# the 18 members of CLASI: their partitions are made here; any other country's on its first
# submission (ideal.store.load)
MEMBERS = "AR BO BR CL CO CR DO EC SV GT HN MX NI PA PY PE UY VE".split()
SMALL_KEY = sa.SmallInteger().with_variant(sa.Integer(), "sqlite")

VIEW = """
CREATE VIEW observations AS
SELECT f.country, r.code AS region, p.code AS period, c.code AS crime_type, i.code AS indicator,
       f.value, f.obs_status, f.source_row, f.submission_id, f.superseded_by, f.coverage
FROM observation_facts AS f
JOIN regions AS r ON r.id = f.region_id
JOIN periods AS p ON p.id = f.period_id
JOIN crime_types AS c ON c.id = f.crime_type_id
JOIN indicators AS i ON i.id = f.indicator_id
"""


def _partition(country: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"not a country code: {country!r}")
    op.execute(f"CREATE TABLE IF NOT EXISTS observation_facts_{country.lower()} "
               f"PARTITION OF observation_facts FOR VALUES IN ('{country}')")


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table("regions", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                    sa.Column("code", sa.String(16), nullable=False, unique=True))
    op.create_table("periods", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                    sa.Column("code", sa.String(10), nullable=False, unique=True),
                    sa.Column("year", sa.SmallInteger(), nullable=False))
    op.create_table("crime_types", sa.Column("id", SMALL_KEY, primary_key=True, autoincrement=True),
                    sa.Column("code", sa.String(8), nullable=False, unique=True))
    op.create_table("indicators", sa.Column("id", SMALL_KEY, primary_key=True, autoincrement=True),
                    sa.Column("code", sa.String(32), nullable=False, unique=True))
    op.create_table(
        "observation_facts",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("crime_type_id", sa.SmallInteger(), nullable=False),
        sa.Column("indicator_id", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("obs_status", sa.String(1), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("superseded_by", sa.String(32), nullable=True),
        sa.Column("coverage", sa.String(40), nullable=True),
        postgresql_partition_by="LIST (country)")
    if pg:
        present = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT country FROM observations"))]
        for country in sorted(set(MEMBERS) | set(present)):
            _partition(country)
    # the lookups, then every row with its keys (set-based, in the database)
    op.execute("INSERT INTO regions (code) SELECT DISTINCT region FROM observations ORDER BY region")
    op.execute("INSERT INTO periods (code, year) SELECT DISTINCT period, "
               "CAST(SUBSTR(period, 1, 4) AS INTEGER) FROM observations ORDER BY period")
    op.execute("INSERT INTO crime_types (code) SELECT DISTINCT crime_type FROM observations "
               "ORDER BY crime_type")
    op.execute("INSERT INTO indicators (code) SELECT DISTINCT indicator FROM observations "
               "ORDER BY indicator")
    op.execute("""
        INSERT INTO observation_facts (country, region_id, period_id, crime_type_id, indicator_id,
                                       value, obs_status, source_row, submission_id,
                                       superseded_by, coverage)
        SELECT o.country, r.id, p.id, c.id, i.id, o.value, o.obs_status, o.source_row,
               o.submission_id, o.superseded_by, o.coverage
        FROM observations AS o
        JOIN regions AS r ON r.code = o.region
        JOIN periods AS p ON p.code = o.period
        JOIN crime_types AS c ON c.code = o.crime_type
        JOIN indicators AS i ON i.code = o.indicator
        ORDER BY o.id""")
    op.drop_table("observations")  # with its indexes (index names are shared by all tables)
    op.create_index("uq_obs_current", "observation_facts",
                    ["country", "region_id", "period_id", "crime_type_id", "indicator_id"],
                    unique=True, sqlite_where=sa.text("superseded_by IS NULL"),
                    postgresql_where=sa.text("superseded_by IS NULL"))
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW observations")
    op.drop_index("uq_obs_current", "observation_facts")
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("crime_type", sa.String(8), nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("obs_status", sa.String(1), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("superseded_by", sa.String(32), nullable=True),
        sa.Column("coverage", sa.String(40), nullable=True))
    op.execute("""
        INSERT INTO observations (submission_id, country, region, period, crime_type, indicator,
                                  value, obs_status, source_row, superseded_by, coverage)
        SELECT f.submission_id, f.country, r.code, p.code, c.code, i.code, f.value, f.obs_status,
               f.source_row, f.superseded_by, f.coverage
        FROM observation_facts AS f
        JOIN regions AS r ON r.id = f.region_id
        JOIN periods AS p ON p.id = f.period_id
        JOIN crime_types AS c ON c.id = f.crime_type_id
        JOIN indicators AS i ON i.id = f.indicator_id""")
    op.create_index("ix_obs_slice", "observations", ["country", "period", "crime_type"])
    op.create_index("uq_obs_current", "observations", ["region", "period", "crime_type", "indicator"],
                    unique=True, sqlite_where=sa.text("superseded_by IS NULL"),
                    postgresql_where=sa.text("superseded_by IS NULL"))
    op.drop_table("observation_facts")  # with its partitions
    for table in ("indicators", "crime_types", "periods", "regions"):
        op.drop_table(table)
