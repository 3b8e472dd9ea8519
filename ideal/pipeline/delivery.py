"""Sending a run's briefings to the distribution list by SMTP: once per recipient, run and
language; a failed send is retried with backoff; running the delivery again sends only what
was not sent yet."""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from ideal.errors import ConfigError, ReportError
from ideal.report.delivery import message
from ideal.services import Mailer
from ideal.store import audit, reports, runs


@dataclass
class Outcome:
    recipient: str
    language: str
    status: str  # sent | already sent | failed | skipped
    detail: str = ""


def deliver(engine: Engine, run_id: str, recipients: list[dict], attempts: int = 3,
            backoff: float = 2.0, mailer: Mailer | None = None) -> list[Outcome]:
    """Send the run's briefing to each recipient in their language, once."""
    mailer = mailer or Mailer()
    if not mailer.configured:
        raise ConfigError("IDEAL_SMTP_HOST is not set; cannot deliver briefings.")
    files = reports.briefings(engine, run_id)
    if not files:
        raise ReportError(f"run {run_id} has no rendered briefing; run `ideal report --run {run_id}` first.")
    period = runs.load(engine, run_id)[0]["period"]
    done = reports.sent(engine, run_id)
    actor = audit.current_actor("delivery")
    outcomes = []
    for r in recipients:
        to, lang = r["email"], r["language"]
        if (to, lang) in done:
            outcomes.append(Outcome(to, lang, "already sent"))
            continue
        pdf = files.get(lang)
        if pdf is None:
            outcomes.append(Outcome(to, lang, "skipped", f"no briefing in {lang!r} for this run"))
            audit.log(engine, actor=actor, action="delivery.skipped", outcome="refused",
                      object_id=run_id, country=r.get("country"), detail=f"{to}: no briefing in {lang}")
            continue
        msg = message(mailer.message(to, "IDEAL", f"IDEAL briefing {period}, run {run_id}."),
                      run_id, period or "", pdf, lang)
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                mailer.send(msg)
                error = ""
                break
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt < attempts:
                    time.sleep(backoff * 2 ** (attempt - 1))
        status = "failed" if error else "sent"
        reports.record_delivery(engine, run_id, to, lang, status, attempt, error, actor,
                                r.get("country"))
        outcomes.append(Outcome(to, lang, status, error))
    return outcomes
