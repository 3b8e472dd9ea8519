"""Where the project's own non-Python files live (sql/, templates/)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = Path(os.environ.get("IDEAL_SQL_DIR", ROOT / "sql"))
TEMPLATES_DIR = Path(os.environ.get("IDEAL_TEMPLATES_DIR", ROOT / "templates"))


def sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
