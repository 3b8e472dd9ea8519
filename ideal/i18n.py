"""Translations: Babel message catalogues in ideal/locale/<lang>/LC_MESSAGES/ideal.po,
compiled in memory when first used (no binary .mo files in the repository). English is the
source language."""

from __future__ import annotations

import gettext
import io
import numbers
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


class Said(str):
    """Text in the spoken language that remembers how it was said: ``parts``, a list of
    catalogue messages with their values ({"msg": msgid, "args": {name: value}}) and literal
    text, so that a message stored in a steward's language can be shown to a reader in theirs
    (said_in). Joining with + keeps the parts; anything else (an f-string) keeps only the text."""

    def __new__(cls, text: str = "", parts: list | None = None):
        obj = super().__new__(cls, text)
        obj.parts = parts if parts is not None else [str(text)]
        return obj

    def __add__(self, other) -> Said:
        return Said(str(self) + str(other), self.parts + parts_of(other))

    def __radd__(self, other) -> Said:
        return Said(str(other) + str(self), parts_of(other) + self.parts)


def parts_of(text) -> list:
    """The parts of a message (said_in says them again): a Said's own, or the text as a literal."""
    return list(text.parts) if isinstance(text, Said) else [str(text)]


def said_of(exc: BaseException) -> str:
    """An error's message as a Said when it can be said again: raised with a tr() message, or
    with a catalogue ``msgid`` and values (errors.IdealError); else its text."""
    first = exc.args[0] if exc.args else None
    if isinstance(first, Said):
        return first
    msgid = getattr(exc, "msgid", None)
    if msgid and not getattr(exc, "translated", ()):
        values = {k: _value(v) for k, v in (getattr(exc, "values", None) or {}).items()}
        return Said(str(exc), [{"msg": msgid, "args": values}])
    return str(exc)


def said_in(parts, gettext, fallback: str = "") -> str:
    """A message's ``parts`` (Said.parts, as stored) in the language of ``gettext``; ``fallback``
    (the text as first written) when there are no parts or they no longer fit the catalogue."""
    if not parts:
        return fallback
    try:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            args = {k: said_in(v, gettext) if isinstance(v, list) else v
                    for k, v in (part.get("args") or {}).items()}
            text = gettext(part["msg"])
            out.append(text % args if args else text)
        return "".join(out)
    except (KeyError, TypeError, ValueError):
        return fallback


def _value(v):
    """A message's value as stored with it (JSON): a Said's parts, a number, else text."""
    if isinstance(v, Said):
        return v.parts
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return float(v)
    return str(v)


def tr(msgid: str, **params) -> Said:
    """``msgid`` (English, with %(name)s placeholders) in the spoken language, filled in; the
    result remembers the message and its values (Said)."""
    text = translations(_SPOKEN.get()).gettext(msgid)
    args = {k: _value(v) for k, v in params.items()}
    return Said(text % params if params else text, [{"msg": msgid, "args": args}])
