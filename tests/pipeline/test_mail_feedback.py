"""Stewards get each submission's feedback by e-mail when IDEAL_SMTP_* is set: one message per
submission to each steward of the country with an address, in that steward's language, with
the receipt attached; a mail server that is down never changes the submission's outcome."""

import email
import email.policy
import socket

from aiosmtpd.controller import Controller

from ideal.pipeline.submission import submit_bytes
from ideal.store import accounts, audit
from tests.web.conftest import bad_and_good

PASSWORD = "a long enough secret"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_each_steward_gets_the_feedback_in_their_language(engine, monkeypatch):
    accounts.add_user(engine, "mx.es", PASSWORD, "steward", "MX", "es")
    accounts.add_user(engine, "mx.pt", PASSWORD, "steward", "MX", "pt")
    accounts.add_user(engine, "mx.nomail", PASSWORD, "steward", "MX", "es")
    accounts.add_user(engine, "co.es", PASSWORD, "steward", "CO", "es")
    accounts.set_email(engine, "mx.es", "es@mx.test")
    accounts.set_email(engine, "mx.pt", "pt@mx.test")
    accounts.set_email(engine, "co.es", "es@co.test")
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("IDEAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("IDEAL_SMTP_PORT", str(port))
        monkeypatch.setenv("IDEAL_PUBLIC_URL", "https://ideal.clasi.test")
        bad, good = bad_and_good("MX")
        rejected = submit_bytes(bad, "mx-bad.csv", "MX", engine)
        accepted = submit_bytes(good, "mx-good.csv", "MX", engine)
        again = submit_bytes(good, "mx-good.csv", "MX", engine)  # the same file: no new mail
    finally:
        server.stop()
    assert not rejected.ok and accepted.ok and again.duplicate
    got = {(tuple(to), m["Subject"]) for to, m in inbox.messages}
    assert got == {(("es@mx.test",), "[IDEAL] mx-bad.csv: rechazado"), (("pt@mx.test",), "[IDEAL] mx-bad.csv: rejeitado"),
                   (("es@mx.test",), "[IDEAL] mx-good.csv: aceptado"), (("pt@mx.test",), "[IDEAL] mx-good.csv: aceito")}
    to, first = inbox.messages[0]
    parts = {p.get_filename(): p for p in first.walk() if p.get_filename()}
    assert f"{rejected.submission_id}-receipt.json" in parts and f"{rejected.submission_id}-feedback.csv" in parts
    body = next(p for p in first.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    assert f"https://ideal.clasi.test/submissions/{rejected.submission_id}" in body.get_content()
    mailed = audit.events(engine)
    assert (mailed["action"] == "feedback.mailed").sum() == 4


def test_a_mail_server_that_is_down_changes_nothing(engine, monkeypatch):
    accounts.add_user(engine, "mx.es", PASSWORD, "steward", "MX", "es")
    accounts.set_email(engine, "mx.es", "es@mx.test")
    monkeypatch.setenv("IDEAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("IDEAL_SMTP_PORT", str(free_port()))  # nobody listens
    _, good = bad_and_good("MX")
    receipt = submit_bytes(good, "mx.csv", "MX", engine)
    assert receipt.ok
    events = audit.events(engine)
    failed = events[events["action"] == "feedback.mailed"]
    assert list(failed["outcome"]) == ["error"]


def test_addresses_are_checked(engine):
    import pytest

    from ideal.errors import AccountError

    accounts.add_user(engine, "mx.es", PASSWORD, "steward", "MX", "es")
    for bad in ("not an address", "a@b", "x@y.z, other@y.z"):
        with pytest.raises(AccountError):
            accounts.set_email(engine, "mx.es", bad)
