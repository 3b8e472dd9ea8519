import socket

from aiosmtpd.controller import Controller

from ideal.pipeline.notify import task_failed
from ideal.store import audit


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failure_is_audited_and_mailed_to_the_analysts(engine, monkeypatch):
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("IDEAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("IDEAL_SMTP_PORT", str(port))
        monkeypatch.setenv("IDEAL_ANALYSTS", "analysts@clasi.test")
        assert task_failed(dag_id="ideal_assess", task_id="assess", run_id="manual__1", error="boom")
    finally:
        server.stop()
    (to, body), = inbox.messages
    assert to == ["analysts@clasi.test"] and "ideal_assess.assess" in body and "boom" in body
    log = audit.events(engine)
    assert log.iloc[0]["action"] == "airflow.task_failed" and "boom" in log.iloc[0]["detail"]


def test_without_smtp_the_failure_is_still_audited(engine, monkeypatch):
    monkeypatch.delenv("IDEAL_SMTP_HOST", raising=False)
    assert not task_failed(dag_id="d", task_id="t", run_id="r", error="x")
    assert audit.events(engine).iloc[0]["action"] == "airflow.task_failed"
