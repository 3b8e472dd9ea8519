"""Translations: Babel message catalogues in ideal/locale/<lang>/LC_MESSAGES/ideal.po,
compiled in memory when first used (no binary .mo files in the repository). English is the
source language."""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from ideal.contracts import LANGUAGES
from ideal.errors import ConfigError

LOCALE_DIR = files("ideal") / "locale"


def catalog_path(language: str):
    return LOCALE_DIR / language / "LC_MESSAGES" / "ideal.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language not in LANGUAGES:
        raise ConfigError(f"language {language!r} is not available; use one of {', '.join(LANGUAGES)}.")
    if language == "en":
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain="ideal")


def gettext_for(language: str):
    return translations(language).gettext
