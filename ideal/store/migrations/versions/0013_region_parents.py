"""municipalities as a second region level: each region code may have a parent (its first-level
region), which the assessment adds municipal rows up to. Codes already stored that are
municipalities of the reference list get their parent here.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = sa.Integer()  # as regions.id


def upgrade() -> None:
    # a plain ALTER TABLE on both backends (a batch copy on SQLite would break the view
    # observations, which reads regions)
    op.add_column("regions", sa.Column("parent_id", KEY, nullable=True))
    from ideal.store.load import set_region_parents

    set_region_parents(op.get_bind())


def downgrade() -> None:
    op.execute("ALTER TABLE regions DROP COLUMN parent_id")  # SQLite 3.35 and later too
