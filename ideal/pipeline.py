"""The pipeline's steps as plain functions with JSON-able inputs and outputs.

Airflow tasks (dags/) and the CLI call these; each Airflow task body is one call here.
Nothing in this module imports Airflow.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ideal.config import get_settings
from ideal.errors import ValidationFailed
from ideal.store import is_initialised, make_engine, upgrade


def engine():
    """The warehouse engine, migrated to the newest schema if needed."""
    eng = make_engine()
    if not is_initialised(eng):
        upgrade(eng)
    return eng


def pending_submissions() -> list[dict]:
    """What to process: submissions a crashed run left half-way (marked failed, retried from
    the archive) as [{country, retry}], and the files waiting in the landing folder as
    [{country, path}]."""
    from ideal.ingest.inbox import pending
    from ideal.ingest.recover import interrupted

    retries = [{"country": s["country"], "retry": s["id"]} for s in interrupted(engine())]
    return retries + [{"country": cc, "path": str(p)} for cc, p in pending()]


def receipt_dict(receipt) -> dict:
    out = asdict(receipt)
    out.pop("findings")
    for key in ("feedback_path", "feedback_csv"):
        out[key] = str(out[key]) if out[key] else None
    return out


def ingest_item(item: dict) -> dict:
    """Submit one landing-folder file; returns its receipt (rejections are not errors here:
    :func:`raise_for_rejections` reports them once all files are processed)."""
    from ideal.ingest.inbox import ingest_one

    if "retry" in item:
        from ideal.ingest.recover import retry

        return receipt_dict(retry(engine(), item["retry"], strict=False))
    path = Path(item["path"])
    if not path.exists():  # processed by an earlier try of this task
        return {"country": item["country"], "filename": path.name, "status": "gone",
                "duplicate": True, "submission_id": None}
    return receipt_dict(ingest_one(item["country"], path, engine()))


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


def assess(period: str | None = None, countries: list[str] | None = None,
           crime_types: list[str] | None = None, profile: str = "default",
           note: str | None = None) -> dict:
    from ideal.scoring.run import assess as run_assessment

    result = run_assessment(engine(), period or None, countries or None, crime_types or None,
                            profile or "default", note)
    return {"run_id": result.run_id, "period": result.period, "reused": result.reused,
            "n_observations": result.n_observations, "n_scores": result.n_scores}


def report(run_id: str | None = None, languages: list[str] | None = None) -> dict:
    """Render the run's briefings (newest run by default); returns {run_id, paths}."""
    from ideal.report.render import render_briefing
    from ideal.scoring.run import load_run

    eng = engine()
    run_id = load_run(eng, run_id or None)[0]["id"]
    paths = [str(render_briefing(eng, run_id, lang)) for lang in (languages or [get_settings().language])]
    return {"run_id": run_id, "paths": paths}


def assess_and_report(conf: dict, step=None) -> dict:
    """A reassessment without Airflow: assess with the trigger's parameters, then render the
    briefing; ``step(text)`` hears the progress. Returns {run_id, paths}."""
    step = step or (lambda _text: None)
    step("assessing")
    result = assess(conf.get("period"), conf.get("countries"), conf.get("crime_types"),
                    conf.get("profile") or "default", conf.get("note"))
    step(f"run {result['run_id']}: {result['n_scores']} scores from {result['n_observations']} "
         f"observations{' (same data and method: the stored run is reused)' if result['reused'] else ''}")
    step("rendering the briefing")
    rendered = report(result["run_id"], conf.get("languages"))
    step("briefing ready")
    return rendered


def deliver(run_id: str | None = None, distribution_path: str | None = None) -> list[dict]:
    """Send the run's briefings to the distribution list; with no list configured, nothing
    is sent and that is said (a report run does not fail for it)."""
    import logging
    from dataclasses import asdict
    from pathlib import Path

    from ideal.errors import ConfigError
    from ideal.report.delivery import deliver as send, distribution
    from ideal.scoring.run import load_run

    try:
        recipients = distribution(Path(distribution_path) if distribution_path else None)
    except ConfigError as exc:
        logging.getLogger("ideal.delivery").warning("%s Nothing delivered.", exc)
        return []
    eng = engine()
    run, _ = load_run(eng, run_id)
    outcomes = send(eng, run["id"], recipients)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise ReportDeliveryFailed(f"{len(failed)} of {len(outcomes)} deliveries failed: "
                                   + "; ".join(f"{o.recipient}: {o.detail}" for o in failed))
    return [asdict(o) for o in outcomes]


class ReportDeliveryFailed(Exception):
    """Raised so that Airflow retries the delivery task; sent mails are not sent again."""
