"""The landing folder: stewards (or their systems) drop files in inbox/<CC>/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from ideal.config import Settings, get_settings
from ideal.ingest.submit import Receipt, submit_file


def pending(settings: Settings | None = None) -> list[tuple[str, Path]]:
    """(country, path) of every file waiting in the inbox, oldest folder order first."""
    settings = settings or get_settings()
    out = []
    for cc in settings.members:
        folder = settings.inbox_dir / cc
        if folder.is_dir():
            out += [(cc, p) for p in sorted(folder.iterdir())
                    if p.is_file() and not p.name.startswith(".")]
    return out


def ingest_one(country: str, path: Path, engine: Engine,
               settings: Settings | None = None) -> Receipt:
    """Submit one inbox file and remove it from the inbox once recorded (the raw file is in
    the archive)."""
    receipt = submit_file(path, country, engine, channel="inbox", settings=settings)
    path.unlink(missing_ok=True)
    return receipt


def ingest_inbox(engine: Engine, settings: Settings | None = None,
                 progress: Callable[[int, int, Receipt], None] | None = None) -> Iterator[Receipt]:
    items = pending(settings)
    for i, (cc, path) in enumerate(items, 1):
        receipt = ingest_one(cc, path, engine, settings)
        if progress:
            progress(i, len(items), receipt)
        yield receipt
