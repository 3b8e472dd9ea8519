"""resubmission attempts (the same bytes read with other options), partial-period coverage,
the rows each finding stands for, how a score's partial year and population were treated

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("reading", sa.String(length=300), nullable=False, server_default=""))
        batch.add_column(sa.Column("attempt_of", sa.String(length=32), nullable=True))
        batch.drop_index("uq_submission_country_sha")
        batch.create_index("uq_submission_country_sha", ["country", "sha256", "reading"], unique=True)
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("coverage", sa.String(length=40), nullable=True))
    with op.batch_alter_table("validation_results") as batch:
        batch.add_column(sa.Column("rows", sa.Integer(), nullable=True))
    with op.batch_alter_table("threat_scores") as batch:
        batch.add_column(sa.Column("partial", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("population_method", sa.String(length=16), nullable=True))
        for pillar in ("magnitude", "trend", "harm", "spread"):
            batch.add_column(sa.Column(f"contrib_{pillar}", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        for pillar in ("magnitude", "trend", "harm", "spread"):
            batch.drop_column(f"contrib_{pillar}")
        batch.drop_column("population_method")
        batch.drop_column("partial")
    with op.batch_alter_table("validation_results") as batch:
        batch.drop_column("rows")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("coverage")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("uq_submission_country_sha")
        batch.create_index("uq_submission_country_sha", ["country", "sha256"], unique=True)
        batch.drop_column("attempt_of")
        batch.drop_column("reading")
