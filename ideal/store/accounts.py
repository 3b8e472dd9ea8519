"""Portal accounts: stewards (bound to one country), analysts and admins; API tokens for
scripts. Passwords are kept as argon2 hashes, tokens as SHA-256 digests: neither can be read
back. Used by the CLI (`ideal user ...`) and the web portal."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, case, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ideal.config import get_settings
from ideal.contracts import LANGUAGES
from ideal.errors import AccountError, LoginLocked
from ideal.i18n import N_
from ideal.store import audit, passwords, sessions
from ideal.store.models import ApiToken, LoginCounter, User

ROLES = ("steward", "analyst", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MIN_PASSWORD = passwords.MIN_PASSWORD
# a user name is locked for a while after this many failed logins in the window (and so is
# the client address after ADDRESS_LIMIT failures on any names)
FAILURE_LIMIT = 5
ADDRESS_LIMIT = 20
FAILURE_WINDOW = timedelta(minutes=15)
TOKEN_USE_RESOLUTION = timedelta(minutes=1)  # how precisely a token's last use is kept
_hasher = PasswordHasher()
# verified against when the user does not exist, so both paths cost the same time
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    country: str | None
    language: str
    active: bool
    email: str | None = None  # where a steward's feedback is mailed

    @property
    def is_analyst(self) -> bool:
        return self.role in ("analyst", "admin")

    def may_see(self, country: str) -> bool:
        return self.is_analyst or self.country == country

    @property
    def actor(self) -> str:
        return f"portal:{self.username}"


def record_refusal(engine: Engine, actor: str, what: str, country: str | None, detail: str) -> None:
    """Audit an attempt on a country or page the account may not reach (portal, API, CLI)."""
    audit.log(engine, actor=actor, action="access.refused", outcome="refused",
              object_id=what[:64], country=country, detail=detail)


def _account(row) -> Account:
    return Account(row.id, row.username, row.role, row.country, row.language, row.active,
                   getattr(row, "email", None))


def check_password_strength(password: str, username: str = "", engine: Engine | None = None) -> None:
    """ideal.store.passwords.check, with the other accounts' names (from ``engine``) and the members."""
    others: tuple[str, ...] = ()
    if engine is not None:
        with engine.connect() as conn:
            others = tuple(conn.execute(select(User.username)).scalars())
    passwords.check(password, username, others, get_settings().members)


def add_user(engine: Engine, username: str, password: str, role: str, country: str | None = None,
             language: str = "es", members: tuple[str, ...] = (), actor: str = "cli",
             email: str | None = None) -> Account:
    username = username.strip().lower()
    email = checked_email(email)
    if not USERNAME.match(username):
        raise AccountError(msgid=N_("user name %(name)s: use 3-64 lower-case letters, digits, . _ @ -"),
                           values={"name": username})
    if role not in ROLES:
        raise AccountError(msgid=N_("role %(role)s: use one of %(roles)s."), values={"role": role, "roles": ", ".join(ROLES)})
    country = (country or "").strip().upper() or None
    if role == "steward":
        if not country:
            raise AccountError(msgid=N_("a steward is bound to one country: give their country (e.g. MX)."))
        if members and country not in members:
            raise AccountError(msgid=N_("%(country)s is not a member in this installation (%(members)s)."),
                               values={"country": country, "members": " ".join(members)})
    elif country:
        raise AccountError(msgid=N_("only stewards are bound to a country; analysts and admins see all."))
    if language not in LANGUAGES:
        raise AccountError(msgid=N_("language: %(languages)s."), values={"languages": ", ".join(LANGUAGES)})
    check_password_strength(password, username, engine)
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.username == username)).first():
            raise AccountError(msgid=N_("user %(name)s already exists."), values={"name": username})
        conn.execute(insert(User.__table__).values(
            username=username, role=role, country=country, password_hash=_hasher.hash(password),
            language=language, active=True, created_at=datetime.now(UTC), email=email))
        audit.record(conn, actor=actor, action="user.added", outcome="ok", object_id=username,
                     country=country, detail=f"role {role}")
    return get_user(engine, username)


def get_user(engine: Engine, username: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(select(User.__table__).where(User.username == username.strip().lower())).first()
    if row is None:
        raise AccountError(f"no user {username!r}; `ideal user list` shows them.")
    return _account(row)


def user_by_id(engine: Engine, user_id: int) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(User.__table__).where(User.id == user_id)).first()
    return _account(row) if row else None


def list_users(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return [_account(r) for r in conn.execute(select(User.__table__).order_by(User.username))]


def set_active(engine: Engine, username: str, active: bool, actor: str = "cli") -> None:
    user = get_user(engine, username)
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.id == user.id).values(active=active))
        if not active:  # a disabled account's sessions end and its tokens stop working
            conn.execute(update(ApiToken.__table__).where(ApiToken.user_id == user.id)
                         .values(revoked=True))
        sessions.end_all(conn, user.id)  # enabled again: still no session from before
        audit.record(conn, actor=actor, action="user.enabled" if active else "user.disabled",
                     outcome="ok", object_id=user.username, country=user.country)


def set_password(engine: Engine, username: str, password: str, actor: str = "cli") -> None:
    user = get_user(engine, username)
    check_password_strength(password, user.username, engine)
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.id == user.id)
                     .values(password_hash=_hasher.hash(password)))
        ended = sessions.end_all(conn, user.id)  # every session opened with the old password
        # and every token made with it (#34: a password changed after a leak left them working)
        revoked = conn.execute(update(ApiToken.__table__).where(ApiToken.user_id == user.id,
                                                                ApiToken.revoked.is_(False))
                               .values(revoked=True)).rowcount
        audit.record(conn, actor=actor, action="user.password", outcome="ok", object_id=user.username,
                     country=user.country, detail=f"{ended} sessions ended, {revoked} tokens revoked")


def set_role(engine: Engine, username: str, role: str, country: str | None = None,
             members: tuple[str, ...] = (), actor: str = "cli") -> Account:
    """Change what an account may do (a steward's country with it); its sessions end, so the
    new rights apply from the next login, never alongside a page opened with the old ones."""
    user = get_user(engine, username)
    if role not in ROLES:
        raise AccountError(msgid=N_("role %(role)s: use one of %(roles)s."), values={"role": role, "roles": ", ".join(ROLES)})
    country = (country or "").strip().upper() or None
    if role == "steward" and not country:
        raise AccountError(msgid=N_("a steward is bound to one country: give their country (e.g. MX)."))
    if role != "steward" and country:
        raise AccountError(msgid=N_("only stewards are bound to a country; analysts and admins see all."))
    if members and country and country not in members:
        raise AccountError(msgid=N_("%(country)s is not a member in this installation (%(members)s)."),
                           values={"country": country, "members": " ".join(members)})
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.id == user.id).values(role=role, country=country))
        ended = sessions.end_all(conn, user.id)
        audit.record(conn, actor=actor, action="user.role", outcome="ok", object_id=user.username,
                     country=country, detail=f"{user.role} -> {role}; {ended} sessions ended")
    return get_user(engine, username)


EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def checked_email(email: str | None) -> str | None:
    """The address trimmed (None when empty); AccountError when it is not one."""
    email = (email or "").strip() or None
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise AccountError(msgid=N_("%(email)s is not an e-mail address."), values={"email": email})
    return email


def set_email(engine: Engine, username: str, email: str | None, actor: str = "cli") -> None:
    """The address a steward's feedback is mailed to (None: no mail)."""
    user = get_user(engine, username)
    email = checked_email(email)
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.id == user.id).values(email=email))
        audit.record(conn, actor=actor, action="user.email", outcome="ok", object_id=user.username,
                     country=user.country, detail="set" if email else "removed")


def stewards_to_mail(engine: Engine, country: str) -> list[tuple[str, str, str]]:
    """(username, e-mail, language) of the active stewards of ``country`` with an address."""
    with engine.connect() as conn:
        rows = conn.execute(select(User.username, User.email, User.language).where(
            User.role == "steward", User.country == country, User.active.is_(True),
            User.email.is_not(None))).all()
    return [(r.username, r.email, r.language) for r in rows]


def set_language(engine: Engine, user_id: int, language: str) -> None:
    if language in LANGUAGES:
        with engine.begin() as conn:
            conn.execute(update(User.__table__).where(User.id == user_id).values(language=language))


def _count(conn, key: str, now: datetime, step: int = 1) -> int:
    """Add ``step`` to the counter ``key`` in one statement (an upsert: atomic on SQLite and
    PostgreSQL, so simultaneous attempts each see their own count); a counter older than the
    window starts again. Returns the new count."""
    table = LoginCounter.__table__
    upsert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    old = table.c.since < now - FAILURE_WINDOW
    stmt = (upsert(table).values(key=key, failures=max(step, 0), since=now)
            .on_conflict_do_update(index_elements=["key"], set_={
                "failures": case((old, max(step, 0)), (table.c.failures + step < 0, 0),
                                 else_=table.c.failures + step),
                "since": case((old, now), else_=table.c.since)})
            .returning(table.c.failures))
    return conn.execute(stmt).scalar_one()


def authenticate(engine: Engine, username: str, password: str,
                 address: str | None = None) -> Account | None:
    """The account if the password is right and the account active; every attempt audited.
    Raises LoginLocked when the name or address is locked for too many failures. Each attempt
    is counted (atomically, before the password is checked) against the user name and the
    client address; a right password takes its own attempt back. So thirty simultaneous
    attempts on one name cannot all be checked: at most five wrong passwords are, the
    attempts after them are locked out, a right password among them too."""
    username = (username or "").strip().lower()[:64]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        by_name = _count(conn, f"user:{username}", now)
        by_address = _count(conn, f"addr:{address}"[:200], now) if address else 0
    if by_name > FAILURE_LIMIT or by_address > ADDRESS_LIMIT:
        audit.log(engine, actor=f"portal:{username}", action="auth.login", outcome="locked",
                  object_id=username, detail=f"from {address}")
        raise LoginLocked("too many failed logins: wait 15 minutes and try again.")
    with engine.connect() as conn:
        user = conn.execute(select(User.__table__).where(User.username == username)).first()
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    audit.log(engine, actor=f"portal:{username}", action="auth.login",
              outcome="ok" if ok else "refused", object_id=username,
              country=user.country if user else None, detail=f"from {address}")
    if not ok:
        return None
    with engine.begin() as conn:  # a right password takes its own attempt back (only that:
        _count(conn, f"user:{username}", now, -1)  # the failures before it still count)
        if address:
            _count(conn, f"addr:{address}"[:200], now, -1)
        if _hasher.check_needs_rehash(user.password_hash):
            conn.execute(update(User.__table__).where(User.id == user.id)
                         .values(password_hash=_hasher.hash(password)))
    return _account(user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(engine: Engine, username: str, name: str = "script", actor: str = "cli") -> str:
    """A new API token for ``username``; returned once, only its digest is stored."""
    user = get_user(engine, username)
    if not user.active:
        raise AccountError(f"user {username!r} is disabled.")
    token = "ideal_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(ApiToken.__table__).values(
            user_id=user.id, name=name[:64], token_sha256=_digest(token),
            created_at=datetime.now(UTC), revoked=False))
        audit.record(conn, actor=actor, action="token.created", outcome="ok",
                     object_id=user.username, country=user.country, detail=name[:64])
    return token


def tokens(engine: Engine, username: str) -> list[dict]:
    """An account's tokens (never the token itself): id, name, created, last used, revoked."""
    user = get_user(engine, username)
    with engine.connect() as conn:
        rows = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.last_used,
                                   ApiToken.revoked).where(ApiToken.user_id == user.id)
                            .order_by(ApiToken.id)).mappings().all()
    return [dict(r) for r in rows]


def revoke_token(engine: Engine, username: str, token_id: int, actor: str = "cli") -> None:
    """Revoke one of the account's tokens (its id from ``tokens``); the others keep working."""
    user = get_user(engine, username)
    with engine.begin() as conn:
        done = conn.execute(update(ApiToken.__table__).where(ApiToken.id == token_id,
                                                             ApiToken.user_id == user.id)
                            .values(revoked=True)).rowcount
        if not done:
            raise AccountError(f"user {username!r} has no token {token_id}; `ideal user tokens "
                               f"{username}` lists them.")
        audit.record(conn, actor=actor, action="token.revoked", outcome="ok", object_id=user.username,
                     country=user.country, detail=f"token {token_id}")


TOKEN_LIMIT = 20  # invalid tokens from one address within FAILURE_WINDOW before it is refused


def token_refused(engine: Engine, address: str | None) -> None:
    """An invalid token from ``address``: counted and audited (#34: 150 wrong tokens in 3.8 s
    went unlimited and unrecorded). Past TOKEN_LIMIT within the window the address is refused
    (LoginLocked, 429) until the window ends; only the first refusal of a lock is audited, so
    a flood cannot fill the audit log."""
    now = datetime.now(UTC)
    key = f"token:{address}"[:200]
    with engine.begin() as conn:
        failures = _count(conn, key, now)
    if failures <= TOKEN_LIMIT + 1:
        audit.log(engine, actor=f"api:{address}", action="auth.token",
                  outcome="refused" if failures <= TOKEN_LIMIT else "locked", detail=f"from {address}")
    if failures > TOKEN_LIMIT:
        raise LoginLocked("too many invalid tokens from this address: wait 15 minutes and try again.")


def user_for_token(engine: Engine, token: str) -> Account | None:
    if not token or not token.startswith("ideal_"):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(User.__table__, ApiToken.id.label("token_id"),
                                  ApiToken.last_used.label("token_used"))
                           .join(ApiToken, ApiToken.user_id == User.id)
                           .where(ApiToken.token_sha256 == _digest(token),
                                  ApiToken.revoked.is_(False), User.active.is_(True))).first()
    if row is None:
        return None
    now = datetime.now(UTC)
    used = row.token_used.replace(tzinfo=row.token_used.tzinfo or UTC) if row.token_used else None
    if used is None or now - used > TOKEN_USE_RESOLUTION:  # a write a minute, not one a request
        with engine.begin() as conn:
            conn.execute(update(ApiToken.__table__).where(ApiToken.id == row.token_id)
                         .values(last_used=now))
    return _account(row)
