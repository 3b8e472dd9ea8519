"""Every example of the README's profile reference is a working profile fragment: each is put
into a small valid profile at its key and the result must pass the profile check (the
onboarding section's worked example and its two-sheet recipe run end to end in
tests/pipeline/test_onboarding.py and tests/ingest/test_shapes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ideal.ingest import profile

README = Path(__file__).resolve().parents[2] / "README.md"

BASE = {"name": "pe_receta", "title": "Perú: receta", "country": "PE",
        "detect": ["Provincia", "Fecha", "Delito", "casos"],
        "period": {"year": "anio"}, "region": {"column": "Provincia", "by": "name"},
        "category": {"columns": ["Delito"], "rules": [{"when": {"Delito": "^HOMICIDIO$"}, "iccs": "0101"}]},
        "values": [{"column": "casos", "indicator": "incidents"}]}


def reference_rows() -> list[tuple[list[str], list[str]]]:
    """(keys, examples) of each row of the README's profile reference table."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Crosswalk profiles reference"):text.index("## The web portal")]
    out = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        keys = re.findall(r"`([^`]+)`", cells[0])
        examples = re.findall(r"`([^`]+)`", cells[2]) if cells[2].startswith("`") else []
        out.append((keys, examples))
    return out


def put(base: dict, path: str, value) -> dict:
    """``value`` at ``path`` ('region.aliases', 'count'...) of a copy of ``base``: a section's
    example that is itself a mapping of the section's keys is merged into it."""
    out = yaml.safe_load(yaml.safe_dump(base))
    head, _, tail = path.partition(".")
    if not tail:
        if head in ("count", "wide"):
            out.pop("values")
        out[head] = value
        return out
    if head == "period" or tail == "fixed":  # exclusive forms: the example is the whole section
        out[head] = value if isinstance(value, dict) else {tail: value}
        return out
    if head == "category" and tail == "columns":  # one rule of the rules list
        out[head] = {"columns": list(value["when"]), "rules": [value]}
        return out
    section = dict(out.get(head) or {})
    section.update(value if isinstance(value, dict) and tail in value else {tail: value})
    if head == "region" and {"crosswalk", "municipal", "pad", "take"} & set(section):
        section["by"] = "code"
    out[head] = section
    return out


ROWS = reference_rows()


def test_the_reference_table_is_read():
    assert len(ROWS) >= 25 and (["read.sheets"], ) == (ROWS[5][0][:1],)


@pytest.mark.parametrize("keys,examples", ROWS, ids=[r[0][0] for r in ROWS])
def test_each_example_of_the_profile_reference_is_accepted(keys, examples):
    if not examples:  # 'see co_homicidios_municipal': a shipped profile, checked on load
        pytest.skip("the example is a shipped profile")
    paths = keys if len(keys) == len(examples) else keys[:1]
    text = BASE
    for i, (path, example) in enumerate(zip(paths, examples, strict=False)):
        # 'read.encoding', 'read.separator': each its example; 'region.column', 'by': the section's
        path = path if i == 0 or "." in path else f"{keys[0].split('.')[0]}.{path}"
        text = put(text, path, yaml.safe_load(example))
    prof = profile.parse(yaml.safe_dump(text, allow_unicode=True), f"README example of {keys[0]}")
    assert prof.name == text["name"]
