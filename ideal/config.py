"""Every IDEAL_* setting, read here and nowhere else, with working defaults under var/.

Read fresh on every call to :func:`get_settings`, so a test or an Airflow task that
changes the environment sees the change. This module stays cheap to import (the DAG files
use it at parse time): no pandas, no SQLAlchemy.

| variable | meaning | default |
| --- | --- | --- |
| IDEAL_HOME | folder of the embedded installation | var |
| IDEAL_DATA_DIR | archive, inbox, quarantine, feedback | $IDEAL_HOME/data |
| IDEAL_DATABASE_URL | the warehouse (sqlite or postgresql) | SQLite in $IDEAL_HOME |
| IDEAL_DB_POOL_SIZE | PostgreSQL connections kept per process | 5 |
| IDEAL_JOB_SECONDS | a portal/API job's wall-clock limit (stopped and failed after) | 3600 |
| IDEAL_JOB_MEMORY_MB | a portal/API job's address-space limit | 8192 |
| IDEAL_JOBS_PER_ACCOUNT | jobs one account may have queued or running at once | 2 |
| IDEAL_REPORTS_DIR | where briefings are written | reports |
| IDEAL_MEMBERS | member countries (ISO alpha-2) | the 18 CLASI members |
| IDEAL_LANGUAGE | default language (es, pt, en) | es |
| IDEAL_CLASSIFICATION | the marking printed on briefings | the one set by `ideal init --marking` ($IDEAL_HOME/marking.txt); the demonstration marking in the demo's home; else none (said on page 1) |
| IDEAL_MAX_UPLOAD_MB | size limit of one submitted file | 100 |
| IDEAL_READ_SECONDS | wall-clock limit of reading one submitted file (a child process, stopped after) | 120 |
| IDEAL_READ_MEMORY_MB | memory the reading of one file may take beyond its server process | 2048 |
| IDEAL_INBOX_SETTLE_SECONDS | a landing-folder file must be unchanged this long | 2 |
| IDEAL_STALE_MINUTES | a submission 'received' this long was interrupted | 30 |
| IDEAL_DEMO_HOME | where `ideal demo` keeps its own warehouse and folders | $IDEAL_HOME/demo |
| IDEAL_DEMO_DATABASE_URL | the demo's warehouse, if not SQLite in IDEAL_DEMO_HOME | none |
| IDEAL_PROFILES_DIR | installed crosswalk profiles (found before the shipped ones) | $IDEAL_HOME/profiles |
| IDEAL_CHECKS | YAML overriding the plausibility checks' settings | none |
| IDEAL_DISTRIBUTION | distribution list of the briefings | $IDEAL_HOME/distribution.yaml |
| IDEAL_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD, _STARTTLS | the mail server | none, 25 |
| IDEAL_ANALYSTS | who is mailed when a pipeline task fails | none |
| IDEAL_AIRFLOW_URL, _USER, _PASSWORD | Airflow's REST API for triggers | none: run locally |
| IDEAL_SECRET_KEY | signs what the server signs (sessions are kept on the server) | a random key in $IDEAL_HOME |
| IDEAL_TRUSTED_PROXIES | reverse proxies whose X-Forwarded-For is believed (comma-separated addresses) | none: the socket's peer |
| IDEAL_PUBLIC_URL, IDEAL_HTTPS | the portal is served over https | no |
| IDEAL_WORKERS | portal server processes | the number of cores |
| IDEAL_UPLOAD_SLOTS | uploads validated at once per server process (others wait) | 2 |
| IDEAL_ACTOR | who acts, in the audit log (set by the portal and Airflow) | channel:os-user |
| IDEAL_NEW_PASSWORD | password for `ideal user add/password` without a prompt | none |
| IDEAL_SQL_DIR, IDEAL_TEMPLATES_DIR | the project's sql/ and templates/ | beside the package |
| IDEAL_FAULT_HOLD_LOAD | test only: the loader waits inside its transaction (crash tests) | none |
| IDEAL_TOKEN | `ideal submit --token` | none |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ideal.errors import ConfigError

DEFAULT_MEMBERS = "AR BO BR CL CO CR DO EC SV GT HN MX NI PA PY PE UY VE".split()
ROOT = Path(__file__).resolve().parent.parent
_LANGUAGES = ("es", "pt", "en")  # ideal.contracts.LANGUAGES (not imported: pandas)


@dataclass(frozen=True)
class Smtp:
    host: str | None = None
    port: int = 25
    sender: str = "ideal@localhost"
    user: str | None = None
    password: str = ""
    starttls: bool = False
    analysts: str | None = None  # who hears of failed pipeline tasks


@dataclass(frozen=True)
class Airflow:
    url: str | None = None
    user: str | None = None
    password: str | None = None


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
    read_seconds: float = 120.0    # reading one submitted file: wall-clock limit
    read_memory_mb: int = 2048     # and memory beyond what its process already has
    inbox_settle_seconds: float = 2.0
    stale_minutes: float = 30.0
    checks_path: str | None = None
    distribution_path: Path | None = None
    smtp: Smtp = field(default_factory=Smtp)
    airflow: Airflow = field(default_factory=Airflow)
    secret_key: str | None = None
    trusted_proxies: str = ""
    public_url: str = ""
    https: bool = False
    workers: int = 1
    upload_slots: int = 2
    job_seconds: int = 3600        # a portal/API job's wall-clock limit
    job_memory_mb: int = 8192      # its address-space limit
    jobs_per_account: int = 2      # jobs one account may have queued or running at once
    db_pool_size: int = 5
    actor: str | None = None
    new_password: str | None = None
    fault_hold_load: str | None = None
    profiles_dir: Path = Path("var/profiles")

    def public_link(self, path: str) -> str | None:
        """The portal's address of a page (IDEAL_PUBLIC_URL + ``path``), or None when unset."""
        return f"{self.public_url.rstrip('/')}{path}" if self.public_url else None

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

    @property
    def feedback_dir(self) -> Path:
        return self.data_dir / "feedback"


def _codes(raw: str | None) -> list[str]:
    return [c.strip().upper() for c in raw.replace(",", " ").split() if c.strip()] if raw else []


def member_codes() -> list[str]:
    """IDEAL_MEMBERS as written (checked fully by get_settings); for the DAGs' trigger form,
    which must not import pycountry at parse time."""
    return _codes(os.environ.get("IDEAL_MEMBERS")) or list(DEFAULT_MEMBERS)


def language_code() -> str:
    """IDEAL_LANGUAGE as written, es when unset or not supported (checked fully by
    get_settings); for the DAGs' trigger form, which must stay light to parse."""
    value = (os.environ.get("IDEAL_LANGUAGE") or "es").strip()
    return value if value in _LANGUAGES else "es"


def _members(raw: str | None) -> tuple[str, ...]:
    codes = _codes(raw)
    if not codes:
        return tuple(DEFAULT_MEMBERS)
    import pycountry  # here, so that reading settings stays cheap

    bad = [c for c in codes if pycountry.countries.get(alpha_2=c) is None]
    if bad:
        raise ConfigError(
            f"IDEAL_MEMBERS has codes that are not ISO 3166-1 alpha-2: {', '.join(bad)}. "
            "Use two-letter country codes separated by spaces or commas, e.g. 'MX CO AR'."
        )
    return tuple(dict.fromkeys(codes))


def _text(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


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


def _whole(name: str, default: int, least: int = 1) -> int:
    value = _number(name, default)
    if value != int(value) or value < least:
        raise ConfigError(f"{name} must be a whole number of at least {least}.")
    return int(value)


def use_demo_home() -> Path:
    """`ideal demo` works in a home of its own (IDEAL_DEMO_HOME, default $IDEAL_HOME/demo) with
    its own SQLite warehouse (or IDEAL_DEMO_DATABASE_URL), so generated rows never mix with a
    country's real submissions in the warehouse of IDEAL_DATABASE_URL. Switches this process."""
    home = Path(_text("IDEAL_DEMO_HOME") or str(Path(_text("IDEAL_HOME", "var")) / "demo"))
    os.environ["IDEAL_HOME"] = str(home)
    os.environ.pop("IDEAL_DATA_DIR", None)
    url = _text("IDEAL_DEMO_DATABASE_URL")
    if url:
        os.environ["IDEAL_DATABASE_URL"] = url
    else:
        os.environ.pop("IDEAL_DATABASE_URL", None)
    return home


DEFAULT_CLASSIFICATION = "USO OFICIAL - DOCUMENTO DE DEMOSTRACIÓN"
MARKING_FILE = "marking.txt"  # in IDEAL_HOME: the marking `ideal init --marking` set


def _marking_file(home: Path) -> str:
    """The marking set at `ideal init` for this home; "" when none was set."""
    try:
        return (home / MARKING_FILE).read_text(encoding="utf-8").strip()[:200]
    except OSError:
        return ""


def set_marking(home: Path, text: str) -> None:
    """Keep the marking of this installation (`ideal init --marking`, the demo's home)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKING_FILE).write_text(text.strip()[:200] + "\n", encoding="utf-8")


def get_settings() -> Settings:
    home = Path(_text("IDEAL_HOME", "var"))
    data_dir = Path(_text("IDEAL_DATA_DIR", str(home / "data")))
    language = _text("IDEAL_LANGUAGE", "es")
    if language not in _LANGUAGES:
        raise ConfigError(f"IDEAL_LANGUAGE={language!r} is not supported; use es, en or pt.")
    public_url = _text("IDEAL_PUBLIC_URL", "")
    return Settings(
        home=home,
        database_url=_text("IDEAL_DATABASE_URL") or f"sqlite:///{home / 'ideal.db'}",
        data_dir=data_dir,
        reports_dir=Path(_text("IDEAL_REPORTS_DIR", "reports")),
        members=_members(os.environ.get("IDEAL_MEMBERS")),
        language=language,
        classification=_text("IDEAL_CLASSIFICATION") or _marking_file(home),
        max_upload_bytes=int(_number("IDEAL_MAX_UPLOAD_MB", 100) * 2**20),
        read_seconds=_number("IDEAL_READ_SECONDS", 120.0),
        read_memory_mb=_whole("IDEAL_READ_MEMORY_MB", 2048, least=64),
        inbox_settle_seconds=_number("IDEAL_INBOX_SETTLE_SECONDS", 2.0),
        stale_minutes=_number("IDEAL_STALE_MINUTES", 30.0),
        checks_path=_text("IDEAL_CHECKS"),
        distribution_path=Path(_text("IDEAL_DISTRIBUTION", str(home / "distribution.yaml"))),
        smtp=Smtp(host=_text("IDEAL_SMTP_HOST"), port=_whole("IDEAL_SMTP_PORT", 25),
                  sender=_text("IDEAL_SMTP_FROM", "ideal@localhost"),
                  user=_text("IDEAL_SMTP_USER"), password=_text("IDEAL_SMTP_PASSWORD", ""),
                  starttls=_flag("IDEAL_SMTP_STARTTLS"), analysts=_text("IDEAL_ANALYSTS")),
        airflow=Airflow(url=_text("IDEAL_AIRFLOW_URL"), user=_text("IDEAL_AIRFLOW_USER"),
                        password=_text("IDEAL_AIRFLOW_PASSWORD")),
        secret_key=_text("IDEAL_SECRET_KEY"),
        public_url=public_url,
        trusted_proxies=",".join(a.strip() for a in (_text("IDEAL_TRUSTED_PROXIES") or "").split(",") if a.strip()),
        https=public_url.startswith("https://") or _flag("IDEAL_HTTPS"),
        workers=_whole("IDEAL_WORKERS", os.cpu_count() or 1),
        upload_slots=_whole("IDEAL_UPLOAD_SLOTS", 2),
        job_seconds=_whole("IDEAL_JOB_SECONDS", 3600),
        job_memory_mb=_whole("IDEAL_JOB_MEMORY_MB", 8192, least=256),
        jobs_per_account=_whole("IDEAL_JOBS_PER_ACCOUNT", 2),
        db_pool_size=_whole("IDEAL_DB_POOL_SIZE", 5),
        actor=_text("IDEAL_ACTOR"),
        new_password=_text("IDEAL_NEW_PASSWORD"),
        fault_hold_load=_text("IDEAL_FAULT_HOLD_LOAD"),
        profiles_dir=Path(_text("IDEAL_PROFILES_DIR", str(home / "profiles"))),
    )


# the project's own non-Python files (sql/, templates/)
SQL_DIR = Path(_text("IDEAL_SQL_DIR", str(ROOT / "sql")))
TEMPLATES_DIR = Path(_text("IDEAL_TEMPLATES_DIR", str(ROOT / "templates")))


def sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def one_math_thread() -> None:
    """A server runs as many processes as cores, each serving many requests: numerical
    libraries must not start threads of their own (OpenBLAS's spin and take the other
    processes' cores). Set before numpy is imported by the server's processes."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def secret_key(settings: Settings | None = None) -> str:
    """IDEAL_SECRET_KEY, else a random key kept in $IDEAL_HOME/secret_key (made once, mode
    0600; written whole under a temporary name and linked into place, so server processes
    starting together all read the one key that won)."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def quiet_third_parties() -> None:
    """Great Expectations sends no analytics (no network here) unless told otherwise."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def server_options(settings: Settings | None = None) -> dict:
    """uvicorn's options for the client address: X-Forwarded-For (and -Proto) are believed
    only from IDEAL_TRUSTED_PROXIES; without, the socket's peer is the client, whatever the
    headers say (else anyone could pick the address the login lock records and locks)."""
    trusted = (settings or get_settings()).trusted_proxies
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}
