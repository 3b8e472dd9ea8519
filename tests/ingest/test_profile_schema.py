"""Crosswalk profiles as a steward writes them: the schema, the messages for a malformed one,
where they are found, and that they are asked for by name only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ideal.errors import ProfileError
from ideal.ingest import profile, registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "profile.schema.json"

GOOD = """name: pe_prueba
title: "Perú: prueba"
country: PE
detect: [region, anio, delito, casos]
period: {year: anio}
region: {column: region, by: name}
category:
  columns: [delito]
  rules: [{when: {delito: "^Homicidio$"}, iccs: "0101"}]
values: [{column: casos, indicator: incidents}]
"""


def test_the_published_json_schema_is_the_models_schema():
    assert json.loads(DOCS.read_text(encoding="utf-8")) == profile.schema(), (
        "docs/profile.schema.json is stale: regenerate it with "
        "python -c \"import json; from ideal.ingest.profile import schema; "
        "print(json.dumps(schema(), indent=2, ensure_ascii=False))\" > docs/profile.schema.json")


def test_a_missing_key_is_named_with_its_line_not_a_keyerror():
    text = GOOD.replace("region: {column: region, by: name}\n", "region: {by: name}\n")
    with pytest.raises(ProfileError) as exc:
        profile.parse(text, "pe.yaml")
    assert "region.column (line 6): missing (required)" in str(exc.value)


def test_every_problem_is_listed_with_key_line_and_expectation():
    text = (GOOD.replace("country: PE", "country: ZZ").replace("indicator: incidents", "indicator: crimes")
            + "colour: red\n")
    with pytest.raises(ProfileError) as exc:
        profile.parse(text, "pe.yaml")
    message = str(exc.value)
    assert "3 problem(s)" in message
    assert "country (line 3): 'ZZ' is not an ISO 3166-1 alpha-2 country code" in message
    assert "values.0.indicator (line 10): indicator 'crimes': one of incidents, victims, persons_arrested" in message
    assert "colour (line 11): not a profile key" in message


def test_broken_yaml_names_the_line():
    with pytest.raises(ProfileError, match=r"x.yaml: line \d+ not valid YAML"):
        profile.parse("name: x\ntitle: [unclosed\n", "x.yaml")


def test_anchors_and_aliases_are_refused_before_they_expand():
    """#34: a "billion laughs" in the profile check grew tenfold per level; now the first anchor
    is refused with its line, before anything is built."""
    levels = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
    bomb = GOOD + "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + levels
    with pytest.raises(ProfileError, match=r"line \d+ not valid YAML \(anchors and aliases"):
        profile.parse(bomb, "bomb.yaml")
    with pytest.raises(ProfileError, match="anchors and aliases"):
        profile.parse(GOOD.replace("name:", "name: &n", 1))


def test_one_shape_only():
    with pytest.raises(ProfileError, match="exactly one of values"):
        profile.parse(GOOD + "count: {indicator: victims}\n")


def test_installed_profiles_come_before_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("IDEAL_PROFILES_DIR", str(tmp_path))
    assert "pe_prueba" not in registry.names()
    prof, path = registry.install(GOOD, "upload")
    assert path == tmp_path / "pe_prueba.yaml" and registry.get("pe_prueba").country == "PE"
    shadow = registry.text_of("mx_inegi_mensual").replace('title: "', 'title: "LOCAL ', 1)
    registry.install(shadow)
    assert registry.get("mx_inegi_mensual").title.startswith("LOCAL")
    assert registry.available()["mx_inegi_mensual"][1] == "installed"


def test_a_malformed_profile_is_never_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("IDEAL_PROFILES_DIR", str(tmp_path))
    with pytest.raises(ProfileError):
        registry.install(GOOD.replace("country: PE", "country: 99"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../../ingest/profiles/x", "/etc/passwd", "mx_inegi_mensual.yaml", ""])
def test_profiles_are_asked_for_by_name_never_by_path(name):
    with pytest.raises(ProfileError, match="name of an installed profile"):
        registry.get(name)


def test_a_stewards_profile_problems_in_their_language_with_an_example_of_their_country():
    """#47: `profile check` said, in English, "aliases map to ISO 3166-2 codes such as CR-SJ; not
    TODO" to a Uruguayan steward."""
    from ideal.errors import ProfileError
    from ideal.pipeline import profiles

    text = ("name: uy_x\ntitle: x\ncountry: UY\ndetect: [A]\nperiod: {year: A}\n"
            "region: {column: B, by: name, aliases: {CARCEL: TODO}}\ncategory: {fixed: '0101'}\n"
            "count: {indicator: victims}\n")
    with pytest.raises(ProfileError) as exc, profiles.trying(text, "uy.yaml", "es"):
        pass
    said = str(exc.value)
    assert "problema(s) en el perfil" in said and "region.aliases (línea 6)" in said
    assert "código ISO 3166-2 de UY, como UY-AR (Artigas)" in said and "CR-SJ" not in said
