"""Telling the analysts that something failed: the audit log always, and e-mail when SMTP is
configured (IDEAL_SMTP_* and IDEAL_ANALYSTS)."""

from __future__ import annotations

import logging
import smtplib

from ideal.config import get_settings
from ideal.services import Mailer, engine
from ideal.store import audit

log = logging.getLogger("ideal.notify")


def task_failed(*, dag_id: str, task_id: str, run_id: str, error: str) -> bool:
    """Record the failure and mail the analysts; returns True when a mail was sent."""
    detail = f"{dag_id}.{task_id} in run {run_id} failed: {error[:1500]}"
    log.error(detail)
    try:
        audit.log(engine(), actor="airflow", action="airflow.task_failed", outcome="error",
                  object_id=run_id[:64], detail=detail)
    except Exception as exc:  # the notification must not hide the original failure
        log.error("could not write the audit log: %s", exc)
    settings = get_settings()
    mailer = Mailer(settings, timeout=20)
    if not (mailer.configured and settings.smtp.analysts):
        return False
    msg = mailer.message(settings.smtp.analysts, f"[IDEAL] {dag_id}.{task_id} failed",
                         detail + "\n\nThe task was retried before this message; see the Airflow UI.")
    try:
        mailer.send(msg)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not mail the analysts: %s", exc)
        return False
