from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ideal.store.models import Base, include_object


def test_migrations_and_models_describe_the_same_schema(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(
            conn, opts={"include_object": include_object}), Base.metadata) == []
