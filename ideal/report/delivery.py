"""Sending briefings to the distribution list by SMTP, once per recipient, run and language.

The list is a YAML file (IDEAL_DISTRIBUTION, default $IDEAL_HOME/distribution.yaml):

    recipients:
      - {email: despacho@seguridad.gob.mx, country: MX, language: es}

SMTP settings: IDEAL_SMTP_HOST, IDEAL_SMTP_PORT (25), IDEAL_SMTP_FROM, IDEAL_SMTP_USER and
IDEAL_SMTP_PASSWORD (optional, with STARTTLS when IDEAL_SMTP_STARTTLS=1). A failed send is
retried with backoff; running the delivery again sends only what was not sent yet.
"""

from __future__ import annotations

import os
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import yaml
from sqlalchemy import Engine, insert, select, update

from ideal.config import get_settings
from ideal.errors import ConfigError, ReportError
from ideal.store import audit
from ideal.store.models import AssessmentRun, Delivery, Report


@dataclass
class Outcome:
    recipient: str
    language: str
    status: str  # sent | already sent | failed | skipped
    detail: str = ""


def distribution(path: Path | None = None) -> list[dict]:
    path = path or Path(os.environ.get("IDEAL_DISTRIBUTION", get_settings().home / "distribution.yaml"))
    if not path.exists():
        raise ConfigError(f"no distribution list at {path}; write one (see ideal/report/delivery.py) "
                          "or set IDEAL_DISTRIBUTION.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for i, r in enumerate(data.get("recipients") or [], 1):
        if not isinstance(r, dict) or "@" not in str(r.get("email", "")):
            raise ConfigError(f"{path}: recipient {i} needs an e-mail address.")
        out.append({"email": str(r["email"]), "language": str(r.get("language", "es")),
                    "country": r.get("country")})
    return out


def _message(run_id: str, period: str, pdf: Path, to: str, language: str) -> EmailMessage:
    msg = EmailMessage()
    subjects = {"es": "Evaluación de amenazas", "pt": "Avaliação de ameaças", "en": "Threat assessment"}
    msg["Subject"] = f"IDEAL · {subjects.get(language, subjects['en'])} {period} ({run_id})"
    msg["From"] = os.environ.get("IDEAL_SMTP_FROM", "ideal@localhost")
    msg["To"] = to
    msg.set_content(f"IDEAL briefing {period}, run {run_id}.")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return msg


def _send(msg: EmailMessage) -> None:
    host = os.environ.get("IDEAL_SMTP_HOST")
    if not host:
        raise ConfigError("IDEAL_SMTP_HOST is not set; cannot deliver briefings.")
    with smtplib.SMTP(host, int(os.environ.get("IDEAL_SMTP_PORT", "25")), timeout=30) as smtp:
        if os.environ.get("IDEAL_SMTP_STARTTLS") == "1":
            smtp.starttls()
        if os.environ.get("IDEAL_SMTP_USER"):
            smtp.login(os.environ["IDEAL_SMTP_USER"], os.environ.get("IDEAL_SMTP_PASSWORD", ""))
        smtp.send_message(msg)


def deliver(engine: Engine, run_id: str, recipients: list[dict], attempts: int = 3,
            backoff: float = 2.0) -> list[Outcome]:
    """Send the run's briefing to each recipient in their language, once."""
    with engine.connect() as conn:
        reports = {r.language: r for r in conn.execute(
            select(Report.language, Report.path, Report.run_id).where(Report.run_id == run_id,
                                                                       Report.kind == "briefing"))}
        sent = {(d.recipient, d.language) for d in conn.execute(
            select(Delivery.recipient, Delivery.language).where(Delivery.run_id == run_id,
                                                                Delivery.status == "sent"))}
        period = conn.execute(select(AssessmentRun.period).where(AssessmentRun.id == run_id)).scalar()
    if not reports:
        raise ReportError(f"run {run_id} has no rendered briefing; run `ideal report --run {run_id}` first.")
    outcomes = []
    for r in recipients:
        to, lang = r["email"], r["language"]
        if (to, lang) in sent:
            outcomes.append(Outcome(to, lang, "already sent"))
            continue
        report = reports.get(lang)
        if report is None:
            outcomes.append(Outcome(to, lang, "skipped", f"no briefing in {lang!r} for this run"))
            audit.log(engine, actor=audit.current_actor("delivery"), action="delivery.skipped",
                      outcome="refused", object_id=run_id, country=r.get("country"),
                      detail=f"{to}: no briefing in {lang}")
            continue
        pdf = Path(report.path)
        msg = _message(run_id, period or "", pdf, to, lang)
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                _send(msg)
                error = ""
                break
            except ConfigError:
                raise
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt < attempts:
                    time.sleep(backoff * 2 ** (attempt - 1))
        status = "failed" if error else "sent"
        with engine.begin() as conn:
            existing = conn.execute(select(Delivery.id, Delivery.attempts).where(
                Delivery.run_id == run_id, Delivery.recipient == to, Delivery.language == lang)).first()
            values = dict(status=status, at=datetime.now(timezone.utc), detail=error or None)
            if existing:
                conn.execute(update(Delivery.__table__).where(Delivery.id == existing.id)
                             .values(attempts=existing.attempts + attempt, **values))
            else:
                conn.execute(insert(Delivery.__table__).values(run_id=run_id, recipient=to,
                                                               language=lang, attempts=attempt, **values))
            audit.record(conn, actor=audit.current_actor("delivery"), action=f"delivery.{status}",
                         outcome="ok" if status == "sent" else "error", object_id=run_id,
                         country=r.get("country"), detail=f"{to} ({lang}) after {attempt} attempt(s) {error}".strip())
        outcomes.append(Outcome(to, lang, status, error))
    return outcomes
