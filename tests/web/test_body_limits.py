"""Request bodies are bounded before and while they are read (#34): an anonymous upload is
answered without its body being read, a Content-Length over the limit is refused at once, and a
chunked body is cut off as soon as it passes the limit; a login takes a short form only."""

from __future__ import annotations

import anyio
import pytest

from ideal.store import accounts
from ideal.web import create_app

PASSWORD = "correct-horse-battery"


def call(app, method: str, path: str, headers: dict, chunks: list[bytes]) -> tuple[int, dict, int]:
    """(status, headers, bytes of the body the application read) of one request through the
    ASGI stack, its body sent in ``chunks``."""
    sent: list[dict] = []
    read = 0

    async def receive():
        nonlocal read
        if chunks:
            body = chunks.pop(0)
            read += len(body)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "app": app}

    async def main():
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)
    anyio.run(main)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, read


@pytest.fixture
def app(engine):
    accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
    return create_app(engine)


def test_an_anonymous_upload_is_answered_before_its_body_is_read(app):
    mb = [b"x" * 2**20] * 5
    status, _, read = call(app, "POST", "/api/v1/submissions", {"content-type": "multipart/form-data; boundary=b"}, list(mb))
    assert status == 401 and read == 0
    status, headers, read = call(app, "POST", "/submissions", {"content-type": "multipart/form-data; boundary=b"}, list(mb))
    assert status == 303 and headers["location"].startswith("/login") and read == 0


def test_a_declared_length_over_the_limit_is_refused_at_once(app, engine):
    token = accounts.make_token(engine, "mx.steward")
    status, _, read = call(app, "POST", "/api/v1/submissions",
                           {"authorization": f"Bearer {token}", "content-length": str(600 * 2**20),
                            "content-type": "multipart/form-data; boundary=b"}, [b"x" * 1024])
    assert status == 413 and read == 0
    status, _, read = call(app, "POST", "/login", {"content-length": str(600 * 2**20),
                                                   "content-type": "application/x-www-form-urlencoded"}, [b"x"])
    assert status == 413 and read == 0


def test_a_chunked_body_is_cut_off_once_past_the_limit(app, engine, monkeypatch):
    monkeypatch.setenv("IDEAL_MAX_UPLOAD_MB", "1")  # 4 MB kept and refused, 5 MB with the form
    app = create_app(engine)
    token = accounts.make_token(engine, "mx.steward")
    head = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n")
    chunks = [head] + [b"x" * 2**20] * 50  # a 50 MB file, no Content-Length
    status, _, read = call(app, "POST", "/api/v1/submissions",
                           {"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=b"},
                           chunks)
    assert status == 413 and read <= 6 * 2**20
    status, _, read = call(app, "POST", "/login", {"content-type": "application/x-www-form-urlencoded"},
                           [b"u=" + b"x" * 2**20, b"x" * 2**20, b"x" * 2**20])
    assert status == 413 and read <= 2 * 2**20 + 2
