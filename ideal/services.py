"""The external systems IDEAL talks to, each built in one place from the settings: the
warehouse engine, the mail server, Airflow's REST API. Tests use the real ones where they can
run here (SQLite and the local PostgreSQL, an SMTP server on loopback, a real Airflow)."""

from __future__ import annotations

import os
import smtplib
import threading
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy import Engine

from ideal.config import Settings, get_settings
from ideal.errors import ConfigError, IdealError, UpstreamError
from ideal.store import is_initialised, make_engine, upgrade

ASSESS_DAG = "ideal_assess"
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine(settings: Settings | None = None, migrate: bool = True) -> Engine:
    """The warehouse engine of IDEAL_DATABASE_URL, migrated to the newest schema (with
    ``migrate=False`` a new warehouse is refused instead of created); one per database and
    process, so its connection pool is shared by the threads of a server."""
    settings = settings or get_settings()
    url = settings.database_url
    with _engines_lock:
        eng = _engines.get(url)
        if eng is None:
            eng = make_engine(url, pool_size=settings.db_pool_size)
            if migrate:
                upgrade(eng)  # to the newest schema: a no-op when it is there already
            elif not is_initialised(eng):
                eng.dispose()
                raise IdealError("the warehouse is not initialised; run `ideal init` first.")
            _engines[url] = eng
    return eng


def reset() -> None:
    """Forget the engines (tests that drop a database; a forked child, which must not use
    its parent's connections)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose(close=False)
        _engines.clear()


os.register_at_fork(after_in_child=reset)


class Mailer:
    """SMTP with optional STARTTLS and login, as configured by IDEAL_SMTP_*."""

    def __init__(self, settings: Settings | None = None, timeout: float = 30):
        self.smtp = (settings or get_settings()).smtp
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.smtp.host)

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, self.smtp.sender, to
        msg.set_content(body)
        return msg

    def send(self, msg: EmailMessage) -> None:
        if not self.smtp.host:
            raise ConfigError("IDEAL_SMTP_HOST is not set; cannot send mail.")
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.timeout) as smtp:
            if self.smtp.starttls:
                smtp.starttls()
            if self.smtp.user:
                smtp.login(self.smtp.user, self.smtp.password)
            smtp.send_message(msg)


class AirflowClient:
    """Airflow 3 REST v2 with a JWT from /auth/token (simple auth manager or compatible)."""

    def __init__(self, base_url: str, username: str | None, password: str | None,
                 timeout: float = 30):
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        try:
            if username:
                r = self.http.post(f"{self.base}/auth/token", timeout=timeout,
                                   json={"username": username, "password": password or ""})
            else:  # simple_auth_manager_all_admins
                r = self.http.get(f"{self.base}/auth/token", timeout=timeout)
        except requests.RequestException as exc:
            raise UpstreamError(f"Airflow at {self.base} cannot be reached ({exc}); check "
                                "IDEAL_AIRFLOW_URL.") from exc
        if r.status_code not in (200, 201):
            raise UpstreamError(f"Airflow refused the login ({r.status_code}); check "
                                "IDEAL_AIRFLOW_USER and IDEAL_AIRFLOW_PASSWORD.")
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def _call(self, method: str, path: str, **kw) -> dict:
        r = self.http.request(method, f"{self.base}/api/v2{path}", timeout=self.timeout, **kw)
        if r.status_code >= 400:
            json_body = r.headers.get("content-type", "").startswith("application/json")
            detail = r.json().get("detail") if json_body else r.text
            raise UpstreamError(f"Airflow refused {method} {path} ({r.status_code}): {detail}")
        return r.json()

    def trigger(self, dag_id: str, conf: dict) -> dict:
        return self._call("POST", f"/dags/{dag_id}/dagRuns",
                          json={"logical_date": None, "conf": conf})

    def runs(self, dag_id: str, limit: int = 10) -> list[dict]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns",
                          params={"limit": limit, "order_by": "-start_date"})["dag_runs"]

    def set_note(self, dag_id: str, run_id: str, note: str) -> dict:
        """The run's note (shown on the run's page in the UI; at most 1000 characters)."""
        return self._call("PATCH", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}",
                          params={"update_mask": "note"}, json={"note": note})

    def link(self, dag_id: str, run_id: str) -> str:
        return f"{self.base}/dags/{dag_id}/runs/{run_id}"


def airflow(settings: Settings | None = None) -> AirflowClient | None:
    """Airflow's REST API when IDEAL_AIRFLOW_URL is set, else None (work runs locally)."""
    cfg = (settings or get_settings()).airflow
    return AirflowClient(cfg.url, cfg.user, cfg.password) if cfg.url else None
