"""Telling the analysts that something failed: the audit log always, and e-mail when SMTP is
configured (IDEAL_SMTP_HOST, IDEAL_SMTP_PORT, IDEAL_SMTP_FROM, IDEAL_ANALYSTS)."""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage

log = logging.getLogger("ideal.notify")


def task_failed(*, dag_id: str, task_id: str, run_id: str, error: str) -> bool:
    """Record the failure and mail the analysts; returns True when a mail was sent."""
    detail = f"{dag_id}.{task_id} in run {run_id} failed: {error[:1500]}"
    log.error(detail)
    try:
        from ideal.pipeline import engine
        from ideal.store import audit

        audit.log(engine(), actor="airflow", action="airflow.task_failed", outcome="error",
                  object_id=run_id[:64], detail=detail)
    except Exception as exc:  # the notification must not hide the original failure
        log.error("could not write the audit log: %s", exc)
    host, to = os.environ.get("IDEAL_SMTP_HOST"), os.environ.get("IDEAL_ANALYSTS")
    if not (host and to):
        return False
    msg = EmailMessage()
    msg["Subject"] = f"[IDEAL] {dag_id}.{task_id} failed"
    msg["From"] = os.environ.get("IDEAL_SMTP_FROM", "ideal@localhost")
    msg["To"] = to
    msg.set_content(detail + "\n\nThe task was retried before this message; see the Airflow UI.")
    try:
        with smtplib.SMTP(host, int(os.environ.get("IDEAL_SMTP_PORT", "25")), timeout=20) as smtp:
            smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not mail the analysts: %s", exc)
        return False
