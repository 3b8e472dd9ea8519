"""The last resort: no request answers a bare 500 (#46).

A pure ASGI middleware, the outermost of the portal's own: an exception that no handler turned
into an answer (a bug, or an input no check foresaw) becomes the portal's error page in the
user's language, or the API's JSON, with a short reference that the server's log and the audit
log carry too, so the secretariat can find what happened. The connection stays usable: the
exception is not raised further (the server would close it).
"""

from __future__ import annotations

import logging
import secrets

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ideal.i18n import N_
from ideal.store import audit

log = logging.getLogger("ideal.web")

FAILED = N_("Something went wrong on the server; nothing you sent was changed. If it happens again, "
            "give the secretariat this reference: %(ref)s.")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store")]


class LastResort:
    def __init__(self, app: ASGIApp, render) -> None:
        self.app = app
        self.render = render  # (request, status, message) -> a Response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the point of this middleware
            ref = secrets.token_hex(6)
            log.error("request %s %s failed (reference %s)", scope.get("method"), scope.get("path"),
                      ref, exc_info=exc)
            await anyio.to_thread.run_sync(_audit, scope, ref, exc)
            if started:  # part of an answer is out: nothing more can be said on it
                return
            response = _response(self.render, scope, ref)
            await response(scope, receive, send)


def _audit(scope: Scope, ref: str, exc: BaseException) -> None:
    try:
        state = scope.get("state")
        user = getattr(state.get("user"), "name", None) if isinstance(state, dict) else None
        audit.log(scope["app"].state.engine, actor=f"web:{user or 'anonymous'}", action="request.failed",
                  outcome="error", object_id=ref,
                  detail=f"{scope.get('method')} {scope.get('path')}: {type(exc).__name__}"[:500])
    except Exception as err:  # noqa: BLE001 - the audit's own failure is logged, the answer goes out
        log.error("could not audit the failed request %s: %s", ref, err)


def _response(render, scope: Scope, ref: str):
    from fastapi.responses import JSONResponse

    scope.setdefault("session", {})
    request = Request(scope)
    if scope.get("path", "").startswith("/api/"):
        response = JSONResponse({"detail": FAILED % {"ref": ref}, "reference": ref}, status_code=500)
    else:
        try:
            response = render(request, 500, None, ref)
        except Exception as exc:  # noqa: BLE001 - the page itself failed: plain words, still no trace
            log.error("the error page of %s failed too: %s", ref, exc)
            from fastapi.responses import PlainTextResponse

            response = PlainTextResponse(FAILED % {"ref": ref}, status_code=500)
    for key, value in SECURITY_HEADERS:
        response.headers.setdefault(key.decode(), value.decode())
    return response
