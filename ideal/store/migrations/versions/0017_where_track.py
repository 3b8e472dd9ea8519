"""methodology v5's WHERE track beside each score: the exceedance threshold (k x the members'
median regional rate), P(exceed), P(rising), hotspot and rising, and the 90 % interval of the
modelled rate (the recorded rate stays the headline)

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = [("exceed_threshold", sa.Float()), ("p_exceed", sa.Float()), ("p_rising", sa.Float()),
           ("hotspot", sa.Boolean()), ("rising", sa.Boolean()), ("rate_p5", sa.Float()), ("rate_p95", sa.Float())]


def upgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
