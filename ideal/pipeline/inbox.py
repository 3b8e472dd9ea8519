"""The landing folder: stewards (or their systems) drop files in inbox/<CC>/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from ideal import services
from ideal.config import Settings, get_settings
from ideal.errors import IdealError
from ideal.pipeline.recover import recover
from ideal.pipeline.submission import Receipt, submit_file
from ideal.store import audit, upgrade


def initialise(settings: Settings | None = None) -> tuple[Settings, Engine, str]:
    """`ideal init`: the data folders (a landing folder per member) and the warehouse at the
    newest schema; returns (settings, engine, schema revision)."""
    s = settings or get_settings()
    for folder in (s.archive_dir, s.inbox_dir, s.quarantine_dir, s.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for cc in s.members:
        (s.inbox_dir / cc).mkdir(exist_ok=True)
    eng = services.engine(s)
    return s, eng, upgrade(eng)


IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial", ".filepart")


def ready(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """A file is ready when it is not hidden, has no in-progress suffix, and has not changed
    for ``settle_seconds`` (a stable size: nobody is still writing it)."""
    if path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS) or not path.is_file():
        return False
    return (now if now is not None else time.time()) - path.stat().st_mtime >= settle_seconds


def pending(settings: Settings | None = None) -> list[tuple[str, Path]]:
    """(country, path) of every file ready in the inbox, in name order per country."""
    settings = settings or get_settings()
    out = []
    for cc in settings.members:
        folder = settings.inbox_dir / cc
        if folder.is_dir():
            out += [(cc, p) for p in sorted(folder.iterdir())
                    if ready(p, settings.inbox_settle_seconds)]
    return out


def ingest_one(country: str, path: Path, engine: Engine,
               settings: Settings | None = None) -> Receipt:
    """Submit one inbox file and remove it from the inbox once recorded (the raw file is in
    the archive). A file refused before it could be recorded (far over the size limit) is
    moved to quarantine/<CC>/ with a reason file next to it."""
    settings = settings or get_settings()
    try:
        receipt = submit_file(path, country, engine, channel="inbox", settings=settings)
    except IdealError as exc:
        folder = settings.quarantine_dir / country
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"refused-{int(time.time())}-{path.name}"
        shutil.move(str(path), target)
        target.with_name(target.name + ".reason.txt").write_text(f"reason: {exc}\n", encoding="utf-8")
        audit.log(engine, actor=audit.current_actor("inbox"), action="inbox.refused",
                  outcome="refused", country=country, detail=f"{path.name}: {exc}")
        return Receipt("-", country, path.name, "", "rejected", message=str(exc))
    path.unlink(missing_ok=True)
    return receipt


def ingest_inbox(engine: Engine, settings: Settings | None = None,
                 progress: Callable[[int, int, Receipt], None] | None = None) -> Iterator[Receipt]:
    """Retry what a crashed run left half-way, then process every ready inbox file."""
    yield from recover(engine, settings=settings)
    items = pending(settings)
    for i, (cc, path) in enumerate(items, 1):
        receipt = ingest_one(cc, path, engine, settings)
        if progress:
            progress(i, len(items), receipt)
        yield receipt
