"""An assessment period end to end (ideal.pipeline.assessment): stored run, reuse, briefing;
on SQLite and on PostgreSQL."""


import pytest
from pypdf import PdfReader

from ideal.contracts import AssessmentRequest
from ideal.errors import AssessmentError
from ideal.ingest.demo import country_frame
from ideal.pipeline.assessment import assess, render_report
from ideal.pipeline.submission import submit_bytes
from ideal.store.models import Report
from ideal.store.runs import load as load_run
from tests.pipeline import TODAY, count, csv


def test_assess_and_report(engine, mx, ideal_env):
    with pytest.raises(AssessmentError, match="no accepted observations"):
        assess(engine)
    submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    submit_bytes(csv(country_frame("CO")), "co.csv", "CO", engine, today=TODAY)
    run = assess(engine, AssessmentRequest(note="test"))
    assert run.period == "2025" and not run.reused and run.n_scores > 0
    stored, scores = load_run(engine, run.run_id)
    assert set(scores["country"]) == {"CO", "MX"}
    scored = scores[scores["status"] == "scored"]
    assert scored["score"].between(0, 10).all() and scored["reliability"].between(0, 10).all()
    assert (scored["rank_p5"] <= scored["rank_p95"]).all() and scored["rank"].min() == 1
    assert stored["profile"]["name"] == "default" and len(stored["profile_sha256"]) == 64
    assert stored["seed"] == stored["profile"]["uncertainty"]["seed"] and stored["code_version"]
    assert set(stored["info"]["sensitivity"]) == {"weights", "normalisation", "aggregation", "imputation"}
    assert assess(engine, AssessmentRequest(note="again")).run_id == run.run_id  # same data and parameters
    assert assess(engine, AssessmentRequest(countries=("MX",))).run_id != run.run_id
    with pytest.raises(AssessmentError, match="not members"):
        assess(engine, AssessmentRequest(countries=("US",)))

    pdf = render_report(engine, run.run_id, "briefing", "es")
    assert pdf == ideal_env.reports_dir / "2025" / "briefing-es.pdf"
    reader = PdfReader(pdf)
    body = "\n".join(page.extract_text() for page in reader.pages)
    assert 2 <= len(reader.pages) <= 6
    for name in ("México", "Colombia", "Principales amenazas", "Página 1 de"):
        assert name in body
    assert count(engine, Report) == 1
    render_report(engine, run.run_id, "briefing", "es")
    assert count(engine, Report) == 1
