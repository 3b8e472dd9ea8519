"""JSON API for scripts, behind the portal's permissions. Authenticate with
``Authorization: Bearer <token>`` (``ideal user token NAME``)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ideal.config import TEMPLATES_DIR
from ideal.contracts import AssessmentRequest
from ideal.errors import NotFound
from ideal.pipeline.submission import receipt_dict
from ideal.store import queries, runs
from ideal.store.accounts import Account
from ideal.web import security
from ideal.web.pages import FEEDBACK_FILES, feedback_file, start_assessment
from ideal.web.render import page
from ideal.web.uploads import receive

router = APIRouter(prefix="/api/v1", tags=["IDEAL"], responses={
    401: {"description": "No token, or the token is unknown, revoked or of a disabled account"},
    403: {"description": "The token's account may not reach this country or page (audited)"}})


class RunBody(BaseModel):
    """A reassessment request. Values of the wrong kind answer 422 naming the field."""

    model_config = ConfigDict(extra="forbid")
    period: str | int | None = Field(None, description="A year, e.g. 2025 (default: the latest).")
    countries: list[str] | str | None = Field(None, description='Members, e.g. ["MX", "CO"] (default: all).')
    crime_types: list[str] | str | None = Field(None, description="ICCS codes (default: all scored).")
    profile: str | None = Field(None, max_length=64, description="An installed methodology profile, by name.")
    note: str | None = Field(None, max_length=500, description="Why this run is made.")
    languages: list[str] | str | None = Field(None, description="Briefing languages: es, pt, en.")


def token_user(request: Request) -> Account:
    found = security.token_user(request)
    if found is None:
        raise HTTPException(401, "Give a valid token: `Authorization: Bearer <token>` "
                                 "(an admin makes one with `ideal user token NAME`).",
                            headers={"WWW-Authenticate": "Bearer"})
    return found


def _json(value):
    """Dates and numbers as JSON can carry them."""
    return json.loads(json.dumps(value, default=str))


def _records(findings, limit: int = 1000) -> list[dict]:
    """The first ``limit`` findings as JSON records (null for missing values)."""
    head = findings.head(limit)
    return _json(head.astype(object).where(head.notna(), None).to_dict("records"))


@router.get("/health", summary="Whether the server answers (no token needed)")
def health(request: Request):
    """200 as soon as the server accepts requests; ``warm``: whether it has finished judging
    every member's codes in the background (uploads are accepted either way)."""
    warm = getattr(request.app.state, "warm", None)
    return {"status": "ok", "warm": bool(warm is None or warm.is_set())}


@router.get("/me", summary="Who this token belongs to")
def me(u: Account = Depends(token_user)):
    return {"username": u.username, "role": u.role, "country": u.country, "language": u.language}


@router.get("/template.csv", summary="The IDEAL template (CSV)", response_class=Response)
def template(u: Account = Depends(token_user)):
    return Response((TEMPLATES_DIR / "submission" / "ideal-template.csv").read_bytes(),
                    media_type="text/csv")


@router.post("/submissions", summary="Submit one file", responses={
    201: {"description": "Accepted: the rows were loaded"},
    400: {"description": "A bad request: no country, bad reading options"},
    413: {"description": "Far over the size limit: nothing kept"},
    422: {"description": "Refused: nothing loaded, the file kept in quarantine; the receipt "
                         "lists every problem"}},
             description="Multipart upload (`file`, and `country` for analysts). The answer is the "
                         "receipt with every problem found: 201 when the rows were loaded, 200 when "
                         "the same file was already received, 422 when it was refused (nothing "
                         "loaded, the file kept in quarantine). Optional reading options: "
                         "`separator` (comma, semicolon, tab, pipe), `decimal` (. or ,), "
                         "`encoding`, `profile` (a crosswalk profile for national exports).")
async def submit(request: Request, file: UploadFile = File(...), country: str = Form(""),
                 separator: str = Form(""), decimal: str = Form(""), encoding: str = Form(""),
                 profile: str = Form(""), u: Account = Depends(token_user)):
    receipt = await receive(request, file, country, u, "api",
                            {"separator": separator, "decimal": decimal, "encoding": encoding,
                             "profile": profile})
    body = receipt_dict(receipt)
    body.pop("feedback_path", None), body.pop("feedback_csv", None)  # server paths: links instead
    body["links"] = feedback_links(receipt.submission_id) if receipt.submission_id else {}
    body["findings"] = _records(receipt.findings)
    body["findings_total"] = len(receipt.findings)
    status = 200 if receipt.duplicate else (201 if receipt.ok else 422)
    return JSONResponse(_json(body), status_code=status)


@router.get("/submissions", summary="Submissions you may see, newest first")
def submissions(request: Request, country: str | None = None, status: str | None = None,
                limit: int = 100, u: Account = Depends(token_user)):
    if country:
        security.require_country(request, u, country.upper(), "submissions")
    return _json(queries.submissions(request.app.state.engine, u, (country or "").upper() or None,
                                     status, min(max(limit, 1), 1000)))


@router.get("/submissions/{submission_id}", summary="One submission with its findings")
def submission(request: Request, submission_id: str, u: Account = Depends(token_user)):
    engine = request.app.state.engine
    found = security.own_submission(request, u, submission_id)
    found.pop("archive_path", None)
    found["links"] = feedback_links(submission_id)
    found["findings"] = _records(queries.findings(engine, submission_id, 1000))
    found["findings_total"] = queries.count_findings(engine, submission_id)
    return _json(found)


def feedback_links(submission_id: str) -> dict:
    """Where a submission's feedback can be fetched (with the same token), never a path."""
    base = f"/api/v1/submissions/{submission_id}"
    return {"submission": base, "page": f"/submissions/{submission_id}",
            **{kind.replace(".", "_"): f"{base}/{kind}" for kind in FEEDBACK_FILES}}


@router.get("/submissions/{submission_id}/{kind}", summary="A submission's feedback file",
            description="feedback.csv (every problem), receipt.json or feedback.html.")
def submission_file(request: Request, submission_id: str, kind: str, u: Account = Depends(token_user)):
    return feedback_file(request, u, submission_id, kind)


@router.get("/coverage", summary="Country x year coverage (analysts)")
def coverage(request: Request, u: Account = Depends(token_user)):
    security.require_analyst(request, u, "coverage")
    return _json(queries.coverage(request.app.state.engine, request.app.state.settings.members))


@router.get("/runs", summary="Assessment runs (analysts)")
def list_runs(request: Request, limit: int = 50, u: Account = Depends(token_user)):
    security.require_analyst(request, u, "runs")
    return _json(runs.recent(request.app.state.engine, min(max(limit, 1), 500)))


@router.post("/runs", summary="Trigger a reassessment (analysts)", status_code=202,
             description="JSON body: period (a year), countries, crime_types, profile, note. "
                         "Through Airflow when IDEAL_AIRFLOW_URL is set, else a background job "
                         "of this server (`GET /api/v1/jobs/{id}`).")
async def trigger_run(request: Request, body: RunBody, u: Account = Depends(token_user)):
    security.require_analyst(request, u, "run.trigger")
    return await run_in_threadpool(start_assessment, request, u,
                                   AssessmentRequest.from_mapping(body.model_dump(exclude_none=True)))


@router.get("/jobs/{job_id}", summary="A background job's state (analysts)")
def job(request: Request, job_id: str, u: Account = Depends(token_user)):
    security.require_analyst(request, u, "job")
    found = request.app.state.jobs.get(job_id)
    if found is None:
        raise NotFound(f"No job {job_id}.")
    return found.as_dict()


@router.get("", include_in_schema=False, response_class=HTMLResponse)
def documentation(request: Request):
    """The API described from its OpenAPI schema, as a page that needs no script or CDN."""
    return page(request, "api.html.j2", spec=request.app.openapi())
