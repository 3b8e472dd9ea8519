"""Onboarding a national export end to end on a temporary warehouse (SQLite and PostgreSQL):
resubmission rules, partial years stored with the observations, the dry run that loads
nothing, and the CLI's `ideal profile new / check / install` as a steward uses them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from typer.testing import CliRunner

from ideal.cli import app
from ideal.ingest.sniff import ReadOptions
from ideal.pipeline import profiles
from ideal.pipeline.submission import submit_bytes
from ideal.store.models import Observation, Submission
from tests.ingest import exports as E
from tests.pipeline import TODAY, count, csv


def _install(tmp_path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return profiles.install(path.read_text(encoding="utf-8"))[0].name


def test_same_bytes_read_another_way_are_a_new_attempt_linked_to_the_first(engine, tmp_path):
    data, _ = E.br_sinesp_workbook()
    one_sheet = E.BR_PROFILE.replace('read:\n  sheets: [{name: "Ocorrências"}, {name: "Vítimas"}]\n', "")
    _install(tmp_path, one_sheet)
    first = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY)  # detected: first data sheet
    assert first.status == "accepted" and first.attempt_of is None
    again = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY)
    assert again.duplicate and again.submission_id == first.submission_id
    victims = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY,
                           options=ReadOptions(sheet="Vítimas"), language="en")
    assert not victims.duplicate and victims.status == "accepted"
    assert victims.attempt_of == first.submission_id and "a new attempt of" in victims.summary()
    assert submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY,
                        options=ReadOptions(sheet="Vítimas")).duplicate
    with engine.connect() as conn:
        rows = conn.execute(select(Submission.id, Submission.reading, Submission.attempt_of)).all()
    assert len(rows) == 2 and {r.reading for r in rows} == {"", "sheet='Vítimas'"}
    indicators = {r.indicator for r in _current(engine)}
    assert indicators == {"incidents", "victims"}


def _current(engine):
    with engine.connect() as conn:
        return conn.execute(select(Observation).where(Observation.superseded_by.is_(None))).all()


def test_a_partial_year_is_flagged_in_the_feedback_and_stored_with_the_observations(engine, mx):
    months = mx[mx["period"] == mx["period"].max()].head(3)
    rows = pd.concat([months.assign(period=f"2025-{m:02d}") for m in (1, 2, 3)], ignore_index=True)
    receipt = submit_bytes(csv(rows), "q1.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.status == "accepted"
    partial = receipt.findings[receipt.findings["rule"] == "period_partial"]
    assert len(partial) == 1 and "only 01-03 (3 of 12 months)" in partial.iloc[0]["message"]
    assert {o.coverage for o in _current(engine)} == {"3/12: 01-03"}


def test_the_dry_run_loads_nothing_and_says_what_would_happen(engine, tmp_path):
    name = _install(tmp_path, E.CR_PROFILE)
    data, _ = E.cr_oij_microdata()
    result = profiles.check(data, "oij.csv", name, "CR", engine, today=TODAY)
    assert result.accepted and result.rows_to_load == 7 * 12 * 3
    assert set(result.mapping["rule"]) == {"region_unknown"}
    assert count(engine, Submission) == 0 and count(engine, Observation) == 0
    broken = profiles.check(b"Delito,Fecha\nHOMICIDIO,01/01/2023\n", "x.csv", name, "CR", engine)
    assert not broken.accepted and "Provincia" in broken.message


def test_a_steward_onboards_an_export_with_the_cli(engine, tmp_path):
    runner = CliRunner()
    data, _ = E.cr_oij_microdata()
    export = tmp_path / "oij_2023.csv"
    export.write_bytes(data)
    draft = tmp_path / "cr.yaml"
    made = runner.invoke(app, ["profile", "new", str(export), "--country", "CR", "-o", str(draft)])
    assert made.exit_code == 0, made.output
    assert "SUICIDIO" in draft.read_text(encoding="utf-8")
    checked = runner.invoke(app, ["profile", "check", str(export), "--profile", str(draft), "--country", "CR"])
    assert checked.exit_code == 0, checked.output
    assert "sería aceptado" in checked.output and "No se cargó nada" in checked.output  # IDEAL_LANGUAGE es
    assert count(engine, Observation) == 0
    wrong = runner.invoke(app, ["profile", "check", str(export), "--profile", "mx_inegi_mensual", "--country", "CR"])
    assert wrong.exit_code == 1 and "es para MX, no para CR" in wrong.output
    english = runner.invoke(app, ["profile", "check", str(export), "--profile", str(draft), "--country", "CR",
                                  "--language", "pt"])
    assert "seria aceito" in english.output and "Nada foi carregado" in english.output
    installed = runner.invoke(app, ["profile", "install", str(draft)])
    assert installed.exit_code == 0, installed.output
    listed = runner.invoke(app, ["profile", "list"])
    assert "cr_oij_2023" in listed.output and "installed" in listed.output
    sent = runner.invoke(app, ["submit", str(export), "--country", "CR", "--profile", "cr_oij_2023"])
    assert sent.exit_code == 0, sent.output
    assert count(engine, Observation) == 7 * 12 * 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(draft.read_text(encoding="utf-8").replace("country: CR", "country: XX"), encoding="utf-8")
    refused = runner.invoke(app, ["profile", "install", str(bad)])
    assert refused.exit_code == 1 and "country (línea" in refused.output  # IDEAL_LANGUAGE: es (#47)


def test_identical_warnings_are_folded_and_counted_by_the_rows_they_affect(engine, mx):
    from ideal.store import queries

    rows = mx.head(300).assign(obs_status="P")
    receipt = submit_bytes(csv(rows), "provisional.csv", "MX", engine, today=TODAY, language="en")
    assert receipt.status == "accepted"
    provisional = receipt.findings[receipt.findings["rule"] == "value_not_estimated"]
    assert len(provisional) <= 2 and provisional["rows"].sum() == 300
    assert "[50 rows: " in provisional.iloc[0]["message"] or "300 rows" in provisional.iloc[0]["message"]
    counts = queries.finding_counts(engine, receipt.submission_id).set_index("rule")["count"]
    assert counts["value_not_estimated"] == 300
    html = receipt.feedback_path.read_text(encoding="utf-8")
    assert ">300<" in html


def test_one_broken_installed_profile_stays_alone(engine, mx):
    """A malformed YAML in the profiles folder is reported by `profile list` and skipped for
    detection: every other submission goes on; naming it gives its problem."""
    import pytest

    from ideal.config import get_settings
    from ideal.errors import ProfileError
    from ideal.ingest import registry

    folder = get_settings().profiles_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.yaml").write_text("name: broken\ncountry: CR\n  columns: [\n", encoding="utf-8")
    receipt = submit_bytes(csv(mx), "mx.csv", "MX", engine, today=TODAY)
    assert receipt.status == "accepted"
    (bad,) = [p for p in profiles.listing() if p["problem"]]
    assert bad["name"] == "broken" and "broken.yaml" in bad["problem"]
    assert "mx_sesnsp_estatal" in registry.names()
    listed = CliRunner().invoke(app, ["profile", "list"])
    assert listed.exit_code == 0 and "broken" in listed.output and "BROKEN" in listed.output
    assert "mx_sesnsp_estatal" in listed.output
    with pytest.raises(ProfileError, match="broken.yaml"):
        registry.get("broken")


def test_a_profile_recognised_by_its_columns_reads_every_sheet_it_names(engine, tmp_path):
    """Detection applies the installed profile exactly as `profile check` does: the two-sheet
    workbook sent without --profile stores both sheets (incidents and victims)."""
    data, truth = E.br_sinesp_workbook()
    _install(tmp_path, E.BR_PROFILE)
    checked = profiles.check(data, "sinesp.xlsx", "br_sinesp_uf", "BR", engine)
    receipt = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY, language="en")
    assert receipt.status == "accepted"
    assert {r.indicator for r in _current(engine)} == {"incidents", "victims"}
    assert receipt.rows_accepted == checked.rows_to_load == len(truth)
    assert any("br_sinesp_uf" in n for n in receipt.notes)


def test_the_readmes_two_sheet_recipe_works(engine, tmp_path):
    """`read.sheets: [{name: Ocorrências}, {name: Vítimas, indicator: victims}]` as the README's
    profile reference gives it: each sheet's header is found without the other's figure column,
    the victims sheet's figures come from its column named as the sheet."""
    recipe = E.BR_PROFILE.replace(
        'detect: [UF, Tipo Crime, Ano, Mês]\nread:\n  sheets: [{name: "Ocorrências"}, {name: "Vítimas"}]',
        "detect: [UF, Tipo Crime, Ano, Mês, Ocorrências]\nread:\n"
        "  sheets: [{name: Ocorrências}, {name: Vítimas, indicator: victims}]").replace(
        '  - {column: "Vítimas", indicator: victims, empty: skip, empty_reason: "occurrences sheet"}\n', "")
    assert "indicator: victims}]" in recipe and '"Vítimas", indicator' not in recipe
    data, truth = E.br_sinesp_workbook()
    name = _install(tmp_path, recipe)
    checked = profiles.check(data, "sinesp.xlsx", name, "BR", engine)
    assert checked.accepted, checked.message
    receipt = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY, language="en")
    assert receipt.status == "accepted" and receipt.rows_accepted == len(truth)
    stored = pd.DataFrame([(o.indicator, o.value) for o in _current(engine)], columns=["indicator", "value"])
    want = pd.Series({k: v for k, v in truth.items()}).groupby(level=3).sum()
    assert stored.groupby("indicator")["value"].sum().to_dict() == want.to_dict()
    assert any("figures from its column Vítimas" in n for n in receipt.notes)


def test_the_profile_marks_provisional_figures(engine, tmp_path):
    """A profile's `status` (the ministry's cover sheet says the figures are provisional) sets
    the observation status of the whole file or of a year, said in the feedback and stored."""
    data, truth = E.br_sinesp_workbook()
    _install(tmp_path, E.BR_PROFILE + "status: P\n")
    receipt = submit_bytes(data, "sinesp.xlsx", "BR", engine, today=TODAY, language="es")
    assert receipt.status == "accepted"
    assert any("provisional (P)" in n for n in receipt.notes), receipt.notes
    assert {o.obs_status for o in _current(engine)} == {"P"}


def test_the_profile_marks_one_year_estimated():
    from ideal.ingest.formats import read_submission
    from ideal.ingest.registry import trial

    data, _ = E.br_sinesp_workbook()
    prof = profiles.profile.parse(E.BR_PROFILE + "status: {2022: E, 2021: P}\n", "br.yaml")
    with trial(prof):
        parsed = read_submission(data, "sinesp.xlsx", ReadOptions(profile=prof.name))
    assert set(parsed.frame["obs_status"]) == {"E"}
    assert any("2022" in n and "(E)" in n for n in parsed.notes) and not any("2021" in n for n in parsed.notes)
    with __import__("pytest").raises(Exception, match="years such as"):
        profiles.profile.parse(E.BR_PROFILE + "status: {latest: P}\n", "br.yaml")


CR_CATEGORIES = [("HOMICIDIO", "HOMICIDIO DOLOSO"), ("HOMICIDIO", "CULPOSO"),
                 ("CORRUPCION, PROXENETISMO, RUFIANERIA", "CORRUPCION"),
                 ("SECUESTRO Y EXAMEN DE DOCUMENTOS PRIVADOS", "OTROS"), ("ASALTO", "ARMA DE FUEGO"),
                 ("INFRACCION LEY DE PESCA", "OTROS")]


def _cr_events(n: int = 240) -> bytes:
    import random

    rng = random.Random(5)
    lines = ["Delito,SubDelito,Fecha,Provincia"]
    for _ in range(n):
        crime, sub = rng.choice(CR_CATEGORIES)
        lines.append(f'"{crime}",{sub},{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2023,'
                     f"{rng.choice(['SAN JOSE', 'ALAJUELA', 'CARTAGO', 'LIMON'])}")
    return ("\n".join(lines) + "\n").encode()


def test_category_mappings_are_proposed_with_care_and_wrong_ones_warned(engine, tmp_path):
    """The draft maps from the words with their confidence (negligent homicide, pimping and the
    seizure of documents are not 0101, 0703 and 020221); `profile check` lists every mapping
    and warns on the wrong ones of the issue's draft; `profile install` refuses a TODO, naming
    its line."""
    import pytest

    from ideal.errors import ProfileError

    data = _cr_events()
    draft = profiles.new(data, "oij_2023.csv", "CR")
    assert "HOMICIDIO / CULPOSO: out of scope (high: homicidio, culposo)" in draft
    assert "HOMICIDIO / HOMICIDIO DOLOSO: 0101 (high" in draft
    rules = {r["when"]["Delito"] + "|" + r["when"]["SubDelito"]: r for r in
             profiles.profile.parse(draft, "draft").as_dict()["category"]["rules"]}
    assert "iccs" not in rules["^HOMICIDIO$|^CULPOSO$"] and "0103" in rules["^HOMICIDIO$|^CULPOSO$"]["out_of_scope"]
    assert rules["^INFRACCION LEY DE PESCA$|^OTROS$"]["out_of_scope"].startswith("TODO")
    with pytest.raises(ProfileError) as refused:
        profiles.install(draft, "cr.yaml", language="en")
    assert "still say TODO" in str(refused.value) and "line " in str(refused.value)
    assert "INFRACCION LEY DE PESCA" in str(refused.value)

    # the draft: the three wrong codes
    wrong = ("name: cr_oij_2023\ntitle: OIJ\ncountry: CR\ndetect: [Delito, SubDelito, Fecha, Provincia]\n"
             "period: {date: Fecha, level: month, date_format: '%m/%d/%Y'}\nregion: {column: Provincia, by: name}\n"
             "category:\n  columns: [Delito, SubDelito]\n  rules:\n"
             "    - {when: {Delito: '^HOMICIDIO$'}, iccs: '0101'}\n"
             "    - {when: {Delito: '^CORRUPCION'}, iccs: '0703'}\n"
             "    - {when: {Delito: '^SECUESTRO'}, iccs: '020221'}\n"
             "    - {when: {Delito: '^ASALTO$'}, iccs: '0401'}\n"
             "    - {when: {Delito: 'PESCA'}, out_of_scope: 'fishing law'}\n"
             "count: {indicator: incidents}\n")
    with profiles.trying(wrong, "wrong.yaml") as name:
        result = profiles.check(data, "oij_2023.csv", name, "CR", engine, language="en")
    doubtful = result.findings[result.findings["rule"] == "category_mapping_doubtful"]
    assert sorted(doubtful["value"]) == ["CORRUPCION, PROXENETISMO, RUFIANERIA / CORRUPCION",
                                         "HOMICIDIO / CULPOSO", "SECUESTRO Y EXAMEN DE DOCUMENTOS PRIVADOS / OTROS"]
    listed = {c["category"]: c for c in result.categories}
    assert len(listed) == len(CR_CATEGORIES)
    assert listed["HOMICIDIO / HOMICIDIO DOLOSO"]["confidence"] == "high" and not listed["HOMICIDIO / HOMICIDIO DOLOSO"]["doubt"]
    assert listed["ASALTO / ARMA DE FUEGO"]["guess"] == "0401"
    out = CliRunner().invoke(app, ["profile", "check", str(_write(tmp_path, data)), "--profile",
                                   str(_write(tmp_path, wrong.encode(), "wrong.yaml")), "--country", "CR",
                                   "--language", "en"])
    assert "category mappings" in out.output and "CHECK" in out.output, out.output


def _write(folder, data: bytes, name: str = "oij_2023.csv"):
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_draft_of_victim_microdata_finds_the_province_the_dates_and_the_victims(engine, tmp_path):
    """Ecuador's homicide microdata: the draft picks the province (not the police district),
    reads fecha_infraccion's Excel dates as periods, counts rows as victims; with its TODOs
    settled it loads exactly the truth, and an unknown province gives one finding with its row
    count, never a made-up region code."""
    import yaml

    data, truth = E.ec_mdi_victims()
    text = profiles.new(data, "mdi_homicidios_2024.xlsx", "EC")
    draft = yaml.safe_load(text)
    assert draft["region"]["column"] == "provincia" and not draft["region"].get("aliases")
    assert draft["period"]["date"] == "fecha_infraccion"
    assert draft["count"] == {"indicator": "victims"}
    # settle what only a person can: every category in scope as intentional homicide, by year
    draft["period"]["level"] = "year"
    draft["category"] = {"fixed": "0101"}
    settled = yaml.safe_dump(draft, allow_unicode=True)
    name = _install(tmp_path, settled)
    receipt = submit_bytes(data, "mdi.xlsx", "EC", engine, today=TODAY, language="en")
    assert receipt.status == "accepted", receipt.message
    got = {(o.region, o.period): o.value for o in _current(engine)}
    assert {k: v for k, v in got.items() if v} == {k: float(v) for k, v in truth.items()}

    bad, _ = E.ec_mdi_victims(seed=7, unknown="STO DGO TSACHILAS")
    with profiles.trying(settled.replace(f"name: {name}", "name: ec_mdi_tmp"), "ec.yaml") as tmp:
        result = profiles.check(bad, "mdi.xlsx", tmp, "EC", engine, language="en")
    about = result.findings[result.findings["value"].astype(str).str.contains("STO DGO")]
    assert len(about) == 1 and int(about.iloc[0]["rows"]) == 11
    assert not result.findings["message"].astype(str).str.contains(r"EC-\?").any()
