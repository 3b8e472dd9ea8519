"""The portal's application: sessions, security headers, translated pages, error pages.

Server-rendered HTML (Jinja2 templates in templates/web/) for stewards and analysts, and a
JSON API under /api/v1 behind the same permissions (Bearer tokens). No page needs JavaScript
except the upload progress bar, which falls back to a plain form.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from ideal import reference
from ideal.config import get_settings
from ideal.i18n import LANGUAGES, translations
from ideal.paths import TEMPLATES_DIR
from ideal.web import security
from ideal.web.jobs import Jobs

WEB_TEMPLATES = TEMPLATES_DIR / "web"
SESSION_HOURS = 8
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class LoginRequired(Exception):
    pass


def language_of(request: Request, user=None) -> str:
    chosen = request.session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if user is not None and user.language in LANGUAGES:
        return user.language
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return get_settings().language


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(WEB_TEMPLATES)),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    from ideal.report.context import LEVELS

    env.globals.update(country_name=reference.country_name, region_name=reference.region_name,
                       crime_name=reference.crime_name, levels=LEVELS)
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M") if d else ""
    env.filters["num"] = _number
    return env


@pass_context
def _number(ctx, value, digits: int = 0) -> str:
    """A number in the page's language (2.176 in Spanish, 2,176 in English)."""
    from babel.numbers import format_decimal

    if value is None or value != value:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=ctx.get("lang", "en"))


def page(request: Request, template: str, status_code: int = 200, **ctx) -> HTMLResponse:
    """Render a portal page in the user's language with the common context."""
    user = ctx.pop("user", None) or getattr(request.state, "user", None)
    lang = language_of(request, user)
    _ = translations(lang).gettext
    html = request.app.state.templates.get_template(template).render(
        request=request, user=user, lang=lang, _=_, csrf=security.csrf_token(request),
        flashes=request.session.pop("flash", []), languages=LANGUAGES,
        airflow=bool(os.environ.get("IDEAL_AIRFLOW_URL")), **ctx)
    return HTMLResponse(html, status_code=status_code)


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "text": message})


def create_app(engine: Engine | None = None) -> FastAPI:
    from ideal.pipeline import engine as warehouse
    from ideal.web import api, pages

    settings = get_settings()
    app = FastAPI(title="IDEAL API", version="1",
                  description="Submissions, coverage and assessment runs of IDEAL, for scripts. "
                              "Authenticate with `Authorization: Bearer <token>` (a token from "
                              "`ideal user token NAME`); the same permissions as the portal apply: "
                              "a steward's token reaches only that steward's country.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.engine = engine or warehouse()
    app.state.templates = _environment()
    app.state.jobs = Jobs()
    app.state.settings = settings
    https = os.environ.get("IDEAL_PUBLIC_URL", "").startswith("https://") or \
        os.environ.get("IDEAL_HTTPS", "").lower() in ("1", "true", "yes")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if https:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    app.add_middleware(SessionMiddleware, secret_key=security.secret_key(),
                       session_cookie="ideal_session", max_age=SESSION_HOURS * 3600,
                       same_site="lax", https_only=https)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return page(request, "error.html.j2", status_code=exc.status_code,
                    code=exc.status_code, message=exc.detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                             for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        return page(request, "error.html.j2", status_code=422, code=422,
                    message=f"The form is incomplete or wrong: {problems}")

    app.mount("/static", StaticFiles(directory=str(WEB_TEMPLATES / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    return app


def reports_root() -> Path:
    return get_settings().reports_dir.resolve()
