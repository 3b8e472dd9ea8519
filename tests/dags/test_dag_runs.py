"""dag.test() runs ingest -> assess -> report for real on a temporary Airflow home."""

import json
import subprocess
import sys
from pathlib import Path

from tests.dags.test_dagbag import DAGS, airflow_env

HERE = Path(__file__).resolve().parent


def test_chain_runs_with_dag_test(tmp_path):
    env = airflow_env(tmp_path)
    env["IDEAL_MEMBERS"] = "MX CO VE"
    venv_bin = Path(sys.executable).parent
    migrate = subprocess.run([str(venv_bin / "airflow"), "db", "migrate"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    gen = subprocess.run([sys.executable, "-c",
                          "from ideal.config import get_settings; from ideal.ingest.demo import generate;"
                          "s = get_settings(); generate(s.inbox_dir, s.members)"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr[-2000:]
    out = subprocess.run([sys.executable, str(HERE / "run_chain.py"), str(DAGS)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    runs = {r["dag_id"]: r for r in lines if r["conf"].get("period") != "2030"}
    future = next(r for r in lines if r["conf"].get("period") == "2030")
    ingest = runs["ideal_ingest"]["tasks"]
    names = sorted(runs["ideal_ingest"]["names"].values())  # by country and file
    # each member's data file and indicators, and (VE apart) its contributions on the markets
    assert [n.split(" ")[0] for n in names] == ["CO"] * 3 + ["MX"] * 3 + ["VE"] * 2
    assert all(n.endswith(".csv") for n in names) and sum("contribuciones" in n for n in names) == 2
    assert [ingest[f"submit[{i}]"] for i in range(len(names))] == ["success"] * len(names)
    assert ingest["publish"] == "success"
    # VE's demo file is rejected: the run says so instead of passing silently
    assert ingest["check_rejections"] == "failed"
    assert runs["ideal_assess"]["state"] == "success"
    # the assessment mapped per country (members MX CO VE, in code order), then combined
    assess = runs["ideal_assess"]["tasks"]
    assert assess["plan"] == "success" and assess["assess"] == "success"
    assert [assess[f"prepare[{i}]"] for i in range(3)] == ["success"] * 3 and "prepare[3]" not in assess
    assert [runs["ideal_assess"]["names"][f"prepare[{i}]"] for i in range(3)] == ["CO", "MX", "VE"]
    assert runs["ideal_report"]["state"] == "success"
    # delivery without a distribution list: skipped (with its reason in the log), not "success"
    assert runs["ideal_report"]["tasks"]["deliver"] == "skipped"
    # a year without data fails at its first try, no retry: a retry cannot fix it
    assert future["state"] == "failed" and future["tasks"]["plan"] == "failed"
    assert future["tries"]["plan"] == 1
    assert (tmp_path / "reports" / "2025" / "briefing-es.pdf").stat().st_size > 10_000
