"""The Airflow tasks' bodies as plain functions with JSON-able inputs and outputs: each task
in dags/ is one call here. Nothing in this module imports Airflow."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path

from ideal.config import get_settings
from ideal.contracts import AssessmentRequest
from ideal.errors import ConfigError, DeliveryFailed, ValidationFailed
from ideal.pipeline import assessment, delivery, inbox, recover
from ideal.pipeline.submission import receipt_dict
from ideal.report.delivery import distribution
from ideal.scoring.profile import check_name
from ideal.services import engine
from ideal.store import runs


def pending_submissions() -> list[dict]:
    """What to process: submissions a crashed run left half-way (marked failed, retried from
    the archive) as [{country, retry}], and the files waiting in the landing folder as
    [{country, path}]."""
    retries = [{"country": s["country"], "retry": s["id"]} for s in recover.interrupted(engine())]
    return retries + [{"country": cc, "path": str(p)} for cc, p in inbox.pending()]


def item_name(item: dict) -> str:
    """What the landing-folder scan's item is called in Airflow: 'MX mx-2025.csv', or 'MX retry
    <submission>'."""
    return f"{item['country']} " + (f"retry {item['retry']}" if "retry" in item
                                    else Path(item["path"]).name)


def ingest_item(item: dict) -> dict:
    """Submit one landing-folder file; returns its receipt (rejections are not errors here:
    :func:`raise_for_rejections` reports them once all files are processed)."""
    if "retry" in item:
        return receipt_dict(recover.retry(engine(), item["retry"], strict=False))
    path = Path(item["path"])
    if not path.exists():  # processed by an earlier try of this task
        return {"country": item["country"], "filename": path.name, "status": "gone",
                "duplicate": True, "submission_id": None}
    return receipt_dict(inbox.ingest_one(item["country"], path, engine()))


def summarise(receipts: list[dict]) -> dict:
    """What the 'validated indicators' asset event carries."""
    accepted = [r for r in receipts if r["status"] == "accepted" and not r["duplicate"]]
    return {
        "accepted": len(accepted),
        "rejected": sum(r["status"] == "rejected" and not r["duplicate"] for r in receipts),
        "countries": sorted({r["country"] for r in accepted}),
        "periods": sorted({p for r in accepted for p in r.get("periods") or []}),
        "submission_ids": [r["submission_id"] for r in accepted],
    }


def raise_for_rejections(receipts: list[dict]) -> None:
    rejected = [r for r in receipts if r["status"] == "rejected" and not r["duplicate"]]
    if rejected:
        names = ", ".join(f"{r['country']}:{r['filename']} ({r['submission_id']})" for r in rejected)
        raise ValidationFailed(f"{len(rejected)} submission(s) rejected and quarantined: {names}. "
                               "The stewards have their feedback files.", failures=len(rejected))


def assess(conf: dict) -> dict:
    """The assessment in one task: the trigger form's parameters -> a stored run (the profile
    one of the installed ones: Airflow's trigger form takes any text)."""
    request = AssessmentRequest.from_mapping(conf)
    check_name(request.profile)
    return _result(assessment.assess(engine(), request))


TOP = 5
LOG = logging.getLogger("ideal.assess")


def _result(result: assessment.RunResult) -> dict:
    """The task's result (what Airflow keeps as its return value and the asset event's extra):
    the run, its size, its top threats and its portal page; the log says the same."""
    top = assessment.top_scores(engine(), result.run_id, limit=TOP)
    out = {"run_id": result.run_id, "period": result.period, "reused": result.reused,
           "n_observations": result.n_observations, "n_scores": result.n_scores,
           "top": [{"crime_type": r.crime_type, "region": r.region, "country": r.country,
                    "score": round(float(r.score), 1), "level": r.level} for r in top.itertuples()],
           "not_assessed": [{"country": c["country"], "reason": c.get("reason")} for c in result.not_assessed()],
           "link": get_settings().public_link(f"/runs/{result.run_id}")}
    for line in summary(out).splitlines():
        LOG.info(line)
    return out


def summary(result: dict, note: str | None = None) -> str:
    """The run in a few lines (the assess task's log and the Airflow run's note): its id, the
    analyst's note, the top threats, where to read it."""
    from ideal import reference

    lines = [f"Assessment {result['run_id']} ({result['period']}): {result['n_scores']} scores "
             f"from {result['n_observations']} observations"
             + (" (same data and method: the stored run is reused)" if result.get("reused") else "")]
    if note:
        lines.append(f"Note: {note}")
    if result.get("top"):
        lines.append("Top threats:")
        lines += [f"{i}. {t['score']:.1f} {t['level']}: {reference.crime_name(t['crime_type'], 'en', short=True)}, "
                  f"{reference.region_name(t['region'])} ({t['country']})"
                  for i, t in enumerate(result["top"], 1)]
    if result.get("not_assessed"):
        lines.append("Not assessed: " + "; ".join(f"{c['country']} ({c['reason']})" for c in result["not_assessed"]))
    if result.get("link"):
        lines.append(f"Portal: {result['link']}")
    return "\n".join(lines)


NOTE_LIMIT = 1000  # Airflow's dag run note


def note_run(dag_id: str, run_id: str, text: str) -> bool:
    """Write ``text`` as the Airflow run's note through the REST API (IDEAL_AIRFLOW_URL, _USER,
    _PASSWORD), where analysts look for the result. Without the API configured, or if Airflow
    refuses, the task's log keeps the text and the task goes on: a note never fails a run."""
    from ideal import services
    from ideal.errors import UpstreamError

    text = text if len(text) <= NOTE_LIMIT else text[:NOTE_LIMIT - 1] + "\u2026"
    try:
        client = services.airflow()
        if client is None:
            LOG.info("IDEAL_AIRFLOW_URL is not set: the run's note is not written (it is above).")
            return False
        client.set_note(dag_id, run_id, text)
    except UpstreamError as exc:
        LOG.warning("The run's note was not written: %s", exc)
        return False
    return True


def plan_assessment(conf: dict) -> list[dict]:
    """The assessment DAG's first task: the parameters checked and resolved, written to a
    folder of its own under IDEAL_HOME/assessments/ that the countries' tasks and the combining
    task share. Returns {folder, countries, period}."""
    request = AssessmentRequest.from_mapping(conf)
    check_name(request.profile)
    p = assessment.plan(engine(), request)
    folder = get_settings().home / "assessments" / f"{p.period}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    (folder / "plan.json").write_text(json.dumps(asdict(p)))
    return [{"folder": str(folder), "country": cc} for cc in p.countries]


def _plan(folder: str) -> assessment.Plan:
    return assessment.Plan(**json.loads((Path(folder) / "plan.json").read_text()))


def prepare_country(folder: str, country: str) -> dict:
    """One country's part of the assessment (one mapped task: it reads that country's
    observations alone) written to the plan's folder."""
    part = assessment.prepare(engine(), _plan(folder), country)
    part.save(Path(folder))
    return {"folder": folder, "country": country, "observations": part.n_observations,
            "units": int(len(part.rates)), "has_year": part.has_year}


def combine_assessment(prepared: list[dict]) -> dict:
    """The countries' parts (what :func:`prepare_country` returned for each) -> the stored run
    (ranks, Monte Carlo, early warning across countries); their folder is removed once the
    run is stored."""
    folder = prepared[0]["folder"]
    p = _plan(folder)
    parts = [assessment.CountryPart.load(Path(folder) / cc) for cc in p.countries]
    out = _result(assessment.combine(engine(), p, parts))
    shutil.rmtree(folder, ignore_errors=True)
    return out


def report(run_id: str | None = None, languages: list[str] | None = None) -> dict:
    """Render the run's briefings (newest run by default); returns {run_id, period, paths,
    link} with absolute paths, and says in the log which run it rendered."""
    eng = engine()
    out = assessment.report(eng, run_id or None, languages)
    run = runs.find(eng, out["run_id"]) or {}
    out = {**out, "period": run.get("period"), "paths": [str(Path(p).resolve()) for p in out["paths"]],
           "link": get_settings().public_link(f"/runs/{out['run_id']}")}
    LOG.info("Briefings of assessment %s (%s):", out["run_id"], out["period"])
    for path in out["paths"]:
        LOG.info("  %s", path)
    return out


def report_note(rendered: dict) -> str:
    """The report run's note: which assessment it rendered and where the PDFs are."""
    lines = [f"Briefings of assessment {rendered['run_id']} ({rendered.get('period')})"]
    lines += [f"Briefing: {p}" for p in rendered["paths"]]
    if rendered.get("link"):
        lines.append(f"Portal: {rendered['link']}")
    return "\n".join(lines)


def deliver(run_id: str | None = None, distribution_path: str | None = None) -> dict:
    """Send the run's briefings to the distribution list: {"delivered": [outcome, ...]}.
    With no list configured (none given, none at IDEAL_DISTRIBUTION), nothing is sent and
    {"skipped": reason} says so; a list that was given but is missing or wrong raises
    ConfigError."""
    try:
        recipients = distribution(Path(distribution_path) if distribution_path else None)
    except ConfigError as exc:
        if distribution_path:
            raise
        logging.getLogger("ideal.delivery").warning("%s Nothing delivered.", exc)
        return {"skipped": f"{exc} Nothing delivered."}
    eng = engine()
    run, _ = runs.load(eng, run_id)
    outcomes = delivery.deliver(eng, run["id"], recipients)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise DeliveryFailed(f"{len(failed)} of {len(outcomes)} deliveries failed: "
                             + "; ".join(f"{o.recipient}: {o.detail}" for o in failed))
    return {"delivered": [asdict(o) for o in outcomes]}
