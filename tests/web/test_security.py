"""Issue #17's attacks, each with a test that failed before the change: sessions that outlive
logout, a password change or a disabled account; a login lock raced by simultaneous attempts;
an address picked with X-Forwarded-For; API input that answered 500 or showed SQL; a profile
opened as a path; server paths in receipts; raw JSON for unknown pages; another country's
submission answered differently from a missing one."""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, csrf, login

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _app(portal):
    from ideal.web import create_app

    return create_app(portal.engine)


def _signed_in(portal, username: str) -> tuple[TestClient, str]:
    c = TestClient(_app(portal))
    c.__enter__()
    assert login(c, username).status_code == 303
    return c, c.cookies.get("ideal_session")


def _opens(portal, cookie: str) -> bool:
    """Does a browser holding only this saved cookie get the submissions page?"""
    with TestClient(_app(portal)) as c:
        c.cookies.set("ideal_session", cookie)
        r = c.get("/submissions", follow_redirects=False)
        return r.status_code == 200


def test_the_cookie_holds_only_a_random_token(portal):
    c, cookie = _signed_in(portal, "mx.steward")
    assert TOKEN.match(cookie), cookie  # not the signed user id of a cookie session
    assert _opens(portal, cookie)
    c.__exit__(None, None, None)


def test_logout_ends_the_session_for_a_saved_cookie(portal):
    c, cookie = _signed_in(portal, "mx.steward")
    assert c.post("/logout", data={"csrf_token": csrf(c)}, follow_redirects=False).status_code == 303
    assert not _opens(portal, cookie)
    c.__exit__(None, None, None)


def test_password_change_role_change_and_disabling_end_every_session(portal):
    from ideal.store import accounts

    accounts.add_user(portal.engine, "sec.steward", PASSWORD, "steward", "MX")
    _, before_password = _signed_in(portal, "sec.steward")
    _, second = _signed_in(portal, "sec.steward")
    accounts.set_password(portal.engine, "sec.steward", PASSWORD + "-2")
    assert not _opens(portal, before_password) and not _opens(portal, second)

    c = TestClient(_app(portal))
    c.__enter__()
    assert login(c, "sec.steward", PASSWORD + "-2").status_code == 303
    before_disable = c.cookies.get("ideal_session")
    accounts.set_active(portal.engine, "sec.steward", False)
    accounts.set_active(portal.engine, "sec.steward", True)
    assert not _opens(portal, before_disable)  # enabled again: the old session stays ended

    assert login(c, "sec.steward", PASSWORD + "-2").status_code == 303
    before_role = c.cookies.get("ideal_session")
    assert _opens(portal, before_role)
    accounts.set_role(portal.engine, "sec.steward", "steward", "CO")
    assert not _opens(portal, before_role)
    c.__exit__(None, None, None)


@pytest.mark.parametrize("attempts", [30])
def test_simultaneous_logins_cannot_pass_the_lock(engine, attempts):
    """30 attempts at once on one account, the last with the right password: no more than five
    wrong passwords are checked, the rest are locked out (SQLite, PostgreSQL)."""
    from sqlalchemy import select

    from ideal.errors import LoginLocked
    from ideal.store import accounts
    from ideal.store.models import AuditEvent

    accounts.add_user(engine, "raced", PASSWORD, "analyst")
    start = threading.Barrier(attempts)
    outcome: list[str] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            ok = accounts.authenticate(engine, "raced", PASSWORD if i == attempts - 1 else "wrong-guess",
                                       f"10.0.0.{i}")
            outcome.append("ok" if ok else "refused")
        except LoginLocked:
            outcome.append("locked")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # at most five wrong passwords checked (a right one checked among them gives its slot back)
    assert outcome.count("refused") <= accounts.FAILURE_LIMIT
    assert outcome.count("locked") >= attempts - accounts.FAILURE_LIMIT - 1
    with engine.connect() as conn:
        audited = conn.execute(select(AuditEvent.outcome).where(AuditEvent.action == "auth.login")).scalars().all()
    assert audited.count("locked") == outcome.count("locked")
    with pytest.raises(LoginLocked):  # and the account stays locked for the window
        accounts.authenticate(engine, "raced", PASSWORD, "10.0.1.1")


def test_forwarded_for_is_believed_only_from_trusted_proxies(monkeypatch):
    from ideal.config import get_settings, server_options

    monkeypatch.delenv("IDEAL_TRUSTED_PROXIES", raising=False)
    assert server_options(get_settings()) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    monkeypatch.setenv("IDEAL_TRUSTED_PROXIES", "10.1.1.1, 10.1.1.2")
    assert server_options(get_settings()) == {"proxy_headers": True, "forwarded_allow_ips": "10.1.1.1,10.1.1.2"}


def test_a_forwarded_address_from_an_untrusted_peer_is_not_recorded(portal):
    """A real uvicorn on loopback with the options `ideal serve` uses: a failed login sent
    with X-Forwarded-For: 203.0.113.9 from 127.0.0.1 is recorded (and locked) as 127.0.0.1."""
    import socket
    import time

    import requests
    import uvicorn
    from sqlalchemy import select

    from ideal.config import get_settings, server_options
    from ideal.store.models import AuditEvent

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(portal), host="127.0.0.1", port=port, log_level="warning",
                                           **server_options(get_settings())))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with requests.Session() as web:
            form = web.get(f"http://127.0.0.1:{port}/login", timeout=10).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            web.post(f"http://127.0.0.1:{port}/login", timeout=10, headers={"X-Forwarded-For": "203.0.113.9"},
                     data={"username": "analyst", "password": "wrong-guess", "csrf_token": token, "next": "/"})
    finally:
        server.should_exit = True
        thread.join(10)
    with portal.engine.connect() as conn:
        details = conn.execute(select(AuditEvent.detail).where(AuditEvent.action == "auth.login")
                               .order_by(AuditEvent.id.desc()).limit(1)).scalars().all()
    assert details == ["from 127.0.0.1"]


@pytest.fixture
def analyst_token(portal):
    from ideal.store import accounts

    return {"Authorization": f"Bearer {accounts.make_token(portal.engine, 'analyst', 'sec')}"}


@pytest.mark.parametrize("body,field", [({"countries": {"MX": 1}}, "countries"), ({"note": {"x": 1}}, "note"),
                                        ({"period": [2025]}, "period"), ({"surprise": 1}, "surprise")])
def test_api_input_of_the_wrong_kind_is_a_422_naming_the_field(client, analyst_token, body, field):
    r = client.post("/api/v1/runs", json=body, headers=analyst_token)
    assert r.status_code == 422, r.text
    assert any(field in [str(p) for p in e["loc"]] for e in r.json()["detail"])


@pytest.mark.parametrize("profile", ["../../ingest/profiles/mx_sesnsp_estatal", "/etc/passwd",
                                     "ideal/scoring/profiles/default.yaml", "nonexistent"])
def test_a_run_names_an_installed_profile_never_a_path(client, analyst_token, profile):
    r = client.post("/api/v1/runs", json={"profile": profile}, headers=analyst_token)
    assert r.status_code == 400 and "installed methodology profiles" in r.json()["detail"]
    assert "default" in r.json()["detail"] and "v2" in r.json()["detail"]


def test_job_errors_show_no_sql_path_or_traceback(portal, monkeypatch):
    from ideal.pipeline import jobs

    job = jobs.create(portal.engine, "assessment", "analyst", {"profile": "default"})

    def boom(*_a, **_k):
        raise RuntimeError("(sqlite3.OperationalError) no such table: x [SQL: SELECT * FROM x] "
                           "File \"/srv/ideal/var/data/archive/MX/abc.csv\"")

    from ideal.pipeline import assessment

    monkeypatch.setattr(assessment, "assess_and_report", boom)  # what the job imports when it runs
    done = jobs.run(portal.engine, job["id"])
    assert done["state"] == "failed"
    assert "SQL" not in done["error"] and "/srv" not in done["error"] and "Traceback" not in done["error"]
    assert job["id"] in done["error"]


def test_api_receipts_give_links_not_server_paths(client, portal):
    from ideal.store import accounts
    from tests.web.conftest import bad_and_good

    token = {"Authorization": f"Bearer {accounts.make_token(portal.engine, 'mx.steward', 'sec')}"}
    _, good = bad_and_good()
    r = client.post("/api/v1/submissions", files={"file": ("mx-sec.csv", good, "text/csv")}, headers=token)
    body = r.json()
    text = r.text
    assert "feedback_path" not in body and str(portal.home) not in text and "var/data" not in text
    links = body["links"]
    assert client.get(links["feedback_csv"], headers=token).status_code == 200
    detail = client.get(links["submission"], headers=token)
    assert str(portal.home) not in detail.text and "archive" not in detail.json()


def test_unknown_pages_get_the_portals_own_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text and '{"detail"' not in r.text
    assert "Esta página no existe" in r.text  # the portal's language (es by default)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_another_countrys_submission_answers_as_a_missing_one(client, portal):
    from sqlalchemy import select

    from ideal.store.models import AuditEvent

    login(client, "mx.steward")
    other = client.get(f"/submissions/{portal.co_submission}")
    missing = client.get("/submissions/0123456789abcdef0123456789abcdef")
    assert other.status_code == missing.status_code == 404
    strip = lambda t, i: t.replace(i, "ID")  # noqa: E731
    assert strip(other.text, portal.co_submission) == strip(missing.text, "0123456789abcdef0123456789abcdef")
    other_file = client.get(f"/submissions/{portal.co_submission}/feedback.csv")
    assert other_file.status_code == 404
    with portal.engine.connect() as conn:  # the attempt is still audited
        refused = conn.execute(select(AuditEvent.object_id).where(AuditEvent.action == "access.refused")).scalars().all()
    assert portal.co_submission in refused


def test_no_session_row_before_login(portal):
    """#34: every anonymous GET created a session row kept 8 hours. Before a login, the CSRF
    token and the language travel in a signed cookie; the first row is the login's."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from ideal.store.models import WebSession as PortalSession
    from ideal.web import create_app

    def rows():
        with portal.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(PortalSession)).scalar_one()

    with TestClient(create_app(portal.engine)) as c:
        before = rows()
        for _ in range(5):
            page = c.get("/login")
        assert page.status_code == 200 and rows() == before
        assert c.cookies.get("ideal_session_pre") and not c.cookies.get("ideal_session")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        c.post("/language", data={"language": "pt", "csrf_token": token, "next": "/login"})
        assert rows() == before and "Entrar" in c.get("/login").text  # the language kept, no row
        tampered = c.cookies.get("ideal_session_pre")[:-2] + "xx"
        c.cookies.set("ideal_session_pre", tampered)
        assert c.post("/login", data={"username": "analyst", "password": PASSWORD,
                                      "csrf_token": token}).status_code in (400, 403)  # not this server's
        c.cookies.clear()
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token})
        assert rows() == before + 1 and c.cookies.get("ideal_session")
