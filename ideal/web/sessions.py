"""Server-side sessions for the portal (ASGI middleware in place of a signed cookie).

The cookie ``ideal_session`` carries a random token and nothing else; the session's data (the
signed-in user, the CSRF token, the language) live in the warehouse (ideal.store.sessions).
A handler uses ``request.session`` as a dict, as with Starlette's middleware. When the user
of a session changes (a login), the session gets a new token (no fixation); when a handler
clears the session (logout), its row is deleted and the cookie expired. A session that ended
on the server (logout elsewhere, password or role change, disabled account) is not revived
by a later write."""

from __future__ import annotations

import json
from typing import Literal

import anyio
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ideal.config import secret_key
from ideal.store import sessions


class ServerSessions:
    def __init__(self, app: ASGIApp, cookie: str = "ideal_session", max_age: int = sessions.HOURS * 3600,
                 same_site: Literal["lax", "strict"] = "lax", https_only: bool = False) -> None:
        self.app = app
        self.cookie = cookie
        self.max_age = max_age
        self.flags = f"path=/; httponly; samesite={same_site}" + ("; secure" if https_only else "")
        self.pre_cookie = f"{cookie}_pre"
        self._signer: URLSafeTimedSerializer | None = None

    def _serializer(self) -> URLSafeTimedSerializer:
        if self._signer is None:
            self._signer = URLSafeTimedSerializer(secret_key(), salt="ideal-pre-login")
        return self._signer

    def _sign(self, data: dict) -> str:
        return self._serializer().dumps(data)

    def _pre(self, value: str | None) -> dict | None:
        """The pre-login data of a cookie this server signed within max_age; None otherwise."""
        if not value:
            return None
        try:
            data = self._serializer().loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        # never a signed-in user from this cookie: a login always has its row on the server
        return {k: v for k, v in data.items() if k != "user_id"} if isinstance(data, dict) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        engine = scope["app"].state.engine
        cookies = HTTPConnection(scope).cookies
        token = cookies.get(self.cookie)
        loaded = await anyio.to_thread.run_sync(sessions.load, engine, token) if token else None
        known = token if loaded is not None else None
        if loaded is None:  # before a login: the CSRF token and language, from a signed cookie
            loaded = self._pre(cookies.get(self.pre_cookie))
        scope["session"] = dict(loaded or {})
        before = json.dumps(loaded or {}, sort_keys=True)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                data = scope["session"]
                cookie = None
                if "user_id" not in data and json.dumps(data, sort_keys=True) != before and data:
                    # no one signed in: no row in the warehouse (#34: every anonymous GET made one,
                    # kept 8 hours), the data signed into a cookie of their own
                    if known:
                        await anyio.to_thread.run_sync(sessions.end, engine, known)
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", f"{self.pre_cookie}={self._sign(data)}; {self.flags}; "
                                                 f"max-age={self.max_age}")
                    if known or token:
                        headers.append("Set-Cookie", f'{self.cookie}=""; {self.flags}; max-age=0')
                    headers.add_vary_header("Cookie")
                    await send(message)
                    return
                if "user_id" in data and cookies.get(self.pre_cookie):  # signed in: the pre-login cookie goes
                    MutableHeaders(scope=message).append("Set-Cookie", f'{self.pre_cookie}=""; {self.flags}; max-age=0')
                if json.dumps(data, sort_keys=True) != before:
                    if not data:
                        if known:
                            await anyio.to_thread.run_sync(sessions.end, engine, known)
                        cookie = f'{self.cookie}=""; {self.flags}; max-age=0'
                    elif known and data.get("user_id") == (loaded or {}).get("user_id"):
                        await anyio.to_thread.run_sync(sessions.save, engine, known, data)
                    else:  # a new session, or another user in it: a new token
                        if known:
                            await anyio.to_thread.run_sync(sessions.end, engine, known)
                        fresh = await anyio.to_thread.run_sync(sessions.create, engine, data)
                        cookie = f"{self.cookie}={fresh}; {self.flags}; max-age={self.max_age}"
                elif token and known is None and data == {}:
                    cookie = f'{self.cookie}=""; {self.flags}; max-age=0'  # an ended session's cookie
                if cookie:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", cookie)
                    headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_wrapper)
