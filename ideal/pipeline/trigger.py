"""Analysts' reassessments: through Airflow's REST API (v2) when IDEAL_AIRFLOW_URL is set,
else the same pipeline steps here. One place decides which, for the CLI and the portal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from ideal.config import get_settings
from ideal.contracts import AssessmentRequest
from ideal.scoring.profile import check_name
from ideal.scoring.run import check_scope
from ideal.services import ASSESS_DAG, airflow
from ideal.store import audit, runs


@dataclass
class Triggered:
    run_id: str
    where: str  # "airflow" or "local"
    link: str | None = None
    state: str | None = None


def check(request: AssessmentRequest) -> None:
    """Refuse bad parameters before anything starts: the scope, and a methodology profile
    that is not an installed one, by name."""
    check_scope(request.period, list(request.countries), list(request.crime_types),
                get_settings().members)
    check_name(request.profile)


def trigger(engine: Engine, request: AssessmentRequest, actor: str,
            local: Callable[[AssessmentRequest], Triggered] | None = None) -> Triggered:
    """Start a reassessment: a DAG run in Airflow, else ``local(request)`` (by default: assess
    and render here, waiting for the briefing). Audited either way."""
    check(request)
    api = airflow()
    if api is not None:
        dag_run = api.trigger(ASSESS_DAG, request.conf())
        done = Triggered(dag_run["dag_run_id"], "airflow", api.link(ASSESS_DAG, dag_run["dag_run_id"]),
                         dag_run.get("state"))
    elif local is not None:
        done = local(request)
    else:
        from ideal.pipeline.assessment import assess_and_report  # heavy: not at a server's start

        rendered = assess_and_report(engine, request)
        done = Triggered(rendered["run_id"], "local", rendered["paths"][0], "success")
    audit.log(engine, actor=actor, action="run.triggered", outcome="ok",
              object_id=done.run_id[:64], detail=str(request.conf()))
    return done


def recent_runs(engine: Engine, limit: int = 10) -> list[dict]:
    """Recent assessment runs, newest first: Airflow's DAG runs when configured (the assessment
    id read from the run's note, which the assess task writes), else the warehouse's. Each:
    run_id, state, started, conf, assessment, link."""
    api = airflow()
    if api is not None:
        out = []
        for r in api.runs(ASSESS_DAG, limit):
            note = r.get("note") or ""
            out.append({"run_id": r["dag_run_id"], "state": r["state"], "started": r.get("start_date"),
                        "conf": r.get("conf") or {},
                        "assessment": note.split()[1] if note.startswith("Assessment ") else None,
                        "link": api.link(ASSESS_DAG, r["dag_run_id"])})
        return out
    settings = get_settings()
    return [{"run_id": r["id"], "state": "stored", "started": r["created_at"].isoformat(),
             "conf": {**r["params"], "note": r["note"]}, "assessment": r["id"],
             "link": settings.public_link(f"/runs/{r['id']}")} for r in runs.recent(engine, limit)]
