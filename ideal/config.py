"""Settings from IDEAL_* environment variables, with working defaults under var/.

Read fresh on every call to :func:`get_settings`, so a test or an Airflow task that
changes the environment sees the change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ideal.errors import ConfigError

DEFAULT_MEMBERS = "AR BO BR CL CO CR DO EC SV GT HN MX NI PA PY PE UY VE".split()


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    data_dir: Path
    reports_dir: Path
    members: tuple[str, ...]
    language: str
    classification: str
    max_upload_bytes: int = 100 * 2**20
    inbox_settle_seconds: float = 2.0

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def processed_dir(self) -> Path:
        return self.data_dir / "processed"


def _members(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return tuple(DEFAULT_MEMBERS)
    codes = [c.strip().upper() for c in raw.replace(",", " ").split() if c.strip()]
    # imported here so that reading settings stays cheap
    import pycountry

    bad = [c for c in codes if pycountry.countries.get(alpha_2=c) is None]
    if bad:
        raise ConfigError(
            f"IDEAL_MEMBERS has codes that are not ISO 3166-1 alpha-2: {', '.join(bad)}. "
            "Use two-letter country codes separated by spaces or commas, e.g. 'MX CO AR'."
        )
    return tuple(dict.fromkeys(codes))


def get_settings() -> Settings:
    env = os.environ
    home = Path(env.get("IDEAL_HOME", "var"))
    data_dir = Path(env.get("IDEAL_DATA_DIR", str(home / "data")))
    db_url = env.get("IDEAL_DATABASE_URL") or f"sqlite:///{home / 'ideal.db'}"
    language = env.get("IDEAL_LANGUAGE", "es")
    if language not in ("es", "en", "pt"):
        raise ConfigError(f"IDEAL_LANGUAGE={language!r} is not supported; use es, en or pt.")
    return Settings(
        home=home,
        database_url=db_url,
        data_dir=data_dir,
        reports_dir=Path(env.get("IDEAL_REPORTS_DIR", "reports")),
        members=_members(env.get("IDEAL_MEMBERS")),
        language=language,
        classification=env.get("IDEAL_CLASSIFICATION", "USO OFICIAL - DOCUMENTO DE DEMOSTRACIÓN"),
        max_upload_bytes=int(_number("IDEAL_MAX_UPLOAD_MB", 100) * 2**20),
        inbox_settle_seconds=_number("IDEAL_INBOX_SETTLE_SECONDS", 2.0),
    )


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number.") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative.")
    return value
