"""Rendering portal pages: the Jinja2 environment, the user's language, flash messages.
Used by the pages, the API's description page and the error handlers of ideal.web.app."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from ideal import reference
from ideal.config import TEMPLATES_DIR, get_settings
from ideal.contracts import LANGUAGES, LEVEL_NAMES
from ideal.i18n import translations
from ideal.web import security
from ideal.web.jobs import step_text

WEB_TEMPLATES = TEMPLATES_DIR / "web"


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


def gettext(request: Request, user=None):
    return translations(language_of(request, user)).gettext


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(WEB_TEMPLATES)),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.globals.update(country_name=reference.country_name, region_name=reference.region_name,
                       crime_name=reference.crime_name, levels=LEVEL_NAMES)
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M") if d else ""
    env.filters["num"] = _number
    env.globals["step_text"] = step_text
    env.filters["country_label"] = lambda cc, lang: f"{reference.country_name(cc, lang)} ({cc})"
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
        airflow=bool(request.app.state.settings.airflow.url), **ctx)
    return HTMLResponse(html, status_code=status_code)


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "text": message})


def reports_root() -> Path:
    return get_settings().reports_dir.resolve()
