import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from ideal.cli import app
from ideal.ingest.demo import country_frame

runner = CliRunner()


def test_help_lists_commands():
    out = runner.invoke(app, ["--help"])
    assert out.exit_code == 0
    for cmd in ("init", "submit", "ingest", "assess", "report", "demo", "template"):
        assert cmd in out.output
    for cmd in ("init", "submit", "ingest", "assess", "report", "demo"):
        assert runner.invoke(app, [cmd, "--help"]).exit_code == 0


def test_submit_exit_codes_and_messages(engine, tmp_path):
    good = tmp_path / "mx.csv"
    country_frame("MX").head(50).to_csv(good, index=False)
    ok = runner.invoke(app, ["submit", str(good), "--country", "MX"])
    assert ok.exit_code == 0 and "aceptado" in ok.output
    again = runner.invoke(app, ["submit", str(good), "--country", "MX"])
    assert again.exit_code == 0 and "ya recibido" in again.output
    english = runner.invoke(app, ["submit", str(good), "--country", "MX", "--language", "en"])
    assert english.exit_code == 0 and "already received" in english.output
    bad = tmp_path / "bad.csv"
    bad.write_text("country,region,period,crime_type,indicator,value\nMX,MX-JAL,2024,101,incidents,-1\n")
    res = runner.invoke(app, ["submit", str(bad), "--country", "MX"])
    assert res.exit_code == 1
    assert "RECHAZADO" in res.output and "fila 2" in res.output and "crime_type_known" in res.output
    assert "Traceback" not in res.output
    missing = runner.invoke(app, ["submit", str(tmp_path / "nope.csv"), "--country", "MX"])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_assess_refusal_is_a_message_not_a_traceback(engine):
    res = runner.invoke(app, ["assess", "--period", "1999"])
    assert res.exit_code == 1 and "no accepted observations yet" in res.output
    res = runner.invoke(app, ["assess", "--period", "2025-Q1"])
    assert res.exit_code == 1 and "give a year" in res.output


def test_template_command_writes_the_template(tmp_path):
    out = tmp_path / "t.csv"
    assert runner.invoke(app, ["template", str(out)]).exit_code == 0
    assert out.read_text().startswith("country,region,period,crime_type,indicator,value,obs_status")


def test_demo_twice_adds_no_rows(tmp_path):
    """The demo end to end, as `make demo` runs it, twice."""
    env = dict(os.environ, IDEAL_HOME=str(tmp_path / "var"), IDEAL_REPORTS_DIR=str(tmp_path / "reports"),
               IDEAL_MEMBERS="MX GT HN VE NI PY PE")  # PE's files arrive late (demo.LATE)
    env.pop("IDEAL_DATABASE_URL", None)
    ideal = str(Path(sys.executable).parent / "ideal")
    first = subprocess.run([ideal, "demo"], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    pdf = tmp_path / "reports" / "2025" / "briefing-es.pdf"
    assert pdf.exists() and f"Briefing: {pdf}" in first.stdout
    assert "Top threats:" in first.stdout and "RECHAZADO" in first.stdout  # VE's bad file

    from ideal.store import make_engine
    from ideal.store.models import AssessmentRun, Observation, Submission

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'demo' / 'ideal.db'}")
    assert not (tmp_path / "var" / "ideal.db").exists()  # the demo's rows never reach the real warehouse

    def counts():
        with engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(m)).scalar()
                         for m in (Observation, Submission, AssessmentRun))

    before = counts()
    second = subprocess.run([ideal, "demo"], env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "no se cargó nada de nuevo" in second.stdout  # IDEAL_LANGUAGE: es
    assert counts() == before
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    for name in ("México", "Guatemala", "Honduras", "Paraguay"):
        assert name in text
    # every area CLASI named, per member that contributed: a severity, its interval, the
    # assessors and whether data and contributions agree (#49)
    from ideal.store import contributions, runs

    run, _ = runs.load(engine)
    sev = contributions.severities(engine, run["id"])
    areas = sev[sev["market"].str.startswith("area:")]
    assert set(areas["market"]) == {f"area:{a}" for a in ("proceeds", "money_laundering", "environment", "cyber",
                                                          "firearms", "trafficking", "corruption")}
    assert set(areas["country"]) == {"MX", "GT", "HN", "NI", "PY", "PE"}  # VE did not contribute
    assert len(areas) == 6 * 7
    assert (areas["low"] <= areas["severity"]).all() and (areas["severity"] <= areas["high"]).all()
    assert (areas["assessors"] >= 3).all() and areas["agreement"].isin(["agree", "disagree"]).any()
    assert "Áreas prioritarias del CLASI" in text and "Armas de fuego" in text
    # v5 (#48, #50): page 1 states the proposed priorities and the hotspots, how sure in
    # likelihood words; the top threats lead with the recorded rate
    page1 = PdfReader(pdf).pages[0].extract_text()
    assert "Prioridades propuestas al CLASI:" in page1 and "regiones críticas" in page1
    assert any(w in page1 for w in ("casi con certeza", "muy probablemente", "probablemente"))
    assert "100 %" not in page1
    assert "per 100k recorded" in first.stdout
    # #50: page 1 says what changed since the year's first run (before PE's late files), in every
    # language; at most 4 pages before the annex; no "sin duda", no "100 %" of simulations
    assert "Desde la evaluación anterior de este alcance" in page1 and "miembros incorporados: Perú" in page1
    reader = PdfReader(pdf)
    annex_at = next(i for i, p in enumerate(reader.pages) if "Anexo: detalles para analistas" in p.extract_text())
    assert 1 <= annex_at <= 4, annex_at
    assert "sin duda" not in text and "100 %" not in text.replace("> 99 %", "")
    from ideal.pipeline.assessment import render_report

    words = {"pt": ("Prioridades propostas ao CLASI:", ("quase com certeza", "muito provavelmente", "provavelmente"),
                    "Desde a avaliação anterior deste escopo", "membros incorporados: Peru"),
             "en": ("Proposed priorities for CLASI:", ("almost certainly", "very likely", "likely"),
                    "Since the previous run of this scope", "members added: Peru")}
    for lang, (priorities, likely, since, added) in words.items():
        out = render_report(engine, run["id"], "briefing", lang, tmp_path / "other")
        first_page = PdfReader(out).pages[0].extract_text().replace("\n", " ")
        assert priorities in first_page and any(w in first_page for w in likely), (lang, first_page[:600])
        assert since in first_page and added in first_page, (lang, first_page[:1500])


def test_xlsx_template_round_trips_through_submission(engine, tmp_path):
    out = tmp_path / "t.xlsx"
    assert runner.invoke(app, ["template", str(out)]).exit_code == 0
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["data", "countries", "regions", "crime_types", "indicators", "obs_status",
                             "Instrucciones"]
    assert wb["regions"].max_row == 356 and wb["crime_types"]["A3"].value == "0101"
    res = runner.invoke(app, ["submit", str(out), "--country", "MX"])
    assert res.exit_code == 0 and "aceptado" in res.output and "hoja: data" in res.output
    log = runner.invoke(app, ["audit", "--country", "MX"])
    assert log.exit_code == 0 and "submission.accepted" in log.output


def test_trigger_and_runs_locally_without_airflow(engine, monkeypatch, tmp_path):
    from ideal.pipeline.submission import submit_bytes

    monkeypatch.delenv("IDEAL_AIRFLOW_URL", raising=False)
    submit_bytes(country_frame("MX").to_csv(index=False).encode(), "mx.csv", "MX", engine)
    res = runner.invoke(app, ["trigger", "--countries", "MX", "--note", "local"])
    assert res.exit_code == 0 and "(local, success)" in res.output and "briefing-es.pdf" in res.output
    run_id = res.output.split()[1]
    listed = runner.invoke(app, ["runs"])
    assert listed.exit_code == 0, listed.output
    header, row = listed.output.splitlines()[:2]
    assert header.split()[:4] == ["started", "state", "assessment", "period"] and "crime types" in header
    cells = row.split()
    # newest first: the stored run, its period, countries, crime types (the first three and how
    # many more) and note
    assert cells[2] == "stored" and cells[3] == run_id and cells[5] == "MX"
    assert cells[6] == "0101,0102,020221,+11"
    assert cells[-1] == "local"


def test_a_closed_output_pipe_ends_a_command_quietly(tmp_path):
    """`ideal ... | head`: the reader goes away while the command writes; no 'unexpected error'."""
    import subprocess
    import sys

    script = ("import typer\nfrom ideal.cli import handled\napp = typer.Typer()\n"
              "@app.command()\n@handled\ndef talk():\n    for i in range(200000):\n        typer.echo(f'line {i}')\n"
              "app()\n")
    cmd = f"{sys.executable} -c \"{script}\" | head -n 2"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)  # noqa: S603,S607
    assert out.stdout.splitlines() == ["line 0", "line 1"]
    assert "unexpected error" not in out.stderr and "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr


BILLION_LAUGHS = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 9))


def test_yaml_with_aliases_or_deep_nesting_is_refused_wherever_it_is_read(engine, tmp_path, monkeypatch):
    """#46: a methodology profile with an 8-level alias block reached 1.5 GB; a profile of 50,000
    `[` said "unexpected error: RecursionError". One loader (ideal.safe_load) for every YAML."""
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text("l0: &l0 [x]\n" + BILLION_LAUGHS, encoding="utf-8")
    res = runner.invoke(app, ["assess", "--profile", str(laughs)])
    assert res.exit_code == 1 and "anchors and aliases" in res.output and "line 1" in res.output
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 50_000, encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    res = runner.invoke(app, ["profile", "check", str(data), "--profile", str(deep), "--country", "MX"])
    assert res.exit_code == 1 and "nested more than 40 levels deep" in res.output
    assert "RecursionError" not in res.output and "unexpected" not in res.output
    import pytest

    from ideal.errors import ConfigError
    from ideal.report.delivery import distribution
    from ideal.validate.plausibility import checks_config

    with pytest.raises(ConfigError, match="anchors and aliases"):
        checks_config(str(laughs))
    with pytest.raises(ConfigError, match="anchors and aliases"):
        distribution(laughs)


def test_the_marking_is_set_at_init_and_the_demo_home_alone_is_a_demonstration(ideal_env, monkeypatch, tmp_path):
    """#47: every page of a briefing made from real submissions said "DOCUMENTO DE DEMOSTRACIÓN"."""
    from ideal.config import get_settings, use_demo_home
    from ideal.report.context import marking

    monkeypatch.delenv("IDEAL_CLASSIFICATION", raising=False)
    assert marking("es") == "SIN MARCA DE CLASIFICACIÓN (ideal init --marking)"
    res = runner.invoke(app, ["init", "--marking", "USO OFICIAL - RESERVADO"])
    assert res.exit_code == 0 and "briefings are marked: USO OFICIAL - RESERVADO" in res.output
    assert marking("pt") == "USO OFICIAL - RESERVADO"
    monkeypatch.setenv("IDEAL_DEMO_HOME", str(tmp_path / "demo"))
    use_demo_home()  # the demo's home (what `ideal demo` does before it runs)
    from ideal.config import DEFAULT_CLASSIFICATION, set_marking

    set_marking(get_settings().home, DEFAULT_CLASSIFICATION)
    assert marking("en") == "OFFICIAL USE - DEMONSTRATION DOCUMENT"
