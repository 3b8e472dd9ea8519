"""No English left in the Spanish or Portuguese portal and briefing (#17): every page a
steward, an analyst and an admin open, the error pages and the briefing PDF are rendered in
es and pt, and none may show a phrase of the English catalogue (the msgids) or one of the
English words stewards met before ("accepted", "assessment", "inbox", "gone", "Province"...),
proper names and codes aside."""

from __future__ import annotations

import html
import re

import pytest
from babel.messages.pofile import read_po

from ideal.i18n import catalog_path
from tests.web.conftest import csrf, login

WORDS = ["accepted", "rejected", "superseded", "received", "failed", "queued", "running", "success",
         "assessment", "assessments", "inbox", "gone", "Province", "encoding", "separator", "briefing",
         "annex", "Submission", "Coverage", "Region", "Score", "Level", "Rank", "Download", "Upload",
         "Country", "Year", "Rows", "warning", "error"]


def _phrases(lang: str) -> list[str]:
    """The English phrases of the catalogue (two words or more) whose translation differs."""
    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    out = []
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or not m.string:
            continue
        text = re.sub(r"%\([a-z_]+\)[sd]|%%", " ", m.id)
        for part in re.split(r"[:;.,()\n]", text):  # pieces around placeholders and punctuation
            part = part.strip()
            if len(part.split()) >= 2 and len(part) >= 10 and part not in m.string:
                out.append(part)
    return sorted(set(out))


def _visible(markup: str) -> str:
    markup = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", markup, flags=re.S)
    markup = re.sub(r"<[^>]+>", " ", markup)
    return re.sub(r"\s+", " ", html.unescape(markup))


def _english(text: str, phrases: list[str]) -> list[str]:
    found = [p for p in phrases if p in text]
    found += [w for w in WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    return found


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_no_english_in_the_portal(client, portal, lang):
    from ideal.pipeline import jobs
    from ideal.store import jobs as stored

    phrases = _phrases(lang)
    job = jobs.create(portal.engine, "assessment", "analyst", {"profile": "default", "countries": ["MX"]})
    stored.change(portal.engine, job["id"], state="success", result={"run_id": portal.run_id}, steps=[
        {"msg": "assessing", "args": {}},
        {"msg": "run %(run)s: %(scores)s scores from %(observations)s observations",
         "args": {"run": portal.run_id, "scores": "12", "observations": "340"}},
        {"msg": "rendering the briefing", "args": {}}, {"msg": "briefing ready", "args": {}}])
    pages = {"mx.steward": ["/", "/submissions", f"/submissions/{portal.mx_submission}", "/coverage",
                            "/no/such/page", f"/submissions/{portal.co_submission}",
                            f"/submissions/{portal.mx_submission}/feedback.html"],
             "analyst": ["/coverage", "/submissions", f"/submissions/{portal.co_submission}", "/runs",
                         f"/runs/{portal.run_id}", "/compare", "/profiles", f"/jobs/{job['id']}"],
             "admin": ["/users"]}
    leaks = []
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/language", data={"language": lang, "next": "/login", "csrf_token": token})
    leaks += [f"/login: {w}" for w in _english(_visible(client.get("/login").text), phrases)]
    for role, paths in pages.items():
        login(client, role)
        client.post("/language", data={"language": lang, "next": "/", "csrf_token": csrf(client)})
        for path in paths:
            r = client.get(path)
            leaks += [f"{role} {path}: {w}" for w in _english(_visible(r.text), phrases)]
        client.post("/logout", data={"csrf_token": csrf(client)})
    assert not leaks, leaks


@pytest.mark.parametrize("kind", ["briefing", "annex"])
@pytest.mark.parametrize("lang", ["es", "pt"])
def test_no_english_in_the_briefing_and_annex(portal, lang, kind):
    from pypdf import PdfReader

    from ideal.pipeline.assessment import render_report

    path = render_report(portal.engine, portal.run_id, kind, lang)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(str(path)).pages))
    leaks = _english(text, _phrases(lang))
    assert not leaks, leaks


def test_the_check_finds_english(client, portal):
    """The same check on the English portal finds English: it is not a test that cannot fail."""
    login(client, "analyst")
    client.post("/language", data={"language": "en", "next": "/runs", "csrf_token": csrf(client)})
    text = _visible(client.get("/runs").text)
    assert len(_english(text, _phrases("es"))) > 5


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_errors_in_the_users_language(client, portal, lang):
    """#34: the errors a user meets were English on es and pt pages: a failed job, an account the
    admin could not add, a form the server could not read, a job or report that does not exist,
    an upload far over the limit. Each is answered in the page's language."""
    from ideal.i18n import translations
    from ideal.pipeline import jobs
    from ideal.store import jobs as stored

    _ = translations(lang).gettext
    phrases = _phrases(lang)
    failed = jobs.create(portal.engine, "assessment", "analyst", {"profile": "default", "period": "2031"})
    jobs.fail(portal.engine, failed["id"], "the job ran past its time limit (%(seconds)s s) and was stopped.",
              seconds=3600)
    refused = jobs.create(portal.engine, "assessment", "analyst", {"profile": "default", "period": "2031"})
    stored.change(portal.engine, refused["id"], state="failed", error="no accepted observations for 2031 ...",
                  result={"error": {"msg": "no accepted observations for %(year)s: the latest year with data "
                                           "is %(latest)s; assess %(latest)s or an earlier year.",
                                    "args": {"year": "2031", "latest": "2024"}}})
    login(client, "admin")
    client.post("/language", data={"language": lang, "next": "/", "csrf_token": csrf(client)})
    token = csrf(client)
    seen = {}
    for job_id in (failed["id"], refused["id"]):
        seen[f"job {job_id}"] = client.get(f"/jobs/{job_id}").text
    seen["no job"] = client.get("/jobs/nope").text
    seen["no report"] = client.get("/reports/99999").text
    for password in ("short", "password1234", "admin.user-x1"):
        r = client.post("/users", data={"username": "admin.user", "password": password, "role": "analyst",
                                        "csrf_token": token})
        seen[f"password {password}"] = r.text
    seen["steward without country"] = client.post("/users", data={
        "username": "xx.steward", "password": "correct-horse-battery", "role": "steward",
        "csrf_token": token}).text
    seen["existing user"] = client.post("/users", data={
        "username": "analyst", "password": "correct-horse-battery", "role": "analyst",
        "csrf_token": token}).text
    seen["broken form"] = client.post("/submissions", content=b"--x\r\nContent-Disposition: form-data\r\n",
                                      headers={"content-type": "multipart/form-data"}).text  # no boundary
    seen["form too large"] = client.post("/language", content=b"x" * (2 << 20),
                                         headers={"content-type": "application/x-www-form-urlencoded"}).text
    expected = {f"job {failed['id']}": _("the job ran past its time limit (%(seconds)s s) and was stopped.")
                % {"seconds": 3600},
                f"job {refused['id']}": _("no accepted observations for %(year)s: the latest year with data "
                                          "is %(latest)s; assess %(latest)s or an earlier year.")
                % {"year": "2031", "latest": "2024"},
                "no job": _("No job %(id)s.") % {"id": "nope"},
                "no report": _("No report %(id)s.") % {"id": 99999},
                "password short": _("the password must have at least %(n)s characters (spaces at the ends do "
                                    "not count).") % {"n": 10},
                "password password1234": _("this password is among the most common ones (leaked password "
                                           "lists): choose another."),
                "password admin.user-x1": _("the password must not contain the user name."),
                "steward without country": _("a steward is bound to one country: give their country (e.g. MX)."),
                "existing user": _("user %(name)s already exists.") % {"name": "analyst"},
                "broken form": _("The form could not be read (the upload was cut off or is not a form): "
                                 "reload the page and send it again."),
                "form too large": _("The request is larger than %(mb)s MB; this page takes only a short form.")
                % {"mb": 1}}
    problems = []
    for what, text in seen.items():
        visible = _visible(text)
        if expected[what] not in visible:
            problems.append(f"{what}: expected {expected[what]!r} in {visible[:300]!r}")
        problems += [f"{what}: {w}" for w in _english(visible, phrases)]
    assert not problems, problems


def _spanish(lang: str = "pt") -> list[str]:
    """Phrases of the Spanish catalogue (two words or more) that the ``lang`` one does not say."""
    with catalog_path("es").open("rb") as fh:
        es = read_po(fh, locale="es")
    with catalog_path(lang).open("rb") as fh:
        other = {m.id: m.string for m in read_po(fh, locale=lang) if m.id}
    out = []
    for m in es:
        if not m.id or not isinstance(m.id, str) or not m.string or not other.get(m.id):
            continue
        for part in re.split(r"[:;.,()\n\[\]]|%\([a-z_]+\)[sdr]|%%", m.string):
            part = part.strip()
            if len(part.split()) >= 2 and len(part) >= 12 and part not in other[m.id] and part not in m.id:
                out.append(part)
    return sorted(set(out))


def test_a_stewards_findings_in_the_readers_language(client, portal):
    """#34: a submission's problems, its reading notes and its feedback page are written once, in
    the submitting steward's language; a reader of another language saw them in Spanish. Each is
    now said again in the reader's language from the catalogue message and values kept with it."""
    from ideal.ingest.demo import country_frame
    from ideal.pipeline.submission import submit_bytes

    frame = country_frame("MX").astype({"value": "object"})
    frame.loc[frame.index[:3], "value"] = -5  # a rule's "what to do" (blocking)
    frame.loc[frame.index[3:60], "crime_type"] = "NOPE"  # many rows with the same problem
    latin1 = frame.to_csv(index=False, sep=";").encode("latin-1")
    receipt = submit_bytes(latin1, "mx-semicolons.csv", "MX", portal.engine, language="es")
    assert receipt.status == "rejected" and receipt.notes
    spanish = _spanish("pt")
    login(client, "mx.steward")
    seen = {}
    for lang in ("es", "pt"):
        client.post("/language", data={"language": lang, "next": "/", "csrf_token": csrf(client)})
        seen[lang] = {path: _visible(client.get(path).text) for path in (
            f"/submissions/{receipt.submission_id}", f"/submissions/{receipt.submission_id}/feedback.html")}
        seen[lang]["csv"] = client.get(f"/submissions/{receipt.submission_id}/feedback.csv").text
    leaks = [f"{path}: {p}" for path, text in seen["pt"].items() for p in spanish if p in text]
    assert not leaks, leaks
    # the same check finds the Spanish on the steward's own pages: it can fail
    assert sum(p in text for text in seen["es"].values() for p in spanish) > 5
