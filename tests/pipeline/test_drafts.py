"""Drafts that choose from the content, not the header order (#47): for exports of the three
shapes that drafts got wrong (a workbook of victims with the region's published rate beside its
name and a sheet of variables; a Latin-1 CSV with dotted dates, prisons as a department, target
and weapon columns; a CSV with a BOM, trailing spaces and a province written two ways), the
unedited draft names the region column, the victims and the homicide category, leaves no TODO,
and loads exactly the truth."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from ideal.ingest import registry
from ideal.pipeline import profiles
from ideal.pipeline.submission import submit_bytes
from ideal.store.models import Observation
from tests.ingest import exports as E
from tests.pipeline import TODAY

SHAPES = [
    ("CL", E.cl_victims_workbook, "homicidios_2024.xlsx", "Nombre Región", "month"),
    ("UY", E.uy_victims_csv, "victimas_2024.csv", "DEPARTAMENTO", "year"),
    ("EC", E.ec_victims_bom_csv, "ec_2025.csv", "Provincia", "month"),
]


@pytest.mark.parametrize("country, make, name, region, level", SHAPES)
def test_the_unedited_draft_chooses_right_and_loads_the_truth(engine, country, make, name, region, level):
    data, truth = make()
    text = profiles.new(data, name, country)
    draft = yaml.safe_load(text)
    assert draft["region"]["column"] == region
    assert draft["category"] == {"fixed": "0101"}
    assert (draft.get("count") or draft["values"][0])["indicator"] == "victims"
    assert not registry.unsettled(text), text  # only what a person must decide is TODO: here nothing
    if level == "year" and "date" in draft["period"]:
        draft["period"]["level"] = "year"  # the truth is kept by year (a person's choice of level)
    profiles.install(yaml.safe_dump(draft, allow_unicode=True), "draft.yaml")
    receipt = submit_bytes(data, name, country, engine, today=TODAY, language="en")
    assert receipt.status == "accepted", (receipt.message, receipt.findings.to_dict("records")[:5])
    with engine.connect() as conn:
        got = {(r, p): v for r, p, v in conn.execute(select(Observation.region, Observation.period, Observation.value)
                                                     .where(Observation.superseded_by.is_(None))) if v}
    want = {(f"{country}-_X" if code == f"{country}:prison" else code, p): float(v) for (code, p), v in truth.items() if v}
    assert got == want
