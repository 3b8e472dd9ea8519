"""Engine creation and schema migration (Alembic) for the warehouse."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from ideal.config import get_settings
from ideal.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def to_frame(result, columns: list[str] | None = None) -> pd.DataFrame:
    """A query's rows as a frame, built column by column (pandas' constructor inspects every
    SQLAlchemy Row one at a time: several times slower for thousands of rows)."""
    columns = columns or list(result.keys())
    rows = result.all()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, (list(c) for c in zip(*rows, strict=True)), strict=True)))


def make_engine(url: str | None = None, pool_size: int = 5) -> Engine:
    """Engine for ``url`` (default IDEAL_DATABASE_URL, else SQLite under var/). SQLite in WAL
    mode with a busy timeout, so concurrent writers wait for each other instead of failing;
    PostgreSQL with a pool of ``pool_size`` connections (and as many again on demand)."""
    url = url or get_settings().database_url
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"IDEAL_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=pool_size,
                             max_overflow=pool_size)
    raise ConfigError(
        f"IDEAL_DATABASE_URL uses {parsed.get_backend_name()!r}; IDEAL supports sqlite and postgresql."
    )


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to the newest migration (or to ``revision``); returns the revision now
    in force."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    command.upgrade(alembic_config(engine), revision)
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("submissions")
