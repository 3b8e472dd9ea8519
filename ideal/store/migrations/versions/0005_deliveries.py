"""deliveries of briefings by e-mail

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["assessment_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deliveries_run_id", "deliveries", ["run_id"])
    op.create_index("uq_delivery", "deliveries", ["run_id", "recipient", "language"], unique=True)


def downgrade() -> None:
    op.drop_table("deliveries")
