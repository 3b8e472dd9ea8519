"""No one where they do not belong, nothing unsafe out: a steward of one country cannot put
rows of another in through any path; text from submissions is escaped in the portal and the
PDFs, exported CSVs cannot run formulas, the renderer fetches nothing outside the project's
assets; the audit log cannot be changed; no secret in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from ideal.ingest.demo import country_frame
from ideal.store import accounts, audit
from ideal.store.models import ApiToken, Observation, User
from tests.web.conftest import PASSWORD, bad_and_good, csrf, login

ROOT = Path(__file__).resolve().parents[2]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def refusals(engine) -> int:
    ev = audit.events(engine, limit=100_000)
    return int(((ev["action"] == "access.refused") | (ev["action"] == "submission.rejected")).sum())


def co_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Observation)
                            .where(Observation.country == "CO")).scalar()


def refused_for_rows(engine, response) -> bool:
    """The upload's submission was rejected because its rows name another country."""
    from ideal.store.queries import findings, submission

    sid = response.url.path.rsplit("/", 1)[1]
    found = submission(engine, sid)
    return bool(found) and found["status"] == "rejected" and \
        "country_is_submitter" in set(findings(engine, sid)["rule"])


def test_a_steward_cannot_reach_another_country(engine, tmp_path, tally):
    from fastapi.testclient import TestClient

    from ideal.cli import app
    from ideal.pipeline.submission import submit_bytes
    from ideal.web import create_app

    co = submit_bytes(country_frame("CO").head(30).to_csv(index=False).encode(), "co.csv", "CO", engine)
    base_co = co_rows(engine)
    accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
    token = accounts.make_token(engine, "mx.steward")
    _, co_file = bad_and_good("CO")
    sneaky = co_file.replace(b"1873", b"1875")  # a file of Colombian rows, sent as Mexico's
    attempts = []
    with TestClient(create_app(engine)) as c:
        login(c, "mx.steward")
        t = csrf(c)
        attempts += [
            ("portal: open CO submission", c.get(f"/submissions/{co.submission_id}").status_code == 404),
            ("portal: CO feedback CSV", c.get(f"/submissions/{co.submission_id}/feedback.csv").status_code == 404),
            ("portal: CO receipt", c.get(f"/submissions/{co.submission_id}/receipt.json").status_code == 404),
            ("portal: list CO", c.get("/submissions?country=CO").status_code == 403),
            ("portal: upload for CO", c.post("/submissions", data={"country": "CO", "csrf_token": t},
                                             files={"file": ("co.csv", co_file, "text/csv")}).status_code == 403),
            ("portal: CO rows as MX", refused_for_rows(engine, c.post(
                "/submissions", data={"csrf_token": t},
                files={"file": ("mx.csv", sneaky, "text/csv")}))),
        ]
        h = {"Authorization": f"Bearer {token}"}
        attempts += [
            ("api: upload for CO", c.post("/api/v1/submissions", headers=h, data={"country": "CO"},
                                          files={"file": ("co.csv", co_file, "text/csv")}).status_code == 403),
            ("api: open CO submission", c.get(f"/api/v1/submissions/{co.submission_id}", headers=h).status_code == 404),
            ("api: list CO", c.get("/api/v1/submissions?country=CO", headers=h).status_code == 403),
            ("api: CO rows as MX", c.post("/api/v1/submissions", headers=h, files={
                "file": ("mx2.csv", sneaky + b"\n", "text/csv")}).status_code == 422),
        ]
    runner = CliRunner()
    path = tmp_path / "co.csv"
    path.write_bytes(co_file + b"\n\n")
    out = runner.invoke(app, ["submit", str(path), "-c", "CO", "--token", token])
    attempts.append(("cli token: submit for CO", out.exit_code == 1 and "steward of MX" in out.output))
    path.write_bytes(sneaky + b"\n\n\n")
    out = runner.invoke(app, ["submit", str(path), "-c", "MX", "--token", token])
    attempts.append(("cli token: CO rows as MX", out.exit_code == 1 and "country_is_submitter" in out.output))
    tally.add("cross_country", len(attempts))
    audited = refusals(engine)
    refused = [name for name, ok in attempts if ok]
    tally.add("cross_country_refused", len(refused) if audited >= len(attempts) else 0)
    assert len(refused) == len(attempts), [n for n, ok in attempts if not ok]
    assert audited >= len(attempts)
    assert co_rows(engine) == base_co
    ev = audit.events(engine, limit=1000)
    assert set(ev.loc[ev["action"] == "access.refused", "actor"]) <= {"portal:mx.steward", "cli:mx.steward"}


def test_submitted_text_is_escaped_and_the_renderer_fetches_nothing(engine, monkeypatch, tally):
    """A valid file with a hostile file name: the name shows in the portal and in the annex's
    list of submissions, escaped; no fetch outside the assets while rendering."""
    from fastapi.testclient import TestClient

    from ideal.contracts import AssessmentRequest
    from ideal.pipeline.assessment import assess, render_report
    from ideal.pipeline.submission import submit_bytes
    from ideal.report import fetcher, render
    from ideal.web import create_app

    # no slash: the name is kept whole (a path in a name is cut to its last part)
    hostile = "<img src=x.png onerror=alert(1)><link rel=stylesheet href=evil.css>"
    r = submit_bytes(country_frame("MX").to_csv(index=False).encode(), hostile + ".csv", "MX", engine)
    assert r.ok
    htmls, fetchers = [], []
    real_render, real_fetcher = render.render_html, fetcher.AssetFetcher

    class Spy(real_fetcher):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            fetchers.append(self)

    monkeypatch.setattr(fetcher, "AssetFetcher", Spy)
    monkeypatch.setattr(render, "render_html", lambda ctx, t="briefing.html.j2": htmls.append(
        real_render(ctx, t)) or htmls[-1])
    run = assess(engine, AssessmentRequest(countries=("MX",)))
    render_report(engine, run.run_id, "briefing", "es")
    render_report(engine, run.run_id, "annex", "es")
    assert len(htmls) == 2 and len(fetchers) == 2
    accounts.add_user(engine, "analyst", PASSWORD, "analyst")
    with TestClient(create_app(engine)) as c:
        login(c, "analyst")
        pages = [c.get("/submissions").text, c.get(f"/submissions/{r.submission_id}").text,
                 c.get(f"/runs/{run.run_id}").text]
    raw = sum(page.count("<img src=x") + page.count("<link rel=stylesheet") for page in htmls + pages)
    assert any("&lt;img src=" in h for h in htmls), "the file name should appear in the annex"
    refused = sum(len(f.refused) for f in fetchers)
    tally.add("unescaped", raw)
    tally.add("renderer_fetches", refused)
    assert raw == 0 and refused == 0


def test_exported_csvs_cannot_run_formulas(engine, tally):
    from fastapi.testclient import TestClient

    from ideal.contracts import AssessmentRequest
    from ideal.pipeline.assessment import assess
    from ideal.pipeline.submission import submit_bytes
    from ideal.report.annex import scores_csv
    from ideal.store.runs import load as load_run
    from ideal.web import create_app

    evil = ("country,region,period,crime_type,indicator,value\n"
            'MX,"=HYPERLINK(""http://evil.example"",""x"")",2024,0101,incidents,5\n'
            "MX,MX-JAL,2024,0101,@SUM(A1),-1\n"
            "MX,MX-JAL,2024,0101,incidents,+cmd|' /C calc'!A0\n"
            "MX,MX-JAL,2024,0101,incidents,-1+cmd|' /C calc'!A0\n")
    rejected = submit_bytes(evil.encode(), "evil.csv", "MX", engine)
    assert rejected.status == "rejected"
    accounts.add_user(engine, "mx.steward", PASSWORD, "steward", "MX")
    with TestClient(create_app(engine)) as c:
        login(c, "mx.steward")
        feedback = c.get(f"/submissions/{rejected.submission_id}/feedback.csv").content.decode("utf-8-sig")
    cells = [cell for _, row in pd.read_csv(pd.io.common.StringIO(feedback), dtype=str,
                                            keep_default_na=False).iterrows() for cell in row]
    submit_bytes(country_frame("MX").to_csv(index=False).encode(), "mx.csv", "MX", engine)
    run = assess(engine, AssessmentRequest(countries=("MX",)))
    _, scores = load_run(engine, run.run_id)
    scores_cells = [c for line in scores_csv(scores).splitlines() for c in line.split(",")]
    # a cell the program wrote as a number may be negative; nothing else may start a formula
    dangerous = [c for c in cells if c.startswith(FORMULA)]
    dangerous += [c for c in scores_cells if c.startswith(FORMULA) and not _number(c)]
    tally.add("formulas", len(dangerous))
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert any(c.startswith("'-1+cmd") for c in cells)  # #34: a minus and a digit is no excuse
    assert not dangerous, dangerous[:5]


def test_audit_log_is_append_only_and_readable(engine, tally):
    from ideal.cli import app

    audit.log(engine, actor="test", action="probe", outcome="ok", detail="x")
    went_through = 0
    for statement in ("UPDATE audit_log SET outcome = 'changed'", "DELETE FROM audit_log"):
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
            went_through += 1
        except Exception:
            pass
    tally.add("audit_tampering", went_through)
    assert went_through == 0
    out = CliRunner().invoke(app, ["audit", "--limit", "5"])
    assert out.exit_code == 0 and "probe" in out.output and "test" in out.output
    line = next(ln for ln in out.output.splitlines() if "probe" in ln)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line)  # when; who, what, outcome follow


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"ideal_[A-Za-z0-9_-]{43}"),  # an IDEAL API token
    re.compile(r"\$argon2id\$v=\d+\$"),  # a password hash
    re.compile(r"(?i)(password|secret|jwt_secret|fernet_key)\s*[=:]\s*['\"]?(?!<)[A-Za-z0-9+/_-]{12,}"),
]


def test_no_secret_in_the_repository_and_passwords_hashed(engine, tally):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".ttf", ".png", ".lock") or name.startswith("tests/"):
            continue  # tests hold throwaway passwords for their own temporary accounts
        content = path.read_text(errors="ignore")
        found += [f"{name}: {p.pattern}" for p in SECRET_PATTERNS if p.search(content)]
    for name in files:  # and no real key or token anywhere, tests included
        if name.startswith("tests/") and name.endswith(".py"):
            content = (ROOT / name).read_text(errors="ignore")
            found += [f"{name}: {p.pattern}" for p in SECRET_PATTERNS[:3] if p.search(content)]
    accounts.add_user(engine, "someone", PASSWORD, "analyst")
    token = accounts.make_token(engine, "someone")
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash)).scalar()
        digest = conn.execute(select(ApiToken.token_sha256)).scalar()
    plain = int(PASSWORD in stored or not stored.startswith("$argon2id$")) + int(token in digest)
    tally.add("secrets", len(found) + plain)
    assert not found and not plain, found


@pytest.mark.parametrize("var", ["IDEAL_DATABASE_URL", "IDEAL_SECRET_KEY", "IDEAL_AIRFLOW_PASSWORD"])
def test_configuration_comes_from_the_environment(var):
    """Credentials are read from IDEAL_* variables, never written in the code."""
    code = "\n".join(p.read_text() for p in (ROOT / "ideal").rglob("*.py"))
    assert var in code
