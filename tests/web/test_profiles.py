"""The portal's profile pages: analysts and admins check a profile, try it on a sample (a dry
run that loads nothing) and install it; stewards choose it when they upload; stewards cannot
reach the pages; the duplicate notice survives the upload script's redirect."""

from __future__ import annotations

from sqlalchemy import func, select

from ideal.store.models import Observation
from tests.ingest import exports as E
from tests.web.conftest import csrf, login


def _observations(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Observation)).scalar()


def test_analyst_checks_tries_and_installs_a_profile(client, portal, monkeypatch):
    monkeypatch.setenv("IDEAL_PROFILES_DIR", str(portal.home / "profiles-a"))
    login(client, "analyst")
    assert "mx_sesnsp_estatal" in client.get("/profiles").text
    token = csrf(client)
    broken = client.post("/profiles/check", data={"text": E.CR_PROFILE.replace("country: CR", "country: QQ"),
                                                   "csrf_token": token})
    assert broken.status_code == 422 and "country (line" in broken.text and "Install" not in broken.text
    before = _observations(portal.engine)
    data, _ = E.cr_oij_microdata()
    tried = client.post("/profiles/check", data={"text": E.CR_PROFILE, "csrf_token": token},
                        files={"sample": ("oij.csv", data, "text/csv")})
    assert tried.status_code == 200, tried.text
    assert "would be accepted" in tried.text and "DESCONOCIDO" in tried.text
    # every category with the profile's mapping and what its words say
    assert "Category mappings" in tried.text and "HOMICIDIO / HOMICIDIO DOLOSO" in tried.text
    assert _observations(portal.engine) == before  # the dry run loads nothing
    done = client.post("/profiles/install", data={"text": E.CR_PROFILE, "csrf_token": token})
    assert done.status_code == 200 and "cr_oij_eventos installed" in done.text
    assert (portal.home / "profiles-a" / "cr_oij_eventos.yaml").exists()
    # a broken file in the folder is shown with its problem; the others stay usable
    (portal.home / "profiles-a" / "broken.yaml").write_text("name: broken\n  country: [\n", encoding="utf-8")
    page = client.get("/profiles").text
    assert "Broken: not used" in page and "cr_oij_eventos" in page and "mx_sesnsp_estatal" in page


def test_stewards_cannot_reach_the_profile_pages_but_choose_profiles_when_uploading(client, portal, monkeypatch):
    monkeypatch.setenv("IDEAL_PROFILES_DIR", str(portal.home / "profiles-b"))
    login(client, "mx.steward")
    assert client.get("/profiles").status_code == 403
    assert client.post("/profiles/install", data={"text": E.CR_PROFILE, "csrf_token": csrf(client)}).status_code == 403
    form = client.get("/submissions").text
    assert 'value="mx_sesnsp_estatal"' in form and 'value="ar_snic_provincias"' not in form


def test_the_already_received_notice_is_shown_after_the_redirect(client, portal):
    login(client, "mx.steward")
    data = (b"country,region,period,crime_type,indicator,value,obs_status\n"
            b"MX,MX-SON,2019,0101,incidents,77,A\n")
    first = client.post("/submissions", data={"csrf_token": csrf(client)},
                        files={"file": ("son.csv", data, "text/csv")}, follow_redirects=False)
    again = client.post("/submissions", data={"csrf_token": csrf(client)},
                        files={"file": ("son.csv", data, "text/csv")}, follow_redirects=False)
    assert again.headers["location"].endswith("?notice=duplicate")
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    shown = client.get(again.headers["location"])  # what the browser loads after the script
    assert "already received" in shown.text or "ya se recibió" in shown.text
