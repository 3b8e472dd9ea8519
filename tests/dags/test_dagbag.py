"""The DAG files load without errors, stay light at parse time, and carry tags and retries."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py"))
NO_RETRY = {("ideal_ingest", "check_rejections")}  # reports rejections; retrying changes nothing


def airflow_env(tmp_path) -> dict:
    env = dict(os.environ)
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__CORE__DAGS_FOLDER=str(DAGS), IDEAL_HOME=str(tmp_path / "var"),
               IDEAL_REPORTS_DIR=str(tmp_path / "reports"), GX_ANALYTICS_ENABLED="False")
    env.pop("IDEAL_DATABASE_URL", None)
    return env


def run_py(code: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def bag_summary(tmp_path_factory):
    env = airflow_env(tmp_path_factory.mktemp("dagbag"))
    code = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS)!r})
print(json.dumps({{
  "errors": {{k: v for k, v in bag.import_errors.items()}},
  "dags": {{d.dag_id: {{"tags": sorted(d.tags), "doc": bool(d.doc_md),
            "retries": {{t.task_id: t.retries for t in d.tasks}},
            "callbacks": all(t.on_failure_callback for t in d.tasks),
            "paused_on_creation": d.is_paused_upon_creation, "catchup": d.catchup,
            "timetable": type(d.timetable).__name__,
            "params": {{k: {{**d.params.get_param(k).schema,
                             "description": d.params.get_param(k).description}} for k in d.params}}}} for d in bag.dags.values()}}
}}))
"""
    out = run_py(code, env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dagbag_has_no_import_errors(bag_summary):
    assert bag_summary["errors"] == {}
    assert set(bag_summary["dags"]) == {"ideal_ingest", "ideal_assess", "ideal_report"}


def test_every_dag_has_tags_docs_and_retries(bag_summary):
    for dag_id, dag in bag_summary["dags"].items():
        # unpaused from the start, no catch-up runs: a dropped file is ingested, the report follows
        assert dag["paused_on_creation"] is False and dag["catchup"] is False, dag_id
        assert "ideal" in dag["tags"] and len(dag["tags"]) >= 2, dag_id
        assert dag["doc"], dag_id
        assert dag["callbacks"], f"{dag_id}: every task needs the failure callback"
        for task_id, retries in dag["retries"].items():
            if (dag_id, task_id) not in NO_RETRY:
                assert retries >= 2, (dag_id, task_id)


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_in_under_a_second_beyond_airflow_sdk(dag_file, tmp_path):
    """Time the DAG file itself, after `import airflow.sdk` (the baseline) in the same process."""
    code = f"""
import time, runpy
import airflow.sdk
from airflow.sdk import dag, task, Asset, Param
t0 = time.perf_counter()
runpy.run_path({str(dag_file)!r})
print(time.perf_counter() - t0)
"""
    out = run_py(code, airflow_env(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    seconds = float(out.stdout.strip().splitlines()[-1])
    assert seconds < 1.0, f"{dag_file.name} took {seconds:.2f} s to parse"


def test_assess_and_report_run_on_their_asset_or_on_a_schedule(bag_summary):
    assert bag_summary["dags"]["ideal_assess"]["timetable"] == "AssetOrTimeSchedule"
    assert bag_summary["dags"]["ideal_report"]["timetable"] == "AssetOrTimeSchedule"


def test_the_trigger_form_offers_selects_with_names_in_the_analysts_language(bag_summary):
    """Countries and crime types are multi-selects showing names (Spanish by default, from
    IDEAL's catalogues and CLDR), the profile a select of the installed ones."""
    params = bag_summary["dags"]["ideal_assess"]["params"]
    countries, crimes = params["countries"], params["crime_types"]
    assert countries["type"] == ["array", "null"] and "MX" in countries["examples"]  # not required
    assert countries["values_display"]["MX"] == "México (MX)" and countries["title"] == "Países"
    assert crimes["examples"] and crimes["values_display"]["0101"].startswith("0101 · ")
    assert crimes["title"] == "Tipos de delito"
    assert "default" in params["profile"]["enum"] and params["profile"]["title"] == "Perfil metodológico"
    assert params["period"]["title"] == "Año de referencia" and "vacío" in params["period"]["description"]
    assert params["period"]["examples"][0].isdigit()
