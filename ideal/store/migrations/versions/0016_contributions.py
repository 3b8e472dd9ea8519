"""structured contributions on criminal markets (a second kind of submission) and the
severities a run gives each member x market (#49)

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SMALL = sa.SmallInteger()


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="data"))
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("region", sa.String(8), nullable=True),
        sa.Column("year", SMALL, nullable=False),
        sa.Column("round", SMALL, nullable=False),
        sa.Column("assessor", SMALL, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("severity", sa.Float(), nullable=False),
        sa.Column("trend", SMALL, nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("cross_border", sa.String(120), nullable=True),
        sa.Column("international", SMALL, nullable=True),
        sa.Column("violence", SMALL, nullable=True),
        sa.Column("corruption", SMALL, nullable=True),
        sa.Column("laundering", SMALL, nullable=True),
        sa.Column("adaptability", SMALL, nullable=True),
        sa.Column("confidence", sa.String(8), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_grade", sa.String(60), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_contributions_submission_id", "contributions", ["submission_id"])
    op.create_index("ix_contributions_country", "contributions", ["country"])
    op.create_index("ix_contribution_current", "contributions", ["country", "year", "current"])
    op.create_table(
        "market_severities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("assessment_runs.id"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("year", SMALL, nullable=False),
        sa.Column("severity", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("experts", sa.Float(), nullable=True),
        sa.Column("experts_q1", sa.Float(), nullable=True),
        sa.Column("experts_q3", sa.Float(), nullable=True),
        sa.Column("assessors", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("data", sa.Float(), nullable=True),
        sa.Column("data_basis", sa.String(16), nullable=True),
        sa.Column("data_series", sa.Integer(), nullable=False),
        sa.Column("agreement", sa.String(16), nullable=False),
        sa.Column("p_seven", sa.Float(), nullable=True),
    )
    op.create_index("ix_market_severities_run_id", "market_severities", ["run_id"])


def downgrade() -> None:
    op.drop_table("market_severities")
    op.drop_table("contributions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("kind")
