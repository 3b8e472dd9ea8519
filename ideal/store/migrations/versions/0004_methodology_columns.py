"""pillars, reliability and rank intervals in threat_scores; seed, code version and run facts

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCORE_COLUMNS = [
    ("status", sa.String(length=20)), ("data_year", sa.Integer()), ("imputed", sa.Boolean()),
    ("magnitude", sa.Float()), ("trend", sa.Float()), ("harm", sa.Float()), ("spread", sa.Float()),
    ("coverage", sa.Float()), ("reliability", sa.Float()), ("rank", sa.Float()),
    ("rank_median", sa.Float()), ("rank_p5", sa.Float()), ("rank_p95", sa.Float()),
]


def upgrade() -> None:
    with op.batch_alter_table("threat_scores") as batch:
        for name, kind in SCORE_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.alter_column("score", existing_type=sa.Float(), nullable=True)
        batch.alter_column("level", existing_type=sa.String(length=16), nullable=True)
    with op.batch_alter_table("assessment_runs") as batch:
        batch.add_column(sa.Column("seed", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("code_version", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("info", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_runs") as batch:
        for name in ("info", "code_version", "seed"):
            batch.drop_column(name)
    with op.batch_alter_table("threat_scores") as batch:
        for name, _ in reversed(SCORE_COLUMNS):
            batch.drop_column(name)
