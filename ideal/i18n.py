"""Translations: Babel message catalogues in ideal/locale/<lang>/LC_MESSAGES/ideal.po,
compiled in memory when first used (no binary .mo files in the repository). English is the
source language."""

from __future__ import annotations

import gettext
import io
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from ideal.contracts import LANGUAGES
from ideal.errors import N_, ConfigError  # noqa: F401 - N_ re-exported for the modules that mark messages

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


# --- messages written while a submission is processed ------------------------------------
# Readers and checks write their messages with tr(); the submission (or the command) says
# in which language with speaking(), so every message a steward gets, its details included,
# is in the steward's language. Outside speaking() messages are in English.

_SPOKEN: ContextVar[str] = ContextVar("ideal_spoken_language", default="en")


@contextmanager
def speaking(language: str | None):
    token = _SPOKEN.set(language if language in LANGUAGES else "en")
    try:
        yield
    finally:
        _SPOKEN.reset(token)


def spoken() -> str:
    """The language messages are being written in."""
    return _SPOKEN.get()


def tr(msgid: str, **params) -> str:
    """``msgid`` (English, with %(name)s placeholders) in the spoken language, filled in."""
    text = translations(_SPOKEN.get()).gettext(msgid)
    return text % params if params else text
