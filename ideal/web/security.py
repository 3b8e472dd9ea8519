"""Who is asking, and may they: session logins (signed cookie), CSRF tokens on every form,
Bearer tokens for the API, and the refusals (403, audited)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from ideal.errors import IdealError, NotFound, Refused
from ideal.i18n import N_
from ideal.store import queries
from ideal.store.accounts import Account, record_refusal, token_refused, user_by_id, user_for_token


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise IdealError(msgid=N_("The form has expired or did not come from this site: "
                                  "reload the page and send it again."))


def session_user(request: Request) -> Account | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    user = user_by_id(request.app.state.engine, user_id)
    if user is None or not user.active:  # disabled since login: the session ends
        request.session.clear()
        return None
    return user


def token_user(request: Request) -> Account | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found = user_for_token(request.app.state.engine, token.strip())
    if found is None:  # counted and audited per address; refused (429) past the limit
        token_refused(request.app.state.engine, client_address(request))
    return found


def refuse(request: Request, user: Account, what: str, country: str | None = None) -> Refused:
    """Audit a refused attempt and return the 403 to raise."""
    record_refusal(request.app.state.engine, user.actor, what, country,
                   f"{request.method} {request.url.path} by {user.role}"
                   f"{' of ' + user.country if user.country else ''}")
    return Refused(msgid=N_("Your account (%(role)s%(country)s) may not see or change this."),
                   values={"role": user.role, "country": f" {user.country}" if user.country else ""},
                   translated=("role",))


def own_submission(request: Request, user: Account, submission_id: str) -> dict:
    """The submission if ``user`` may see it. Another country's submission answers exactly as
    a missing one (404, same words: no way to learn that it exists); the attempt is audited."""
    found = queries.submission(request.app.state.engine, submission_id)
    if found is not None and not user.may_see(found["country"]):
        refuse(request, user, submission_id, found["country"])
        found = None
    if found is None:
        from ideal.web.render import gettext  # here, not at the top: render imports this module

        raise NotFound(gettext(request, user)("No submission %(id)s.") % {"id": submission_id})
    return found


def require_country(request: Request, user: Account, country: str, what: str) -> None:
    if not user.may_see(country):
        raise refuse(request, user, what, country)


def require_analyst(request: Request, user: Account, what: str) -> None:
    if not user.is_analyst:
        raise refuse(request, user, what)


def require_admin(request: Request, user: Account, what: str) -> None:
    if user.role != "admin":
        raise refuse(request, user, what)
