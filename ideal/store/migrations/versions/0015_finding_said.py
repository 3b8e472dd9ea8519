"""how each finding's message was said (its catalogue messages and values), so that the portal
shows it in the reader's language and not only in the submitting steward's

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("validation_results") as batch:
        batch.add_column(sa.Column("said", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("validation_results") as batch:
        batch.drop_column("said")
