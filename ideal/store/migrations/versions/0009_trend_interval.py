"""the modelled measurement beside each score: the smoothed rate the magnitude reads, the
trend's yearly change and the standard error of its log-linear slope (its interval)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        batch.add_column(sa.Column("rate_model", sa.Float(), nullable=True))
        batch.add_column(sa.Column("trend_change", sa.Float(), nullable=True))
        batch.add_column(sa.Column("trend_se", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        batch.drop_column("trend_se")
        batch.drop_column("trend_change")
        batch.drop_column("rate_model")
