"""Analysts' triggers: through Airflow's REST API (v2) when IDEAL_AIRFLOW_URL is set, else the
same pipeline code locally. A small client with a real implementation and no Airflow import."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ideal.errors import IdealError

ASSESS_DAG = "ideal_assess"


@dataclass
class Triggered:
    run_id: str
    where: str  # "airflow" or "local"
    link: str | None = None
    state: str | None = None


class AirflowClient:
    """Airflow 3 REST v2 with a JWT from /auth/token (simple auth manager or compatible)."""

    def __init__(self, base_url: str, username: str | None, password: str | None, timeout: float = 30):
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        try:
            if username:
                r = self.http.post(f"{self.base}/auth/token", timeout=timeout,
                                   json={"username": username, "password": password or ""})
            else:  # simple_auth_manager_all_admins
                r = self.http.get(f"{self.base}/auth/token", timeout=timeout)
        except requests.RequestException as exc:
            raise IdealError(f"Airflow at {self.base} cannot be reached ({exc}); check "
                             "IDEAL_AIRFLOW_URL.") from exc
        if r.status_code not in (200, 201):
            raise IdealError(f"Airflow refused the login ({r.status_code}); check "
                             "IDEAL_AIRFLOW_USER and IDEAL_AIRFLOW_PASSWORD.")
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def _call(self, method: str, path: str, **kw) -> dict:
        r = self.http.request(method, f"{self.base}/api/v2{path}", timeout=self.timeout, **kw)
        if r.status_code >= 400:
            detail = r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else r.text
            raise IdealError(f"Airflow refused {method} {path} ({r.status_code}): {detail}")
        return r.json()

    def trigger(self, dag_id: str, conf: dict) -> dict:
        return self._call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})

    def runs(self, dag_id: str, limit: int = 10) -> list[dict]:
        return self._call("GET", f"/dags/{dag_id}/dagRuns",
                          params={"limit": limit, "order_by": "-start_date"})["dag_runs"]


def client() -> AirflowClient | None:
    url = os.environ.get("IDEAL_AIRFLOW_URL")
    if not url:
        return None
    return AirflowClient(url, os.environ.get("IDEAL_AIRFLOW_USER"), os.environ.get("IDEAL_AIRFLOW_PASSWORD"))


def trigger_assessment(conf: dict) -> Triggered:
    """Start an assessment: a DAG run in Airflow, or (no Airflow configured) the same steps
    here: assess, then render the briefing."""
    api = client()
    if api is not None:
        run = api.trigger(ASSESS_DAG, conf)
        return Triggered(run["dag_run_id"], "airflow",
                         f"{api.base}/dags/{ASSESS_DAG}/runs/{run['dag_run_id']}", run.get("state"))
    from ideal.pipeline import assess_and_report

    rendered = assess_and_report(conf)
    return Triggered(rendered["run_id"], "local", rendered["paths"][0], "success")


def recent_runs(limit: int = 10) -> list[dict]:
    """Recent assessment runs: Airflow's DAG runs when configured, else the warehouse's."""
    api = client()
    if api is not None:
        return [{"run_id": r["dag_run_id"], "state": r["state"], "started": r.get("start_date"),
                 "conf": r.get("conf")} for r in api.runs(ASSESS_DAG, limit)]
    from sqlalchemy import select

    from ideal.pipeline import engine
    from ideal.store.models import AssessmentRun

    with engine().connect() as conn:
        rows = conn.execute(select(AssessmentRun.id, AssessmentRun.created_at, AssessmentRun.params,
                                   AssessmentRun.note).order_by(AssessmentRun.created_at.desc())
                            .limit(limit)).all()
    return [{"run_id": r.id, "state": "stored", "started": r.created_at.isoformat(),
             "conf": {**r.params, "note": r.note}} for r in rows]
