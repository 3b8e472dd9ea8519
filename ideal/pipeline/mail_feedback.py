"""Stewards get the feedback of each submission by e-mail when SMTP is configured
(IDEAL_SMTP_*): one message per submission to each active steward of the country who has an
address (`ideal user email NAME ADDRESS`), in that steward's language, with the receipt
attached (and the CSV of every problem when there are any). A mail that cannot be sent is
recorded in the audit log and never changes the submission's outcome."""

from __future__ import annotations

import json
import logging
import smtplib

from sqlalchemy import Engine

from ideal.config import Settings, get_settings
from ideal.i18n import speaking, tr
from ideal.services import Mailer
from ideal.store import accounts, audit

log = logging.getLogger("ideal.mail")


def send(engine: Engine, receipt, settings: Settings | None = None) -> int:
    """Mail the receipt of a processed submission; returns how many messages were sent.
    Nothing for a file already received (its feedback went out the first time)."""
    settings = settings or get_settings()
    mailer = Mailer(settings, timeout=15)
    if not mailer.configured or receipt.duplicate or not receipt.submission_id:
        return 0
    sent = 0
    for username, address, language in accounts.stewards_to_mail(engine, receipt.country):
        with speaking(language):
            status = tr("accepted") if receipt.ok else tr("rejected")
            subject = tr("[IDEAL] %(file)s: %(status)s", file=receipt.filename, status=status)
            lines = [receipt.summary(language), ""]
            link = settings.public_link(f"/submissions/{receipt.submission_id}")
            if link:
                lines.append(tr("Every problem, with its row and how to fix it: %(link)s", link=link))
            lines.append(tr("The receipt is attached."))
        msg = mailer.message(address, subject, "\n".join(lines))
        stored = receipt.feedback_path.with_suffix(".receipt.json") if receipt.feedback_path else None
        body = (stored.read_bytes() if stored and stored.exists() else json.dumps(
            {"submission_id": receipt.submission_id, "status": receipt.status, "message": receipt.message},
            ensure_ascii=False, indent=2).encode("utf-8"))
        msg.add_attachment(body, maintype="application", subtype="json",
                           filename=f"{receipt.submission_id}-receipt.json")
        if receipt.feedback_csv and receipt.feedback_csv.exists() and (receipt.n_errors or receipt.n_warnings):
            msg.add_attachment(receipt.feedback_csv.read_bytes(), maintype="text", subtype="csv",
                               filename=f"{receipt.submission_id}-feedback.csv")
        try:
            mailer.send(msg)
            sent += 1
            outcome, detail = "ok", f"to {username}"
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not mail %s the feedback of %s: %s", username, receipt.submission_id, exc)
            outcome, detail = "error", f"to {username}: {type(exc).__name__}"
        audit.log(engine, actor="ideal", action="feedback.mailed", outcome=outcome,
                  object_id=receipt.submission_id, country=receipt.country, detail=detail)
    return sent
