"""The raw archive: every file a steward sends is kept, immutable, named by its sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_suffix(filename: str) -> str:
    """The file's extension, lower-cased and limited to letters and digits ('' if none)."""
    suffix = Path(filename).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""


def archive(data: bytes, country: str, filename: str, root: Path) -> Path:
    """Store ``data`` under ``root/<CC>/<sha256><ext>`` read-only; return its path.

    Written to a temporary file in the same folder and renamed, so a crash never leaves a
    half-written archive file. If the same bytes are already archived, nothing is written.
    """
    digest = sha256_bytes(data)
    folder = root / country
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}{safe_suffix(filename)}"
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
