"""A class counted in part is not read as the whole class (#47): a profile that maps only
vehicle robbery to ICCS 0401 says so (category.partial); the run keeps that member's robbery
units out of the ranking of robbery, beside a member that sends all robbery, and lists them
apart with the part they cover."""

from __future__ import annotations

from ideal.contracts import AssessmentRequest
from ideal.ingest.demo import country_frame
from ideal.pipeline import profiles
from ideal.pipeline.assessment import assess
from ideal.pipeline.submission import submit_bytes
from ideal.store import runs
from tests.pipeline import TODAY, csv

CL_PROFILE = """
name: cl_robo_vehiculos
title: "Chile: robo de vehículos"
country: CL
detect: [Region, Anio, Delito, Casos]
period: {year: Anio}
region: {column: Region, by: name}
category:
  columns: [Delito]
  rules:
    - {when: {Delito: "^ROBO DE VEHICULO$"}, iccs: "0401"}
  partial: {"0401": "robbery of vehicles only"}
values: [{column: Casos, indicator: incidents}]
"""


def test_a_class_covered_in_part_is_listed_apart_not_ranked(engine, light_profile):
    profiles.install(CL_PROFILE, "cl.yaml")
    lines = ["Region,Anio,Delito,Casos"] + [f"{r},{y},ROBO DE VEHICULO,{n + y - 2020}"
                                             for y in (2022, 2023, 2024)
                                             for r, n in (("Valparaíso", 40), ("Biobío", 30), ("Maule", 12))]
    receipt = submit_bytes(("\n".join(lines) + "\n").encode(), "robos.csv", "CL", engine, today=TODAY, language="en")
    assert receipt.status == "accepted", receipt.message
    said = receipt.findings[receipt.findings["rule"] == "category_partial"]
    assert len(said) == 1 and "robbery of vehicles only" in said["message"].iloc[0]
    mx = country_frame("MX")
    assert submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY).ok
    run = assess(engine, AssessmentRequest(period="2024", countries=("CL", "MX"), crime_types=("0401",),
                                           profile=light_profile))
    meta, scores = runs.load(engine, run.run_id)
    assert set(scores["country"]) == {"MX"}  # Chile's vehicle robbery is not ranked beside all of Mexico's robbery
    info = meta["info"] if "info" in meta else meta
    (apart,) = info["partial_classes"]
    assert apart["country"] == "CL" and apart["crime_type"] == "0401" and apart["part"] == "robbery of vehicles only"
    assert apart["regions"] == 3 and apart["value"] == 40 + 30 + 12 + 3 * 4
