"""The portal's pages. Every route takes the signed-in user and checks, before reading
anything, that the user may see the country or the page; refusals are audited (403)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import anyio
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ideal import reference
from ideal.config import TEMPLATES_DIR
from ideal.contracts import LANGUAGES, AssessmentRequest
from ideal.errors import (
    AccountError,
    Conflict,
    IdealError,
    LoginLocked,
    LoginRequired,
    NotFound,
    ProfileError,
    UpstreamError,
)
from ideal.i18n import N_, said_in
from ideal.ingest.template import xlsx_template
from ideal.pipeline import profiles, trigger
from ideal.services import ASSESS_DAG, airflow
from ideal.store import accounts, queries, reports, runs
from ideal.store.accounts import Account
from ideal.validate.feedback import STATUS, finding_rows, in_language, summary_rows
from ideal.web import security
from ideal.web.render import flash, gettext, language_of, page, reports_root
from ideal.web.uploads import read_upload, receive

router = APIRouter(include_in_schema=False)
# The assessment, scoring and report modules (scipy, matplotlib: about 2 s) are imported by the
# pages that need them, not when a server process starts: it must answer within seconds (#33).
# The server's warm-up thread imports them soon after start (ideal.web.app.lifespan).


def user(request: Request) -> Account:
    found = security.session_user(request)
    if found is None:
        raise LoginRequired()
    request.state.user = found
    return found


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) may follow a login."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# --- signing in and out, language ----------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return page(request, "login.html.j2", next=_safe_next(next))


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          next: str = Form("/"), csrf_token: str = Form("")):
    security.check_csrf(request, csrf_token)
    _ = gettext(request)
    try:
        found = accounts.authenticate(request.app.state.engine, username, password,
                                      security.client_address(request))
    except LoginLocked:
        return page(request, "login.html.j2", status_code=429, next=_safe_next(next),
                    error=_("Too many failed logins: wait 15 minutes and try again."))
    if found is None:
        return page(request, "login.html.j2", status_code=401, next=_safe_next(next),
                    error=_("Wrong user name or password."), username=username)
    lang = request.session.get("lang")
    request.session.clear()  # a new session at login: no fixation
    request.session.update(user_id=found.id, lang=lang or found.language)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")):
    security.check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def set_language(request: Request, language: str = Form(...), next: str = Form("/"),
                 csrf_token: str = Form("")):
    security.check_csrf(request, csrf_token)
    if language not in LANGUAGES:
        raise IdealError(msgid=N_("Language: es, pt or en."))
    request.session["lang"] = language
    signed_in = security.session_user(request)
    if signed_in:
        accounts.set_language(request.app.state.engine, signed_in.id, language)
    return RedirectResponse(_safe_next(next), status_code=303)


HOME_YEARS = 6  # a steward's home: the current year and the five before (the assessment's window)


@router.get("/")
def home(request: Request, u: Account = Depends(user)):
    """Analysts start on the coverage; a steward on what their country has sent per year and
    crime type, what is missing or partial for the years CLASI assesses, and their latest
    feedback."""
    if u.is_analyst:
        return RedirectResponse("/coverage", status_code=303)
    engine = request.app.state.engine
    current = date.today().year
    years = list(range(current - HOME_YEARS + 1, current + 1))
    cov = queries.country_coverage(engine, u.country, years)
    scored = reference.scored_crime_types()
    crimes = sorted(set(scored) | set(cov["cells"]), key=lambda c: (c not in scored, c))
    latest = queries.submissions(engine, u, u.country, None, 1)
    return page(request, "home.html.j2", cov=cov, crimes=crimes, latest=latest[0] if latest else None,
                gaps=sum(1 for c in crimes for y in years[:-1]
                         if cov["cells"].get(c, {}).get(y, {"status": "missing"})["status"] != "complete"))


# --- templates ------------------------------------------------------------------------------

@router.get("/template.csv")
def template_csv(u: Account = Depends(user)):
    return Response((TEMPLATES_DIR / "submission" / "ideal-template.csv").read_bytes(),
                    media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ideal-template.csv"'})


@router.get("/template.xlsx")
def template_xlsx(request: Request, u: Account = Depends(user)):
    members = (u.country,) if u.country else request.app.state.settings.members
    return Response(xlsx_template(members, language_of(request, u)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="ideal-template.xlsx"'})


# --- structured contributions on criminal markets (#49) ------------------------------------

def _contribution_country(request: Request, u: Account, country: str | None) -> str:
    cc = (country or u.country or request.app.state.settings.members[0]).upper()
    security.require_country(request, u, cc, "contributions")
    return cc


@router.get("/contributions")
def contributions_page(request: Request, country: str | None = None, u: Account = Depends(user)):
    from ideal.store import contributions

    cc = _contribution_country(request, u, country)
    lang = language_of(request, u)
    current = contributions.current(request.app.state.engine, [cc])
    names = reference.markets().set_index("code")[f"name_{lang}" if lang in ("es", "pt") else "name_en"]
    rows = []
    if not current.empty:
        current = current[current["round"] == current.groupby(["market", "year"])["round"].transform("max")]
        for (market, year, rnd), g in current.groupby(["market", "year", "round"], sort=True):
            v = g["severity"].astype(float)
            rows.append({"name": names.get(market, market), "year": int(year), "round": int(rnd),
                         "assessors": int(g["assessor"].nunique()), "median": float(v.median()),
                         "min": float(v.min()), "max": float(v.max())})
    anchors = [{"level": int(a.level), "text": getattr(a, lang if lang in ("es", "pt") else "en")}
               for a in reference.market_anchors().itertuples(index=False)]
    return page(request, "contributions.html.j2", rows=rows, anchors=anchors, country=cc,
                members=request.app.state.settings.members)


@router.get("/contributions/template.xlsx")
def contributions_template_xlsx(request: Request, u: Account = Depends(user)):
    from ideal.ingest.contributions import xlsx_template

    members = request.app.state.settings.members
    return Response(xlsx_template(members, language_of(request, u), u.country or None),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="ideal-contributions.xlsx"'})


@router.get("/contributions/template.csv")
def contributions_template_csv(request: Request, u: Account = Depends(user)):
    from ideal.ingest.contributions import csv_template

    return Response(csv_template(u.country or request.app.state.settings.members[0]), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ideal-contributions.csv"'})


@router.get("/contributions/spread.csv")
def contributions_spread(request: Request, country: str | None = None, round: int = 1,
                         u: Account = Depends(user)):
    from ideal.pipeline.contributions import spread

    cc = _contribution_country(request, u, country)
    table = spread(request.app.state.engine, cc, None, round, language_of(request, u))
    return Response(table.to_csv(index=False), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="ideal-spread-{cc}-round{round}.csv"'})


# --- submissions ----------------------------------------------------------------------------

@router.get("/submissions")
def submissions(request: Request, country: str | None = None, status: str | None = None,
                u: Account = Depends(user)):
    if country:
        security.require_country(request, u, country.upper(), "submissions")
    rows = queries.submissions(request.app.state.engine, u, (country or "").upper() or None,
                               status or None)
    return page(request, "submissions.html.j2", rows=rows, country=country, status=status,
                members=request.app.state.settings.members,
                profiles=[p for p in profiles.listing()
                          if not p["problem"] and (u.is_analyst or p["country"] == u.country)],
                max_mb=request.app.state.settings.max_upload_bytes / 2**20)


@router.post("/submissions")
async def upload(request: Request, file: UploadFile = File(...), country: str = Form(""),
                 csrf_token: str = Form(""), u: Account = Depends(user)):
    security.check_csrf(request, csrf_token)
    receipt = await receive(request, file, country, u, "portal", await request.form())
    _ = gettext(request, u)
    # the notice travels in the address: the upload script follows the redirect itself, which
    # would use up a flash message before the browser shows the page
    notice = "?notice=duplicate" if receipt.duplicate else ""
    return RedirectResponse(f"/submissions/{receipt.submission_id}{notice}", status_code=303)


def _own_submission(request: Request, u: Account, submission_id: str) -> dict:
    return security.own_submission(request, u, submission_id)


SHOWN_FINDINGS = 500


@router.get("/submissions/{submission_id}")
def submission(request: Request, submission_id: str, notice: str | None = None,
               u: Account = Depends(user)):
    found = _own_submission(request, u, submission_id)
    engine = request.app.state.engine
    _ = gettext(request, u)
    if notice == "duplicate":
        flash(request, _("This file was already received: nothing was loaded again. To read "
                         "it another way, send it with another profile or sheet."), "warning")
    rows = finding_rows(queries.findings(engine, submission_id, SHOWN_FINDINGS), _)
    counts = queries.finding_counts(engine, submission_id)
    return page(request, "submission.html.j2", s=found, rows=rows, reading=reading_of(request, found, _),
                counts=summary_rows(counts, _), total=int(counts["count"].sum()),
                shown=SHOWN_FINDINGS, status_label=_(STATUS.get(found["status"], found["status"])))


def reading_of(request: Request, found: dict, _) -> list[str]:
    """What IDEAL assumed when it read the file (format, encoding, separator, decimal mark,
    sheet, header row), as its receipt recorded them, said again with the reader's ``_``
    (receipts written before they kept how each was said stay in the steward's language)."""
    path = request.app.state.settings.feedback_dir / found["country"] / f"{found['id']}.receipt.json"
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    written = [str(n) for n in receipt.get("assumptions") or []]
    said = receipt.get("assumptions_said") or []
    notes = [said_in(said[i] if i < len(said) else None, _, note) for i, note in enumerate(written)]
    fmt = receipt.get("format")
    return ([f"{_('format')}: {fmt}"] if fmt else []) + notes


@router.get("/submissions/{submission_id}/{kind}")
def submission_file(request: Request, submission_id: str, kind: str, u: Account = Depends(user)):
    return feedback_file(request, u, submission_id, kind)


FEEDBACK_FILES = {"feedback.csv": (".csv", "text/csv"), "receipt.json": (".receipt.json", "application/json"),
                  "feedback.html": (".html", "text/html")}


def feedback_file(request: Request, u: Account, submission_id: str, kind: str) -> FileResponse:
    """The feedback files written when the submission was processed: the CSV of every
    problem, the JSON receipt and the HTML report (portal and API)."""
    found = _own_submission(request, u, submission_id)
    names = FEEDBACK_FILES
    if kind not in names:
        raise NotFound(msgid=N_("A submission's files are feedback.csv, receipt.json and feedback.html."))
    suffix, media = names[kind]
    folder = request.app.state.settings.feedback_dir / found["country"]
    path = folder / f"{submission_id}{suffix}"
    translated = in_language(path, language_of(request, u))
    if kind != "receipt.json" and translated.is_file():
        path = translated  # in the reader's language, not the steward's
    if not path.is_file():
        raise NotFound(msgid=N_("This submission has no feedback file (it failed before validation); ask "
                                "an analyst to look at the audit log."))
    return FileResponse(path, media_type=media,
                        filename=f"{submission_id}-{kind}",
                        content_disposition_type="attachment")


# --- analysts -------------------------------------------------------------------------------

@router.get("/coverage")
def coverage(request: Request, u: Account = Depends(user)):
    security.require_analyst(request, u, "coverage")
    data = queries.coverage(request.app.state.engine, request.app.state.settings.members)
    return page(request, "coverage.html.j2", cov=data)


@router.get("/runs")
def runs_page(request: Request, u: Account = Depends(user)):
    security.require_analyst(request, u, "runs")
    airflow_runs, airflow_error = [], None
    try:
        api = airflow()
        if api is not None:
            airflow_runs = api.runs(ASSESS_DAG, 10)
    except UpstreamError as exc:
        airflow_error = str(exc)
    crime_types = reference.iccs()
    crime_types = crime_types[crime_types["code"].isin(reference.scored_crime_types())]
    from ideal.scoring.profile import installed, load_profile

    profiles = [{"name": n, "version": load_profile(n)["version"]} for n in installed()]
    return page(request, "runs.html.j2", runs=runs.recent(request.app.state.engine),
                jobs=request.app.state.jobs.recent(), airflow_runs=airflow_runs, profiles=profiles,
                airflow_error=airflow_error, members=request.app.state.settings.members,
                crime_types=crime_types.to_dict("records"))


@router.post("/runs")
async def trigger_run(request: Request, u: Account = Depends(user)):
    security.require_analyst(request, u, "run.trigger")
    form = await request.form()
    security.check_csrf(request, form.get("csrf_token"))
    wanted = AssessmentRequest.from_mapping({
        "period": (form.get("period") or "").strip() or None,
        "countries": form.getlist("countries"), "crime_types": form.getlist("crime_types"),
        "profile": form.get("profile") or "default", "note": form.get("note") or None})
    outcome = start_assessment(request, u, wanted)
    if outcome["where"] == "airflow":
        flash(request, gettext(request, u)("Airflow run %(run)s queued.") % {"run": outcome["run_id"]},
              "ok")
        return RedirectResponse("/runs", status_code=303)
    return RedirectResponse(f"/jobs/{outcome['job']}", status_code=303)


def start_assessment(request: Request, u: Account, wanted: AssessmentRequest) -> dict:
    """Through Airflow's REST API when IDEAL_AIRFLOW_URL is set, else a background job of
    this server. Bad parameters are refused before anything starts."""
    engine = request.app.state.engine

    def local(req: AssessmentRequest) -> trigger.Triggered:
        job = request.app.state.jobs.start("assessment", u.username, req.conf())
        return trigger.Triggered(f"job-{job.id}", "local", f"/jobs/{job.id}", job.state)

    done = trigger.trigger(engine, wanted, u.actor, local)
    if done.where == "airflow":
        return {"where": "airflow", "run_id": done.run_id, "state": done.state}
    return {"where": "local", "job": done.run_id.removeprefix("job-")}


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: str, u: Account = Depends(user)):
    security.require_analyst(request, u, "job")
    found = request.app.state.jobs.get(job_id)
    if found is None:
        raise NotFound(msgid=N_("No job %(id)s."), values={"id": job_id})
    return page(request, "job.html.j2", job=found)


SCORES_SHOWN = 200
SCORE_SORTS = {"score": ("score", False), "reliability": ("reliability", False), "rank": ("rank", True),
               "interval": ("_width", False), "region": ("region", True)}


def _run_scores(scores: pd.DataFrame, country: str | None, crime: str | None,
                level: str | None, sort: str) -> pd.DataFrame:
    """A run's scores filtered and sorted as asked."""
    if country:
        scores = scores[scores["country"] == country.upper()]
    if crime:
        scores = scores[scores["crime_type"] == crime]
    if level:
        scores = scores[scores["level"] == level]
    key, ascending = SCORE_SORTS.get(sort, SCORE_SORTS["score"])
    scores = scores.assign(_width=scores["rank_p95"] - scores["rank_p5"]).sort_values(
        [key, "region"], ascending=[ascending, True], na_position="last")
    return scores.drop(columns="_width")


@router.get("/runs/{run_id}/scores.csv")
def run_scores_csv(request: Request, run_id: str, country: str | None = None, crime: str | None = None,
                   level: str | None = None, sort: str = "score", u: Account = Depends(user)):
    """Every score of the run (or those the filters keep) as CSV, formulas neutralised."""
    security.require_analyst(request, u, "run.scores")
    if runs.find(request.app.state.engine, run_id) is None:
        raise NotFound(gettext(request, u)("No assessment run %(id)s.") % {"id": run_id})
    _, scores = runs.load(request.app.state.engine, run_id)
    from ideal.report.annex import scores_csv

    return Response(scores_csv(_run_scores(scores, country, crime, level, sort)), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{run_id}-scores.csv"'})


@router.get("/runs/{run_id}/map.svg")
def run_map(request: Request, run_id: str, crime: str | None = None, u: Account = Depends(user)):
    """The run's map of threat levels by region (of one crime type with ``crime``), as in the briefing."""
    security.require_analyst(request, u, "run.map")
    found = runs.find(request.app.state.engine, run_id)
    if found is None:
        raise NotFound(gettext(request, u)("No assessment run %(id)s.") % {"id": run_id})
    _, scores = runs.load(request.app.state.engine, run_id)
    scope = list(found["countries"])
    from ideal.report import maps

    svg = maps.level_map(scores, scope, maps.legend_for(scope, language_of(request, u)), crime_type=crime or None)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str, country: str | None = None, crime: str | None = None,
             level: str | None = None, sort: str = "score", u: Account = Depends(user)):
    security.require_analyst(request, u, "run")
    engine = request.app.state.engine
    found = runs.find(engine, run_id)
    if found is None:
        raise NotFound(gettext(request, u)("No assessment run %(id)s.") % {"id": run_id})
    stored, scores = runs.load(engine, run_id)
    every = _run_scores(scores, country, crime, level, sort)
    listing = {"rows": every.head(SCORES_SHOWN).to_dict("records"), "n": len(every), "total": len(scores),
               "shown": min(len(every), SCORES_SHOWN), "country": (country or "").upper(),
               "crime": crime or "", "level": level or "", "sort": sort,
               "countries": sorted(found["countries"]), "crimes": reference.scored_crime_types(),
               "query": "&".join(f"{k}={v}" for k, v in (("country", country), ("crime", crime),
                                                         ("level", level), ("sort", sort)) if v)}
    from ideal.pipeline import assessment
    from ideal.report.context import member_status, other_years, unit_reason

    top = assessment.top_scores(engine, run_id, scores=scores, profile=stored.get("profile") or {})[
        ["country", "region", "crime_type", "score", "level", "rate", "reliability", "rank_p5",
         "rank_p95", "p_first", "p_top10"]].to_dict("records")
    _ = gettext(request, u)
    unscored: dict[tuple, int] = {}
    for unit in (found.get("info") or {}).get("unscored") or []:
        key = (unit["country"], unit_reason(unit["reason"], _))
        unscored[key] = unscored.get(key, 0) + 1
    members = [{"country": c["country"], "status": c.get("status"), "text": member_status(c, found["period"], _),
                "observations": c.get("observations", 0)}
               for c in (found.get("info") or {}).get("countries") or []]
    return page(request, "run.html.j2", run=found, top=top, listing=listing,
                scored=runs.scored_countries(engine, run_id),
                reports=reports.of_run(engine, run_id), members=members,
                other_years=other_years((found.get("info") or {}).get("other_years"), language_of(request, u)),
                unscored=[{"country": c, "reason": r, "n": n} for (c, r), n in sorted(unscored.items())])


@router.post("/runs/{run_id}/render")
def render(request: Request, run_id: str, kind: str = Form("briefing"), language: str = Form("es"),
           csrf_token: str = Form(""), u: Account = Depends(user)):
    security.require_analyst(request, u, "run.render")
    security.check_csrf(request, csrf_token)
    if kind not in ("briefing", "annex") or language not in LANGUAGES:
        raise IdealError(msgid=N_("A report is a briefing or an annex, in es, pt or en."))
    if runs.find(request.app.state.engine, run_id) is None:
        raise NotFound(msgid=N_("No assessment run %(id)s."), values={"id": run_id})
    found = request.app.state.jobs.start(kind, u.username, {"run_id": run_id, "language": language})
    return RedirectResponse(f"/jobs/{found.id}", status_code=303)


@router.get("/reports/{report_id}")
def download_report(request: Request, report_id: int, u: Account = Depends(user)):
    security.require_analyst(request, u, "report")
    found = reports.get(request.app.state.engine, report_id)
    if found is None:
        raise NotFound(msgid=N_("No report %(id)s."), values={"id": report_id})
    path = Path(found["path"]).resolve()
    if not path.is_relative_to(reports_root()):
        raise NotFound(msgid=N_("The report file is outside the reports folder."))
    if not found["current"]:
        raise Conflict(msgid=N_("This file has since been replaced by another run's report of the same "
                                "period: render it again from the run's page."))
    return FileResponse(path, media_type="application/pdf",
                        filename=f"{found['kind']}-{found['run_id']}-{found['language']}.pdf",
                        content_disposition_type="attachment")


COMPARE_SHOWN = 100
COMPARE_SORTS = {"rank": "rank_change", "score": "score_change"}


@router.get("/compare")
def compare(request: Request, a: str | None = None, b: str | None = None, country: str | None = None,
            cause: str | None = None, sort: str = "rank", u: Account = Depends(user)):
    """Two runs side by side: by default the two latest different runs (earlier -> later).
    A change of the methodology or of the country scope is named as such; the list of changed
    units says how many it shows of how many, and can be filtered and sorted."""
    security.require_analyst(request, u, "compare")
    engine = request.app.state.engine
    all_runs = runs.recent(engine)
    if not (a and b) and len(all_runs) >= 2:
        a, b = a or all_runs[1]["id"], b or all_runs[0]["id"]
    result = None
    if a and b:
        found_a, found_b = runs.find(engine, a), runs.find(engine, b)
        if found_a is None or found_b is None:
            raise NotFound(gettext(request, u)("No assessment run %(id)s.") % {"id": a if found_a is None else b})
        from ideal.pipeline import assessment

        same, d = assessment.compare_runs(engine, a, b)
        changed = d[d["cause"] != "none"]
        countries_a, countries_b = set(found_a["countries"] or []), set(found_b["countries"] or [])
        listed = changed
        if country:
            listed = listed[listed["country"] == country.upper()]
        if cause:
            listed = listed[listed["cause"] == cause]
        key = COMPARE_SORTS.get(sort, "rank_change")
        listed = listed.sort_values(key, key=lambda v: -v.abs(), na_position="last")
        result = {"same_profile": same, "n": len(d), "n_changed": len(changed),
                  "causes": changed["cause"].value_counts().to_dict(),
                  "added": sorted(countries_b - countries_a), "removed": sorted(countries_a - countries_b),
                  "periods": (found_a["period"], found_b["period"]),
                  "n_listed": len(listed), "shown": min(len(listed), COMPARE_SHOWN),
                  "countries": sorted(changed["country"].dropna().unique()),
                  "rows": listed.head(COMPARE_SHOWN).to_dict("records")}
    return page(request, "compare.html.j2", runs=all_runs, a=a, b=b, result=result,
                country=(country or "").upper(), cause=cause or "", sort=sort)


# --- crosswalk profiles (analysts and admins) ------------------------------------------------

@router.get("/profiles")
def profiles_page(request: Request, u: Account = Depends(user)):
    security.require_analyst(request, u, "profiles")
    return page(request, "profiles.html.j2", profiles=profiles.listing(),
                members=request.app.state.settings.members, text="", result=None, problems=None)


@router.post("/profiles/check")
async def check_profile(request: Request, text: str = Form(""), country: str = Form(""),
                        sample: UploadFile | None = File(None), definition: UploadFile | None = File(None),
                        csrf_token: str = Form(""), u: Account = Depends(user)):
    """Validate a profile (pasted or uploaded) and, with a sample file, try it (a dry run)."""
    security.require_analyst(request, u, "profile.check")
    security.check_csrf(request, csrf_token)
    settings = request.app.state.settings
    if definition is not None and definition.filename:
        text = (await read_upload(definition, 2**20)).decode("utf-8", errors="replace")
    data = await read_upload(sample, settings.max_upload_bytes) if sample is not None and sample.filename else b""
    name = sample.filename if sample is not None and sample.filename else ""

    def work():
        try:
            return profiles.try_text(text, data, name, country, request.app.state.engine,
                                     language_of(request, u))
        except ProfileError as exc:
            return None, str(exc)
    result, problems = await anyio.to_thread.run_sync(work, limiter=request.app.state.upload_slots)
    return page(request, "profiles.html.j2", status_code=200 if problems is None else 422,
                profiles=profiles.listing(), members=settings.members, text=text,
                result=result, problems=problems, country=country)


@router.post("/profiles/install")
def install_profile(request: Request, text: str = Form(...), csrf_token: str = Form(""),
                    u: Account = Depends(user)):
    security.require_analyst(request, u, "profile.install")
    security.check_csrf(request, csrf_token)
    prof, _path = profiles.install(text, "portal upload", actor=u.actor, engine=request.app.state.engine,
                                   language=language_of(request, u))
    flash(request, gettext(request, u)("Profile %(name)s installed: stewards can choose it when "
                                       "they send a file.") % {"name": prof.name}, "ok")
    return RedirectResponse("/profiles", status_code=303)


# --- admin ----------------------------------------------------------------------------------

@router.get("/users")
def users(request: Request, u: Account = Depends(user)):
    security.require_admin(request, u, "users")
    return page(request, "users.html.j2", users=accounts.list_users(request.app.state.engine),
                members=request.app.state.settings.members, roles=accounts.ROLES)


@router.post("/users")
def add_user(request: Request, username: str = Form(...), password: str = Form(...),
             role: str = Form(...), country: str = Form(""), language: str = Form("es"),
             email: str = Form(""), csrf_token: str = Form(""), u: Account = Depends(user)):
    security.require_admin(request, u, "user.add")
    security.check_csrf(request, csrf_token)
    try:
        accounts.add_user(request.app.state.engine, username, password, role, country or None,
                          language, request.app.state.settings.members, actor=u.actor, email=email)
    except AccountError as exc:  # said in the admin's language
        flash(request, gettext(request, u)("User %(name)s not added: %(reason)s")
              % {"name": username.strip().lower(), "reason": exc.in_language(gettext(request, u))}, "error")
    else:
        flash(request, gettext(request, u)("User %(name)s added.") % {"name": username}, "ok")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/active")
def set_active(request: Request, username: str, active: str = Form(...),
               csrf_token: str = Form(""), u: Account = Depends(user)):
    security.require_admin(request, u, "user.active")
    security.check_csrf(request, csrf_token)
    if username == u.username:
        raise IdealError(msgid=N_("You cannot disable your own account."))
    try:
        accounts.set_active(request.app.state.engine, username, active == "1", actor=u.actor)
    except AccountError as exc:
        raise NotFound(exc.in_language(gettext(request, u))) from None
    return RedirectResponse("/users", status_code=303)
