"""Every message the code and the templates mark for translation is in the Spanish and the
Portuguese catalogues (#32: new briefing text must not reach a minister in English)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ideal.i18n import catalog_path

ROOT = Path(__file__).resolve().parents[1]


def used_messages(root: Path = ROOT) -> dict[str, str]:
    """msgid -> a file that uses it: gettext calls in ideal/ (_, gettext, tr; N_ marks a message
    raised in English and shown translated) and {{ _() }} in the Jinja templates."""
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(root), [("ideal/**.py", "python"), ("templates/**.j2", "jinja2")],
            {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}},
            keywords={"_": None, "gettext": None, "tr": None, "N_": None}):
        message = message[0] if isinstance(message, tuple) else message
        if message:
            found.setdefault(message, filename)
    return found


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_every_message_used_is_translated(lang):
    used = used_messages()
    assert len(used) > 500  # the extraction sees the code and the templates
    with catalog_path(lang).open("rb") as fh:
        have = {m.id for m in read_po(fh, locale=lang) if m.string}
    missing = sorted(f"{f}: {m[:80]}" for m, f in used.items() if m not in have)
    assert not missing, missing


def test_the_check_sees_a_new_message(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.html.j2").write_text('{{ _("A sentence nobody translated yet") }}')
    (tmp_path / "ideal").mkdir()
    (tmp_path / "ideal" / "m.py").write_text('_("Another one")\n')
    assert set(used_messages(tmp_path)) == {"A sentence nobody translated yet", "Another one"}
