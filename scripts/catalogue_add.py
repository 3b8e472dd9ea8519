"""Add or update translations in the Babel catalogues (ideal/locale/<lang>/LC_MESSAGES/ideal.po).

    python scripts/catalogue_add.py NEW.yaml

NEW.yaml is a list of entries, each the English message (the msgid, as the code writes it)
with its Spanish and Portuguese text:

    - en: "%(file)s: row %(row)s has %(n)s fields"
      es: "%(file)s: la fila %(row)s tiene %(n)s campos"
      pt: "%(file)s: a linha %(row)s tem %(n)s campos"

An entry already in a catalogue is replaced. `tests/test_catalogue.py` lists the messages the
code uses that a catalogue lacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def add(entries: list[dict]) -> None:
    for lang in ("es", "pt"):
        path = ROOT / "ideal" / "locale" / lang / "LC_MESSAGES" / "ideal.po"
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for e in entries:
            flags = ["python-format"] if "%(" in e["en"] else []
            if e["en"] in catalog:
                catalog[e["en"]].string = e[lang]
            else:
                catalog.add(e["en"], e[lang], flags=flags)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
        print(f"{path.relative_to(ROOT)}: {len(entries)} entries")


if __name__ == "__main__":
    add(yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8")))
