"""Structured contributions on criminal markets (#49): a second kind of submission, checked row
by row, never naming an assessor, fused with the data into one severity per member x market."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select, text

from ideal.contracts import AssessmentRequest
from ideal.ingest.contributions import COLUMNS
from ideal.ingest.demo import country_frame
from ideal.pipeline.assessment import assess
from ideal.pipeline.submission import submit_bytes
from ideal.store import contributions as store
from ideal.store import runs
from ideal.store.models import AuditEvent, Contribution, Submission

TODAY = date(2026, 11, 28)
MEMBERS = ("MX", "CO", "PE")


def rows(country: str, ratings: dict[str, list[float]], year: int = 2025, round_: int = 1,
         graded: bool = True) -> list[dict]:
    out = []
    for market, values in ratings.items():
        for i, v in enumerate(values, start=1):
            strong = v >= 7 and graded
            out.append(dict(country=country, market=market, region="", year=year, round=round_, assessor=i,
                            role=("environment", "police", "fiu", "prosecution", "academia")[i % 5],
                            severity=v, trend=1, scope="NATIONAL", cross_border="", international=3,
                            violence=3, corruption=3, laundering=3, adaptability=3, confidence="moderate",
                            evidence=f"informe {year}/{i}" if strong else "",
                            evidence_grade="B2" if strong else ""))
    return out


def csv_of(records: list[dict]) -> bytes:
    buf = io.StringIO()
    pd.DataFrame(records, columns=COLUMNS).to_csv(buf, index=False)
    return buf.getvalue().encode()


def test_environmental_crime_rated_9_by_three_members_is_among_the_most_severe(engine, light_profile):
    ordinary = {"cocaine": [6, 6.5, 7], "human_trafficking": [5, 5.5, 6], "extortion": [6, 6, 5.5],
                "cyber": [4, 4.5, 5], "financial": [5, 5, 6], "arms_trafficking": [6, 5.5, 6]}
    for cc in MEMBERS:
        frame = country_frame(cc, years=(2024, 2025))
        data = frame.to_csv(index=False).encode()
        assert submit_bytes(data, f"{cc}.csv", cc, engine, today=TODAY).ok
        receipt = submit_bytes(csv_of(rows(cc, {**ordinary, "flora": [9, 9, 9]})), f"{cc}-contrib.csv", cc,
                               engine, today=TODAY, language="en")
        assert receipt.ok, receipt.message
        assert receipt.rows_accepted == 21
    result = assess(engine, AssessmentRequest(period="2025", countries=MEMBERS, profile=light_profile))
    meta, _ = runs.load(engine, result.run_id)
    regional = pd.DataFrame(meta["info"]["markets"]["regional"]).set_index("market")
    top = regional[regional["kind"] == "market"].sort_values("severity", ascending=False).index[:3]
    assert "flora" in top
    assert regional.loc["flora", "p_top3"] > 0.9
    sev = store.severities(engine, result.run_id).set_index(["country", "market"])
    for cc in MEMBERS:
        env = sev.loc[(cc, "area:environment")]
        assert env["assessors"] == 3 and env["low"] <= env["severity"] <= env["high"]
        assert env["p_seven"] > 0.5
        assert env["agreement"] in ("agree", "disagree", "experts_only")
    # a second round replaces the first: the member's assessors revise flora down to 3
    again = submit_bytes(csv_of(rows("MX", {"flora": [3, 3, 3]}, round_=2)), "MX-round2.csv", "MX", engine,
                         today=TODAY)
    assert again.ok
    result = assess(engine, AssessmentRequest(period="2025", countries=MEMBERS, profile=light_profile))
    sev = store.severities(engine, result.run_id).set_index(["country", "market"])
    assert sev.loc[("MX", "flora"), "experts"] == 3 and sev.loc[("MX", "flora"), "rounds"] == 2


def test_severity_9_without_evidence_is_refused_naming_the_row(engine):
    records = rows("MX", {"cocaine": [6, 6, 6]}) + rows("MX", {"flora": [9]}, graded=False)
    receipt = submit_bytes(csv_of(records), "contrib.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.status == "rejected"
    errors = receipt.findings[receipt.findings["severity"] == "error"]
    assert list(errors["rule"]) == ["contribution_evidence_needed"]
    assert errors["row"].iloc[0] == 5 and "row 5" in errors["message"].iloc[0]
    with engine.connect() as conn:
        assert conn.execute(select(Contribution.id)).first() is None  # nothing of the file loaded
    es = submit_bytes(csv_of(records) + b"\n", "contrib-es.csv", "MX", engine, today=TODAY,
                      language="es")
    assert "fila 5" in es.findings.loc[es.findings["severity"] == "error", "message"].iloc[0]


def test_a_member_sends_only_its_own_contributions(engine):
    receipt = submit_bytes(csv_of(rows("MX", {"cocaine": [6, 6, 6]})), "mx.csv", "CO", engine, today=TODAY,
                           language="en")
    assert receipt.status == "rejected"
    assert set(receipt.findings.loc[receipt.findings["severity"] == "error", "rule"]) == {"contribution_country"}
    assert store.current(engine).empty


def test_no_assessor_is_named_anywhere(engine, ideal_env):
    records = rows("MX", {"cocaine": [6, 6, 6]})
    records[1]["assessor"] = "Juana Pérez"
    receipt = submit_bytes(csv_of(records), "mx.csv", "MX", engine, today=TODAY, language="en",
                           actor="steward:mx-focal")
    assert receipt.status == "rejected" and not receipt.kept
    assert "row 3" in receipt.message and "Juana" not in receipt.message
    for path in ideal_env.home.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm"):
            assert b"Juana" not in path.read_bytes(), path
    with engine.connect() as conn:
        for table in ("submissions", "validation_results", "audit_log", "contributions"):
            dump = " ".join(map(str, conn.execute(text(f"SELECT * FROM {table}")).all()))  # nosec B608
            assert "Juana" not in dump, table
        sub = conn.execute(select(Submission.archive_path, Submission.status)
                           .where(Submission.id == receipt.submission_id)).one()
        assert sub == ("", "rejected")
        actors = {a for (a,) in conn.execute(select(AuditEvent.actor)
                                             .where(AuditEvent.object_id == receipt.submission_id))}
    assert actors == {"steward:mx-focal"}  # who sent the file is kept
    accepted = submit_bytes(csv_of(rows("MX", {"cocaine": [6, 6, 6]})), "mx.csv", "MX", engine, today=TODAY,
                            actor="steward:mx-focal")
    assert accepted.ok
    stored = store.current(engine)
    assert set(stored["assessor"]) == {1, 2, 3}


@pytest.mark.parametrize("cell, rule", [("cocain", "contribution_market"), ("MX-ZZZ", "contribution_region")])
def test_codes_come_from_the_catalogue(engine, cell, rule):
    records = rows("MX", {"cocaine": [6, 6, 6]})
    records[0]["market" if rule == "contribution_market" else "region"] = cell
    receipt = submit_bytes(csv_of(records), "mx.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.status == "rejected"
    assert rule in set(receipt.findings["rule"])


def test_one_or_two_assessors_and_a_far_one_are_reported_back(engine):
    records = rows("MX", {"cocaine": [6, 6.5, 6, 1]}) + rows("MX", {"cyber": [5, 6]})
    receipt = submit_bytes(csv_of(records), "mx.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.ok
    warned = receipt.findings.set_index("rule")
    assert "one or two assessors" in warned.loc["contribution_few_assessors", "message"]
    assert warned.loc["contribution_far", "row"] == 5


def test_the_new_indicators_load_in_their_units_and_implausible_values_are_questioned(engine):
    template = ("country,region,period,crime_type,indicator,value,obs_status\n"
                "MX,MX,2024,09012,firearms_seized,12000,A\n"
                "MX,MX,2024,0704,assets_confiscated_usd,90000000,A\n"
                "MX,MX-JAL,2024,09012,firearms_traced,900,A\n"
                "PE,PE,2024,1004,deforested_ha,140000,A\n")
    mx = "\n".join(line for line in template.splitlines() if not line.startswith("PE")) + "\n"
    receipt = submit_bytes(mx.encode(), "mx-ind.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.ok and receipt.rows_accepted == 3
    assert "unit_ceiling" not in set(receipt.findings["rule"])
    pe = "\n".join(template.splitlines()[:1] + ["PE,PE,2024,1004,deforested_ha,900000000,A",
                                                "PE,PE-LOR,2024,1004,illegal_mining_ha,5000,A"]) + "\n"
    receipt = submit_bytes(pe.encode(), "pe-ind.csv", "PE", engine, today=TODAY, language="en")
    assert receipt.ok  # a warning: the steward confirms or corrects
    flagged = receipt.findings[receipt.findings["rule"] == "unit_ceiling"]
    assert list(flagged["row"]) == [2] and "PE deforested_ha" in flagged["message"].iloc[0]
