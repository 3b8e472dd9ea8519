"""No input answers a bare 500 (#46): deep nesting in pasted YAML and in JSON bodies is refused
with a message, an id out of range is a missing page, and whatever still fails unexpectedly is
the portal's error page (or the API's JSON) with a reference the log and the audit keep."""

from __future__ import annotations

from sqlalchemy import select

from ideal.store.models import AuditEvent
from tests.web.conftest import csrf, login


def test_a_profile_of_fifty_thousand_brackets_is_refused_with_a_message(client):
    login(client, "analyst")
    answer = client.post("/profiles/check", data={"text": "[" * 50_000, "csrf_token": csrf(client)})
    assert answer.status_code == 422 and "nested more than 40 levels deep" in answer.text
    assert "<html" in answer.text.lower()  # the portal's page, not plain text
    assert client.get("/profiles").status_code == 200  # the same connection answers the next request


def test_report_ids_out_of_range_are_missing_reports(client):
    login(client, "analyst")
    for rid in ("9223372036854775808", "9223372036854775807", "0", "-1"):
        assert client.get(f"/reports/{rid}").status_code == 404, rid


def test_a_json_body_nested_too_deeply_is_refused_before_it_is_parsed(client, portal):
    from ideal.store import accounts

    token = accounts.make_token(portal.engine, "analyst", "deep")
    body = b'{"period": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = client.post("/api/v1/runs", content=body, headers={"Authorization": f"Bearer {token}",
                                                               "Content-Type": "application/json"})
    assert answer.status_code == 400 and "nested more than 40 levels" in answer.json()["detail"]


def test_an_unexpected_failure_is_the_error_page_with_a_reference_in_the_log_and_audit(client, portal, monkeypatch):
    from ideal.store import queries

    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(queries, "country_coverage", broken)
    login(client, "mx.steward")
    answer = client.get("/")
    assert answer.status_code == 500 and "<html" in answer.text.lower()
    assert "RuntimeError" not in answer.text and "a bug nobody foresaw" not in answer.text
    ref = answer.text.split("referencia: ")[1][:12]  # the steward's language (es)
    with portal.engine.connect() as conn:
        audited = conn.execute(select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.object_id == ref)).one()
    assert audited.action == "request.failed" and "RuntimeError" in audited.detail
    monkeypatch.undo()
    assert client.get("/").status_code == 200
