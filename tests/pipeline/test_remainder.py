"""Rows that belong to a country but to no first-level region (#47): homicides in prisons are
kept as the country's remainder (CC-_X), counted in its national figure, listed apart in the
run and the briefing, never ranked or taken for a national total."""

from __future__ import annotations

from sqlalchemy import select

from ideal.contracts import AssessmentRequest
from ideal.pipeline import profiles
from ideal.pipeline.assessment import assess
from ideal.pipeline.submission import submit_bytes
from ideal.store import runs
from ideal.store.models import Observation
from tests.ingest import exports as E
from tests.pipeline import TODAY

UY_PROFILE = """
name: uy_victimas
title: "Uruguay: víctimas de homicidio"
country: UY
detect: [FECHA, DEPARTAMENTO, TIPO_DELITO]
period: {date: FECHA, date_format: "%d.%m.%Y", level: year}
region: {column: DEPARTAMENTO, by: name, no_region: [ESTABLECIMIENTO PENITENCIARIO]}
category: {fixed: "0101"}
count: {indicator: victims}
"""


def test_prison_homicides_count_in_the_national_figure_and_are_listed_apart(engine, tmp_path, light_profile):
    profiles.install(UY_PROFILE, "uy.yaml")
    data, truth = E.uy_victims_csv(years=(2022, 2023, 2024))
    receipt = submit_bytes(data, "victimas_homicidio.csv", "UY", engine, today=TODAY, language="en")
    assert receipt.status == "accepted", receipt.message
    note = receipt.findings[receipt.findings["rule"] == "region_none"]
    assert len(note) == 1 and "ESTABLECIMIENTO PENITENCIARIO" in note["message"].iloc[0]
    with engine.connect() as conn:
        stored = conn.execute(select(Observation.region, Observation.period, Observation.value)
                              .where(Observation.superseded_by.is_(None))).all()
    national = sum(v for r, p, v in stored if p == "2024")
    assert national == sum(v for (code, year), v in truth.items() if year == "2024")  # every row counted
    assert {r for r, _, v in stored if v} >= {"UY-_X", "UY-MO"}
    assert sum(v for r, p, v in stored if r == "UY-_X" and p == "2024") == truth[("UY:prison", "2024")]
    run = assess(engine, AssessmentRequest(period="2024", countries=("UY",), profile=light_profile))
    meta, scores = runs.load(engine, run.run_id)
    assert "UY-_X" not in set(scores["region"])  # never ranked
    info = meta["info"] if "info" in meta else meta
    remainder = [r for r in info["remainder"] if r["crime_type"] == "0101"]
    assert remainder and remainder[0]["value"] == truth[("UY:prison", "2024")]
    assert remainder[0]["national_value"] == national
    from pypdf import PdfReader

    from ideal.pipeline.assessment import render_report

    paths = render_report(engine, run.run_id, "briefing", "en")
    pdf = paths[0] if isinstance(paths, (list, tuple)) else paths
    text = " ".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "Not attributable to a region" in text
