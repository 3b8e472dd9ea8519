"""The warehouse: models, migrations, engine and loading."""

from ideal.store.db import is_initialised, make_engine, upgrade

__all__ = ["is_initialised", "make_engine", "upgrade"]
