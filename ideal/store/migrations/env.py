"""Alembic environment: the engine is handed in by ideal.store.db (config.attributes)."""

from alembic import context

from ideal.store.models import Base, include_object

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line: build the engine from IDEAL_DATABASE_URL
    from ideal.store.db import make_engine

    engine = make_engine()

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
