"""A small warehouse for the portal tests: Mexico and Colombia submissions, one assessment
run with its Spanish briefing, and four accounts (a steward of each country, an analyst, an
admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Portal:
    engine: object
    home: Path
    run_id: str
    report_id: int
    mx_submission: str
    co_submission: str


def bad_and_good(country: str = "MX") -> tuple[bytes, bytes]:
    """A template file with errors (unknown crime type, negative count, bad region) and the
    same file corrected."""
    good = (f"country,region,period,crime_type,indicator,value,obs_status\n"
            f"{country},{country}-JAL,2024,0101,incidents,1873,A\n"
            f"{country},{country}-JAL,2024,0401,incidents,211,A\n"
            f"{country},{country}-CMX,2024,0101,incidents,950,A\n")
    if country != "MX":
        good = good.replace(f"{country}-JAL", "CO-ANT").replace(f"{country}-CMX", "CO-DC")
    bad = good.replace(",0401,", ",4011,").replace("950", "-950")
    return bad.encode(), good.encode()


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(page.text), "next": "/"},
                       follow_redirects=False)


def csrf(client) -> str:
    return csrf_of(client.get("/submissions").text)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from ideal.contracts import AssessmentRequest
    from ideal.ingest.demo import country_frame
    from ideal.pipeline.assessment import assess, render_report
    from ideal.pipeline.submission import submit_bytes
    from ideal.store import accounts, make_engine, reports, upgrade

    home = tmp_path_factory.mktemp("portal")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IDEAL_HOME", str(home / "var"))
        mp.setenv("IDEAL_REPORTS_DIR", str(home / "reports"))
        for name in ("IDEAL_DATABASE_URL", "IDEAL_MEMBERS", "IDEAL_AIRFLOW_URL", "IDEAL_SECRET_KEY",
                     "IDEAL_HTTPS", "IDEAL_PUBLIC_URL"):
            mp.delenv(name, raising=False)
        engine = make_engine()
        upgrade(engine)
        ids = {}
        for cc in ("MX", "CO"):
            data = country_frame(cc).to_csv(index=False).encode()
            receipt = submit_bytes(data, f"{cc.lower()}-demo.csv", cc, engine)
            assert receipt.ok, receipt.summary()
            ids[cc] = receipt.submission_id
        run = assess(engine, AssessmentRequest(countries=("MX", "CO",)))
        render_report(engine, run.run_id, "briefing", "es")
        report_id = reports.of_run(engine, run.run_id)[0]["id"]
        accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
        accounts.add_user(engine, "co.steward", PASSWORD, "steward", "CO", language="pt")
        accounts.add_user(engine, "analyst", PASSWORD, "analyst", language="en")
        accounts.add_user(engine, "admin", PASSWORD, "admin")
        yield Portal(engine, home, run.run_id, report_id, ids["MX"], ids["CO"])
        engine.dispose()


@pytest.fixture
def client(portal):
    from fastapi.testclient import TestClient

    from ideal.web import create_app

    with TestClient(create_app(portal.engine)) as c:
        yield c
