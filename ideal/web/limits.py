"""Request bodies bounded while they are read, before anything else reads them (#34: an
anonymous 600 MB POST was spooled whole to /tmp before its 401; with a token the 413 came only
after the whole body).

A pure ASGI middleware inside the session middleware:
* a body larger than its path allows is answered 413 at once when its Content-Length says so,
  and cut off with 413 as soon as the bytes read pass the limit when it does not (chunked);
* an upload path (/submissions, /api/v1/submissions, /profiles/check) is answered before its body is read when
  the request carries neither a valid API token nor a logged-in session (401 from the API, the
  login page from the portal);
* every other request with a body (a login, a form) may send at most FORM_BYTES.
An upload may be HARD_CAP times the size limit (such files are kept and refused with a reason,
ideal.web.uploads), plus the multipart envelope."""

from __future__ import annotations

import json

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ideal.errors import LoginLocked
from ideal.i18n import N_
from ideal.safe_load import MAX_DEPTH, JsonDepth
from ideal.web import security
from ideal.web.render import gettext
from ideal.web.uploads import HARD_CAP

UPLOAD_PATHS = ("/submissions", "/api/v1/submissions", "/profiles/check")  # they take a data file
FORM_BYTES = 1 << 20       # a login, a form, a JSON request: far less than this
ENVELOPE = 1 << 20         # multipart boundaries and the form's other fields


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        upload = path in UPLOAD_PATHS
        settings = scope["app"].state.settings
        limit = settings.max_upload_bytes * HARD_CAP + ENVELOPE if upload else FORM_BYTES
        api = path.startswith("/api/")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > limit:
            await _answer(send, 413, _too_large(scope, limit, upload, api), api)
            return
        try:
            known = await _known(scope, headers) if upload else True
        except LoginLocked as exc:
            await _answer(send, 429, str(exc), api)
            return
        if not known:
            if not api:  # the portal: to the login page, as any page asked for without a session
                back = f"/login?next={path}".encode()
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", back), (b"content-length", b"0"),
                                        (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await _answer(send, 401, "Give a valid token: `Authorization: Bearer <token>`, before sending a file.", api)
            return
        seen, answered = 0, False
        # a JSON body's nesting measured as it arrives, before a parser recurses into it
        depth = JsonDepth() if "json" in headers.get("content-type", "") else None

        async def bounded() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit and not answered:
                    answered = True
                    await _answer(send, 413, _too_large(scope, limit, upload, api), api)
                    return {"type": "http.disconnect"}
                if depth is not None and depth.feed(chunk) > MAX_DEPTH and not answered:
                    answered = True
                    await _answer(send, 400, _too_deep(scope, api), api)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not answered:  # after our 413 the application's own answer is dropped
                await send(message)

        await self.app(scope, bounded, guarded)


TOO_LARGE_FILE = N_("The file is far over the size limit (%(mb)s MB with its form); split it by year or "
                    "region and send the parts.")
TOO_LARGE_FORM = N_("The request is larger than %(mb)s MB; this page takes only a short form.")


TOO_DEEP = N_("The request's JSON is nested more than %(n)s levels deep; no request of IDEAL's needs "
              "more than a few.")


def _too_deep(scope: Scope, api: bool) -> str:
    _ = (lambda m: m) if api else gettext(Request(scope))
    return _(TOO_DEEP) % {"n": MAX_DEPTH}


def _too_large(scope: Scope, limit: int, upload: bool, api: bool) -> str:
    """What the 413 says: in English to a script, in the user's language on the portal."""
    _ = (lambda m: m) if api else gettext(Request(scope))
    return _(TOO_LARGE_FILE if upload else TOO_LARGE_FORM) % {"mb": f"{limit / 2**20:.0f}"}


async def _known(scope: Scope, headers: dict[str, str]) -> bool:
    """A valid API token or a logged-in session (the session middleware has read it): the
    portal's own checks (ideal.web.security), an invalid token counted and audited there."""
    request = Request(scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    bearer = scheme.lower() == "bearer" and bool(token.strip())
    check = security.token_user if bearer else security.session_user
    return await anyio.to_thread.run_sync(check, request) is not None


async def _answer(send: Send, status: int, message: str, api: bool) -> None:
    if api:
        body, kind = json.dumps({"detail": message}).encode(), b"application/json"
    else:
        body, kind = message.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
