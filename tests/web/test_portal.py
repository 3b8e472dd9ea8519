"""Every portal route through the test client: signing in, the steward's upload and
feedback, the analyst's pages, and every permission boundary."""

from __future__ import annotations

import re

from sqlalchemy import select

from ideal.i18n import translations
from ideal.store import audit
from ideal.store.models import Observation
from tests.web.conftest import PASSWORD, bad_and_good, csrf, csrf_of, login

es = translations("es").gettext  # the Mexican steward's language


def refusals(engine) -> int:
    events = audit.events(engine, limit=10_000)
    return int((events["action"] == "access.refused").sum())


def test_pages_need_a_login(client):
    for path in ("/", "/submissions", "/coverage", "/runs", "/compare", "/users", "/template.csv",
                 "/submissions/X", "/reports/1", "/jobs/x", "/runs/x"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_login_logout_and_the_session_cookie(client, portal):
    bad = login(client, "mx.steward", "wrong password!")
    assert bad.status_code == 401 and es("Wrong user name or password.") in bad.text
    r = login(client, "mx.steward")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    home = client.get("/", follow_redirects=False)  # a steward's own home page
    assert home.status_code == 200 and 'id="sent"' in home.text
    out = client.post("/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/submissions", follow_redirects=False).status_code == 303
    events = audit.events(portal.engine, limit=50)
    logins = events[events["action"] == "auth.login"]
    assert {"ok", "refused"} <= set(logins["outcome"])


def test_secure_cookie_over_https(portal, monkeypatch):
    from fastapi.testclient import TestClient

    from ideal.web import create_app

    monkeypatch.setenv("IDEAL_HTTPS", "1")
    with TestClient(create_app(portal.engine), base_url="https://testserver") as c:
        r = login(c, "analyst")
        assert "secure" in r.headers["set-cookie"].lower()
        assert c.get("/coverage").headers["strict-transport-security"]


def test_login_is_rate_limited(client, portal):
    from ideal.store import accounts

    accounts.add_user(portal.engine, "locked.analyst", PASSWORD, "analyst")
    for _ in range(accounts.FAILURE_LIMIT):
        assert login(client, "locked.analyst", "not-the-password").status_code == 401
    locked = login(client, "locked.analyst")  # the right password, but too late
    assert locked.status_code == 429 and es("Too many failed logins: wait 15 minutes and try again.") in locked.text
    assert login(client, "analyst").status_code == 303  # other accounts are not locked


def test_forms_need_the_csrf_token(client):
    page = client.get("/login")
    assert client.post("/login", data={"username": "analyst", "password": PASSWORD}).status_code == 400
    assert login(client, "mx.steward").status_code == 303
    _, good = bad_and_good()
    r = client.post("/submissions", data={"country": "MX", "csrf_token": "forged"},
                    files={"file": ("mx.csv", good, "text/csv")})
    assert r.status_code == 400 and "recargue la página" in r.text  # in the steward's language (#34)
    assert client.post("/logout", data={}).status_code == 400
    assert csrf_of(page.text)


def test_open_redirect_after_login_is_refused(client):
    page = client.get("/login")
    r = client.post("/login", data={"username": "analyst", "password": PASSWORD,
                                    "csrf_token": csrf_of(page.text), "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/"


def test_steward_upload_errors_then_corrected_file(client, portal):
    login(client, "mx.steward")
    bad, good = bad_and_good()
    token = csrf(client)
    r = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                    files={"file": ("mx-2024.csv", bad, "text/csv")})
    assert r.status_code == 200 and "/submissions/MX-" in str(r.url)
    assert es("Nothing was loaded: fix the problems marked as errors and send the file again.") in r.text
    # the row errors: row, column, value, rule and what to do
    assert "4011" in r.text and "-950" in r.text and "crime_type" in r.text
    sid = r.url.path.rsplit("/", 1)[1]
    csv = client.get(f"/submissions/{sid}/feedback.csv")
    assert csv.status_code == 200 and "4011" in csv.text
    assert client.get(f"/submissions/{sid}/receipt.json").json()["status"] == "rejected"
    with portal.engine.connect() as conn:
        assert not conn.execute(select(Observation.submission_id).where(Observation.submission_id == sid)).first()
    ok = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                     files={"file": ("mx-2024.csv", good, "text/csv")})
    assert ok.status_code == 200 and es("Accepted") in ok.text
    history = client.get("/submissions").text
    assert "mx-2024.csv" in history and es("rejected") in history and es("accepted") in history
    # the same file again: said, not loaded twice
    again = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                        files={"file": ("mx-2024.csv", good, "text/csv")})
    assert es("This file was already received: nothing was loaded again.") in again.text


def test_upload_size_limit_and_unreadable_files(client, portal, monkeypatch):
    login(client, "mx.steward")
    token = csrf(client)
    r = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                    files={"file": ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
                                    "image/png")})
    assert r.status_code == 200 and "Traceback" not in r.text
    assert es("Rejected") in r.text
    app = client.app
    app.state.settings = app.state.settings.__class__(
        **{**app.state.settings.__dict__, "max_upload_bytes": 1000})
    too_big = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                          files={"file": ("big.csv", b"x" * 5000, "text/csv")})
    assert too_big.status_code == 413 and "split the file" in too_big.text
    over = client.post("/submissions", data={"country": "MX", "csrf_token": token},
                       files={"file": ("over.csv", b"y" * 2000, "text/csv")})
    assert "IDEAL_MAX_UPLOAD_MB" in over.text  # kept in quarantine with its reason
    reasons = (portal.home / "var" / "data" / "quarantine" / "MX").glob("*.reason.txt")
    assert any("over.csv" in p.read_text() and "IDEAL_MAX_UPLOAD_MB" in p.read_text() for p in reasons)


def test_steward_sees_only_their_country(client, portal):
    login(client, "mx.steward")
    before = refusals(portal.engine)
    page = client.get("/submissions").text
    assert "mx-demo.csv" in page and "co-demo.csv" not in page
    assert client.get(f"/submissions/{portal.mx_submission}").status_code == 200
    for path in (f"/submissions/{portal.co_submission}",  # as a missing one: 404
                 f"/submissions/{portal.co_submission}/feedback.csv",
                 f"/submissions/{portal.co_submission}/receipt.json"):
        assert client.get(path).status_code == 404, path
    assert client.get("/submissions?country=CO").status_code == 403
    _, good = bad_and_good("CO")
    r = client.post("/submissions", data={"country": "CO", "csrf_token": csrf(client)},
                    files={"file": ("co.csv", good, "text/csv")})
    assert r.status_code == 403
    assert refusals(portal.engine) == before + 5
    events = audit.events(portal.engine, limit=5)
    assert set(events["actor"]) == {"portal:mx.steward"}


def test_a_file_of_another_country_is_refused_by_its_rows(client, portal):
    """A steward sends a file for their own country whose rows name another country."""
    login(client, "mx.steward")
    _, co_rows = bad_and_good("CO")
    r = client.post("/submissions", data={"country": "MX", "csrf_token": csrf(client)},
                    files={"file": ("sneaky.csv", co_rows, "text/csv")})
    assert es("Rejected") in r.text
    with portal.engine.connect() as conn:
        assert not conn.execute(select(Observation.submission_id).where(
            Observation.country == "CO", Observation.submission_id.like("MX-%"))).first()


ANALYST_ONLY = ["/coverage", "/runs", "/compare", "/jobs/nope", "/runs/{run}", "/reports/{report}"]


def test_permission_matrix(client, portal):
    """Each role against each page: what it may open, and 403 (audited) where it may not."""
    paths = [p.format(run=portal.run_id, report=portal.report_id) for p in ANALYST_ONLY]
    expected = {
        "mx.steward": {p: 403 for p in paths} | {"/users": 403, "/template.csv": 200,
                                               "/template.xlsx": 200, "/submissions": 200},
        "analyst": {p: 200 for p in paths} | {"/jobs/nope": 404, "/users": 403,
                                             "/template.csv": 200, "/submissions": 200},
        "admin": {p: 200 for p in paths} | {"/jobs/nope": 404, "/users": 200},
    }
    for username, table in expected.items():
        client.cookies.clear()
        assert login(client, username).status_code == 303
        for path, status in table.items():
            assert client.get(path).status_code == status, (username, path)
    client.cookies.clear()
    login(client, "mx.steward")
    token = csrf(client)
    for path, data in (("/runs", {}), (f"/runs/{portal.run_id}/render", {"kind": "briefing"}),
                       ("/users", {"username": "x", "password": "y", "role": "admin"}),
                       ("/users/analyst/active", {"active": "0"})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path


def test_templates_for_download(client):
    login(client, "mx.steward")
    csv = client.get("/template.csv")
    assert csv.status_code == 200 and csv.text.startswith("country,region,period")
    xlsx = client.get("/template.xlsx")
    assert xlsx.content[:2] == b"PK"


def test_language_switch(client):
    login(client, "co.steward")  # Portuguese by preference
    assert "Histórico de envios" in client.get("/submissions").text
    client.post("/language", data={"language": "en", "csrf_token": csrf(client), "next": "/submissions"})
    assert "Submission history" in client.get("/submissions").text
    client.post("/language", data={"language": "es", "csrf_token": csrf(client), "next": "/submissions"})
    assert "Historial de envíos" in client.get("/submissions").text
    bad = client.post("/language", data={"language": "xx", "csrf_token": csrf(client)})
    assert bad.status_code == 400


def test_analyst_coverage_and_all_submissions(client, portal):
    login(client, "analyst")
    cov = client.get("/coverage").text
    assert "México" in cov or "Mexico" in cov
    assert 'class="cell complete"' in cov and 'class="cell missing"' in cov
    subs = client.get("/submissions").text
    assert "mx-demo.csv" in subs and "co-demo.csv" in subs
    only_co = client.get("/submissions?country=CO").text
    assert "co-demo.csv" in only_co and "mx-demo.csv" not in only_co


def test_analyst_run_page_compare_and_report_download(client, portal):
    login(client, "analyst")
    page = client.get(f"/runs/{portal.run_id}")
    assert page.status_code == 200 and f"/reports/{portal.report_id}" in page.text
    pdf = client.get(f"/reports/{portal.report_id}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    same = client.get(f"/compare?a={portal.run_id}&b={portal.run_id}")
    assert same.status_code == 200 and "0 of" in same.text
    assert client.get("/compare?a=nope&b=nope").status_code == 404
    assert client.get("/reports/99999").status_code == 404


def test_compare_defaults_to_the_two_latest_runs_and_names_a_scope_change(client, portal):
    """Without a choice the page compares the two latest different runs; a run of Mexico
    alone against Mexico and Colombia says the country scope changed (not 'the changes come
    from the data'); the list says how many it shows of how many, filters and sorts, in the
    user's language."""
    from ideal.contracts import AssessmentRequest
    from ideal.pipeline.assessment import assess

    mx_only = assess(portal.engine, AssessmentRequest(countries=("MX",), note="compare test"))
    login(client, "analyst")
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf(client)})
    page = client.get("/compare")
    assert page.status_code == 200
    assert f'<option value="{mx_only.run_id}" selected' in page.text  # the later run
    assert "The country scope changed" in page.text and "Colombia (CO)" in page.text
    assert "the changes come from the data" not in page.text
    shown = re.search(r"Showing (\d+) of (\d+) changed units", page.text)
    assert shown and int(shown.group(1)) <= int(shown.group(2))
    only_co = client.get(f"/compare?a={portal.run_id}&b={mx_only.run_id}&country=CO&sort=score")
    rows = re.findall(r"<tr><td>[^<]*\((\w\w)\)</td>", only_co.text)
    assert rows and set(rows) == {"CO"} and "gone" in only_co.text
    client.post("/language", data={"language": "es", "next": "/compare", "csrf_token": csrf(client)})
    es = client.get("/compare")
    assert "El ámbito de países cambió" in es.text and "Mostrando" in es.text


def test_analyst_triggers_a_local_run(client, portal):
    import time

    login(client, "analyst")
    token = csrf(client)
    bad = client.post("/runs", data={"period": "20x4", "csrf_token": token})
    # said in the page's language (#34), and the period sent is not echoed
    assert bad.status_code == 400 and any(w in bad.text for w in ("annual", "anuales", "anuais")), bad.text
    assert "20x4" not in bad.text
    bad = client.post("/runs", data={"countries": "ZZ", "csrf_token": token})
    assert bad.status_code == 400
    r = client.post("/runs", data={"countries": ["MX"], "note": "portal test", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job_path = r.headers["location"]
    for _ in range(240):
        page = client.get(job_path).text
        if 'data-state="success"' in page or 'data-state="failed"' in page:
            break
        time.sleep(0.5)
    assert 'data-state="success"' in page, page
    run_id = page.split('href="/runs/')[1].split('"')[0]
    run_page = client.get(f"/runs/{run_id}").text
    assert "portal test" in run_page and "/reports/" in run_page
    events = audit.events(portal.engine, limit=100)
    assert (events["action"] == "run.triggered").any()


def test_admin_manages_users(client, portal):
    login(client, "admin")
    token = csrf(client)
    weak = client.post("/users", data={"username": "pe.steward", "password": "short",
                                       "role": "steward", "country": "PE", "csrf_token": token})
    assert "al menos 10 caracteres" in weak.text  # the admin reads Spanish
    client.post("/users", data={"username": "pe.steward", "password": PASSWORD, "role": "steward",
                                "country": "PE", "csrf_token": token})
    assert "pe.steward" in client.get("/users").text
    client.post("/users/pe.steward/active", data={"active": "0", "csrf_token": token})
    other = client.__class__(client.app)
    assert login(other, "pe.steward").status_code == 401  # disabled
    assert client.post("/users/admin/active", data={"active": "0", "csrf_token": token}).status_code == 400


def test_text_from_submissions_is_escaped(client, portal):
    login(client, "mx.steward")
    name = '<script>alert(1)</script>.csv'
    body = b"country,region,period,crime_type,indicator,value\nMX,<img src=x onerror=alert(1)>,2024,0101,incidents,5\n"
    r = client.post("/submissions", data={"country": "MX", "csrf_token": csrf(client)},
                    files={"file": (name, body, "text/csv")})
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert "<script>alert" not in client.get("/submissions").text


def test_security_headers(client):
    r = client.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_coverage_statuses(engine):
    """Complete (annual figure), partial (some months) and missing years, and the latest
    submission per country."""
    from datetime import date

    from ideal.pipeline.submission import submit_bytes
    from ideal.store.queries import coverage

    annual = "country,region,period,crime_type,indicator,value\nMX,MX-JAL,2023,0101,incidents,10\n"
    # 2024: January has homicide, February robbery: two crime types in the year, one per month
    months = "MX,MX-JAL,2024-01,0101,incidents,1\nMX,MX-JAL,2024-02,0401,incidents,2\n"
    assert submit_bytes((annual + months).encode(), "mx.csv", "MX", engine,
                        ).ok
    cov = coverage(engine, ("MX", "CO"), today=date(2026, 11, 29))
    assert cov["years"] == [2023, 2024]
    assert cov["cells"]["MX"][2023]["status"] == "complete"
    assert cov["cells"]["MX"][2024] == {"status": "partial", "rows": 2, "types": 2, "annual": False,
                                        "months": 2, "quarters": 0}
    assert cov["cells"]["CO"][2024]["status"] == "missing"
    # while 2024 is the current year, what it lacks is not missing yet: it is in progress
    now = coverage(engine, ("MX", "CO"), today=date(2024, 3, 1))
    assert now["cells"]["MX"][2024]["status"] == "in_progress"
    assert now["cells"]["CO"][2024]["status"] == "in_progress"
    assert now["cells"]["CO"][2023]["status"] == "missing"
    assert cov["last_submission"]["MX"]["status"] == "accepted" and cov["last_submission"]["CO"] is None


def test_upload_and_country_boundary_on_each_backend(engine):
    """The steward's path on SQLite and on PostgreSQL: refused file, corrected file, another
    country refused; a disabled account's open session ends."""
    from fastapi.testclient import TestClient

    from ideal.store import accounts
    from ideal.web import create_app

    accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
    bad, good = bad_and_good()
    with TestClient(create_app(engine)) as c:
        assert login(c, "mx.steward").status_code == 303
        token = csrf(c)
        r = c.post("/submissions", data={"csrf_token": token},
                   files={"file": ("mx.csv", bad, "text/csv")})
        assert es("Rejected") in r.text and "4011" in r.text
        r = c.post("/submissions", data={"csrf_token": token},
                   files={"file": ("mx.csv", good, "text/csv")})
        assert es("Accepted") in r.text
        _, co = bad_and_good("CO")
        assert c.post("/submissions", data={"country": "CO", "csrf_token": token},
                      files={"file": ("co.csv", co, "text/csv")}).status_code == 403
        with engine.connect() as conn:
            rows = conn.execute(select(Observation.country)).scalars().all()
        assert rows and set(rows) == {"MX"} and len(rows) == 3
        accounts.set_active(engine, "mx.steward", False)
        assert c.get("/submissions", follow_redirects=False).status_code == 303


def test_analyst_renders_a_briefing_in_another_language(client, portal):
    import time

    login(client, "analyst")
    r = client.post(f"/runs/{portal.run_id}/render",
                    data={"kind": "briefing", "language": "pt", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    for _ in range(120):
        page = client.get(r.headers["location"]).text
        if 'data-state="success"' in page or 'data-state="failed"' in page:
            break
        time.sleep(0.5)
    assert 'data-state="success"' in page, page[-1500:]
    run_page = client.get(f"/runs/{portal.run_id}").text
    links = [part.split('"')[0] for part in run_page.split('href="/reports/')[1:]]
    pdfs = [client.get(f"/reports/{rid}") for rid in links]
    # (the Spanish briefing may have been replaced on disk by a later run of the same period:
    # then the page offers to render it again instead of a link)
    assert pdfs and all(p.content.startswith(b"%PDF") for p in pdfs)
    assert any("-pt.pdf" in p.headers["content-disposition"] for p in pdfs)
    bad = client.post(f"/runs/{portal.run_id}/render",
                      data={"kind": "poster", "language": "pt", "csrf_token": csrf(client)})
    assert bad.status_code == 400


def test_feedback_report_download(client, portal):
    login(client, "mx.steward")
    r = client.get(f"/submissions/{portal.mx_submission}/feedback.html")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "<html" in r.text.lower()
    assert client.get(f"/submissions/{portal.mx_submission}/other.txt").status_code == 404


def test_steward_home_shows_what_was_sent_and_what_is_missing(client, portal, engine):
    """Per crime type and year: complete, partial (with its months), missing, and the current
    year in progress; and the latest feedback with a link."""
    from datetime import date

    from ideal.pipeline.submission import submit_bytes
    from ideal.store import queries

    year = date.today().year
    head = "country,region,period,crime_type,indicator,value\n"
    rows = "".join(f"MX,MX-JAL,{year - 2}-{m:02d},0703,incidents,{m}\n" for m in (1, 2, 3))
    rows += f"MX,MX-JAL,{year - 1},0703,incidents,40\n"
    assert submit_bytes((head + rows).encode(), "mx-fraud.csv", "MX", engine).ok
    cov = queries.country_coverage(engine, "MX", list(range(year - 5, year + 1)))
    assert cov["cells"]["0703"][year - 2] == {"status": "partial", "months": 3, "quarters": 0,
                                              "annual": False, "rows": 3}
    assert cov["cells"]["0703"][year - 1]["status"] == "complete"
    assert cov["cells"]["0703"][year - 3]["status"] == "missing"
    assert cov["cells"]["0703"][year]["status"] == "in_progress"
    login(client, "mx.steward")
    page = client.get("/")
    assert page.status_code == 200 and "Lo que México ha enviado" in page.text
    assert 'id="latest"' in page.text and "/submissions/MX-" in page.text


def test_run_page_lists_every_score_filtered_sorted_and_as_csv(client, portal):
    import csv
    import io

    from ideal.store.runs import load

    _, scores = load(portal.engine, portal.run_id)
    login(client, "analyst")
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf(client)})
    page = client.get(f"/runs/{portal.run_id}?country=CO&sort=reliability")
    assert page.status_code == 200 and 'id="every-score"' in page.text
    n_co = int((scores["country"] == "CO").sum())
    assert f"of {n_co} scores (the run has {len(scores)})" in page.text
    table = page.text.split('id="every-score"')[1]
    assert "<td>MX</td>" not in table and "<td>CO</td>" in table
    got = client.get(f"/runs/{portal.run_id}/scores.csv?country=CO&crime=0101")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    expected = scores[(scores["country"] == "CO") & (scores["crime_type"] == "0101")]
    assert len(rows) == len(expected) and {r["country"] for r in rows} == {"CO"}
    scores_desc = [float(r["score"]) for r in rows if r["score"]]
    assert scores_desc == sorted(scores_desc, reverse=True)
    login(client, "mx.steward")
    assert client.get(f"/runs/{portal.run_id}/scores.csv").status_code == 403


def test_run_page_shows_the_map_of_its_levels_and_of_the_crime_type_filtered(client, portal):
    login(client, "analyst")
    client.post("/language", data={"language": "es", "next": "/", "csrf_token": csrf(client)})
    page = client.get(f"/runs/{portal.run_id}?crime=0101")
    assert page.status_code == 200 and f'src="/runs/{portal.run_id}/map.svg?crime=0101"' in page.text
    got = client.get(f"/runs/{portal.run_id}/map.svg?crime=0101")
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/svg+xml")
    assert got.text.startswith("<?xml") and "<image" not in got.text  # vectors, no raster
    assert "muy alto" in got.text and "sin puntuación" in got.text  # the legend, in the user's language
    assert client.get("/runs/nope/map.svg").status_code == 404
    login(client, "mx.steward")
    assert client.get(f"/runs/{portal.run_id}/map.svg").status_code == 403


def test_admin_sets_a_stewards_feedback_address_when_adding_them(client, portal):
    from ideal.store import accounts

    login(client, "admin")
    token = csrf(client)
    bad = client.post("/users", data={"username": "ar.mail", "password": PASSWORD, "role": "steward",
                                      "country": "MX", "language": "es", "email": "not-an-address",
                                      "csrf_token": token})
    assert bad.status_code == 200 and "no es una dirección de correo" in bad.text
    assert "ar.mail" not in [a.username for a in accounts.list_users(portal.engine)]
    ok = client.post("/users", data={"username": "ar.mail", "password": PASSWORD, "role": "steward",
                                     "country": "MX", "language": "pt", "email": "datos@mx.test",
                                     "csrf_token": token})
    assert ok.status_code == 200 and "datos@mx.test" in ok.text
    assert accounts.stewards_to_mail(portal.engine, "MX") == [("ar.mail", "datos@mx.test", "pt")]
