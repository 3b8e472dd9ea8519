"""The portal's application: sessions, security headers, translated pages, error pages.

Server-rendered HTML (Jinja2 templates in templates/web/) for stewards and analysts, and a
JSON API under /api/v1 behind the same permissions (Bearer tokens). No page needs JavaScript
except the upload progress bar, which falls back to a plain form. Every IdealError becomes
an answer in one handler here: its HTTP status and message, as JSON under /api/ and as the
portal's error page elsewhere.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ideal import services
from ideal.config import get_settings
from ideal.errors import IdealError, LoginRequired
from ideal.i18n import N_
from ideal.pipeline import jobs
from ideal.store import sessions
from ideal.validate import runner
from ideal.web import api, pages
from ideal.web.failsafe import FAILED, LastResort
from ideal.web.jobs import Jobs
from ideal.web.limits import BodyLimit
from ideal.web.render import WEB_TEMPLATES, environment, gettext, page
from ideal.web.sessions import ServerSessions

SESSION_HOURS = sessions.HOURS
# what Starlette's router answers by itself, as the portal says it
STARLETTE_WORDS = {"Not Found": "This page does not exist. Check the address, or start again from the "
                                "start page.",
                   "Method Not Allowed": "This address does not take that kind of request."}
# a body Starlette or FastAPI could not parse (a broken multipart envelope, a bad boundary): their
# own words are English and technical
FORM_UNREADABLE = N_("The form could not be read (the upload was cut off or is not a form): reload the "
                     "page and send it again.")
FORM_WRONG = N_("The form is incomplete or wrong (%(fields)s): reload the page and send it again.")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def lifespan(members: tuple[str, ...]):
    @asynccontextmanager
    async def start(app: FastAPI):
        """The first validation of a process builds Great Expectations' context (about a
        second). A server (``members``: every member) also judges each member's codes once (a
        few seconds to half a minute on a loaded machine), so that the first files of a
        reporting deadline are as fast as the rest. Both happen in the background: the server
        accepts requests at once (#33: it answered its first request 24.6 s after start); a
        file that arrives meanwhile is judged as it comes. A server also marks failed the jobs
        that a previous server left queued or running with no process (ideal.pipeline.jobs).
        The assessment and report modules, which only a run's pages use, are imported in the
        same background thread (about 2 s: the process answers before)."""
        app.state.warm = threading.Event()

        def warm() -> None:
            try:
                runner.warm_up(members)
                if members:
                    import ideal.pipeline.assessment  # noqa: F401
                    import ideal.report.maps  # noqa: F401
            finally:
                app.state.warm.set()
        if members:
            await anyio.to_thread.run_sync(jobs.fail_orphans, app.state.engine)
        threading.Thread(target=warm, name="ideal-warm-up", daemon=True).start()
        yield
    return start


def create_app(engine: Engine | None = None, warm: bool = False) -> FastAPI:
    """The portal and API; ``warm``: judge every member's codes before serving (ideal serve)."""
    settings = get_settings()
    app = FastAPI(title="IDEAL API", version="1",
                  description="Submissions, coverage and assessment runs of IDEAL, for scripts. "
                              "Authenticate with `Authorization: Bearer <token>` (a token from "
                              "`ideal user token NAME`); the same permissions as the portal apply: "
                              "a steward's token reaches only that steward's country.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan(settings.members if warm else ()))
    app.state.engine = engine or services.engine(settings)
    app.state.templates = environment()
    app.state.jobs = Jobs(app.state.engine)
    app.state.upload_slots = anyio.CapacityLimiter(settings.upload_slots)
    app.state.settings = settings
    https = settings.https

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

    app.add_middleware(BodyLimit)  # inside the sessions: it sees who is logged in before reading a body
    app.add_middleware(ServerSessions, cookie="ideal_session", max_age=SESSION_HOURS * 3600,
                       same_site="lax", https_only=https)

    def failed_page(request: Request, status: int, _message, ref: str):
        return page(request, "error.html.j2", status_code=status, code=status,
                    message=gettext(request)(FAILED) % {"ref": ref})

    app.add_middleware(LastResort, render=failed_page)  # outermost: nothing answers a bare 500

    def answer(request: Request, status: int, message: str, headers: dict | None = None,
               from_framework: bool = False):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        if message in STARLETTE_WORDS:  # the router's own 404/405: in the user's language
            message = gettext(request)(STARLETTE_WORDS[message])
        elif status == 400 and from_framework:
            message = gettext(request)(FORM_UNREADABLE)
        return page(request, "error.html.j2", status_code=status, code=status, message=message)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's and the router's own 404/405
    async def http_error(request: Request, exc: StarletteHTTPException):
        return answer(request, exc.status_code, exc.detail, getattr(exc, "headers", None), from_framework=True)

    @app.exception_handler(IdealError)
    async def ideal_error(request: Request, exc: IdealError):
        if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api/"):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if request.url.path.startswith("/api/"):
            return answer(request, exc.http_status, str(exc))
        return answer(request, exc.http_status, exc.in_language(gettext(request)))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        if request.url.path.startswith("/api/"):  # where and what, never the input echoed back
            return JSONResponse({"detail": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                                            for e in exc.errors()]}, status_code=422)
        fields = ", ".join(sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")}))
        return page(request, "error.html.j2", status_code=422, code=422,
                    message=gettext(request)(FORM_WRONG) % {"fields": fields})

    app.mount("/static", StaticFiles(directory=str(WEB_TEMPLATES / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    return app
