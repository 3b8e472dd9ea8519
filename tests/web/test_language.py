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
