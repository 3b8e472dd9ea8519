"""Portal sessions kept on the server. The browser's cookie holds only a random token; the
row (keyed by the token's SHA-256, so a copy of the table opens no session) holds the user
and the session's small data. Ending a session deletes its row: a cookie saved earlier opens
nothing after logout, a password change, a role change or a disabled account."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from ideal.store.models import WebSession

HOURS = 8  # a session lasts this long from login, whatever the activity


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(engine: Engine, token: str) -> dict | None:
    """The data of the session ``token`` opens, or None (unknown, ended or expired)."""
    if not token or len(token) > 128:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(WebSession.data, WebSession.expires_at)
                           .where(WebSession.id == _digest(token))).first()
    if row is None or _aware(row.expires_at) <= datetime.now(UTC):
        return None
    try:
        data = json.loads(row.data)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def create(engine: Engine, data: dict) -> str:
    """A new session holding ``data``; returns its token (for the cookie, never stored).
    Expired sessions are removed on the way."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(WebSession).where(WebSession.expires_at <= now))
        conn.execute(insert(WebSession).values(id=_digest(token), user_id=data.get("user_id"),
                                               data=json.dumps(data), created_at=now,
                                               expires_at=now + timedelta(hours=HOURS)))
    return token


def save(engine: Engine, token: str, data: dict) -> bool:
    """Store ``data`` in the session; False if it has ended meanwhile (nothing is revived)."""
    with engine.begin() as conn:
        done = conn.execute(update(WebSession).where(WebSession.id == _digest(token))
                            .values(data=json.dumps(data), user_id=data.get("user_id")))
    return bool(done.rowcount)


def end(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def end_all(conn, user_id: int) -> int:
    """Within the caller's transaction: end every session of ``user_id``; how many."""
    return conn.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0
