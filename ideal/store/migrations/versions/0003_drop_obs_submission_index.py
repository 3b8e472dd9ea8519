"""drop the unused index on observations.submission_id (it slowed every bulk load)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.drop_index("ix_observations_submission_id")


def downgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.create_index("ix_observations_submission_id", ["submission_id"])
