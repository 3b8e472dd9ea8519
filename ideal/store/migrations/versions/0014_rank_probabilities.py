"""methodology v4 beside each score: the probabilities of ranking first, in the top 10 and in
the top 15 over the data draws, and whether the unit's indicator is enforcement-driven

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        batch.add_column(sa.Column("p_first", sa.Float(), nullable=True))
        batch.add_column(sa.Column("p_top10", sa.Float(), nullable=True))
        batch.add_column(sa.Column("p_top15", sa.Float(), nullable=True))
        batch.add_column(sa.Column("enforcement", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        batch.drop_column("enforcement")
        batch.drop_column("p_top15")
        batch.drop_column("p_top10")
        batch.drop_column("p_first")
