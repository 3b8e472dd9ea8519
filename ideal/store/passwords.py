"""Passwords a colleague would not guess (NIST SP 800-63B, section 5.1.1.2: a minimum length, and
no password from lists of common, expected or compromised values; no composition rules).

Refused, besides a short password or one of a few characters repeated:
* one made of the service's own words (IDEAL, CLASI, EL PAcCTO, the members' names in Spanish,
  Portuguese and English) with digits and signs around them (`Ideal2026!`, `CLASI2026!!`);
* one holding the user's own name, or another user's (`ideal user add` and a password change
  pass the other accounts' names);
* one made of a common word, name or password of the region's languages with digits and signs
  around them (`contraseña123`, `senha123456`): zxcvbn's English lists and the Spanish and
  Portuguese lists of zxcvbn-ts (`ideal/reference/data/password_words.txt.gz`, written by
  `scripts/build_password_words.py` from the packages as published);
* one zxcvbn (Dropbox's estimator, with those lists added) scores below 3 of 4 with the service's
  words and the names as the user's own inputs (`correcthorse`, `ideal123456`).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from importlib.resources import files

from ideal import reference
from ideal.errors import AccountError
from ideal.i18n import N_

MIN_PASSWORD = 10
MIN_DISTINCT = 5  # different characters: "aaaaaaaaaa" and ten spaces are not passwords
MIN_SCORE = 3  # zxcvbn: 3 "safely unguessable", 4 "very unguessable"
SERVICE = ["ideal", "clasi", "paccto", "elpaccto", "comite", "comité", "seguridad", "segurança",
           "amenaza", "ameaça", "ministerio", "ministério", "america", "latina", "latinoamerica"]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@cache
def _lists() -> dict[str, list[str]]:
    """The zxcvbn-ts lists (password_words.txt.gz), by name, each folded in frequency order."""
    lists: dict[str, list[str]] = {}
    with gzip.open(files("ideal.reference") / "data" / "password_words.txt.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            if "\t" in line:
                name, word = line.rstrip("\n").split("\t", 1)
                lists.setdefault(name.replace(":", "_"), []).append(_fold(word))
    return lists


@cache
def common_words() -> frozenset[str]:
    """Common words, first names, last names and passwords of Spanish and Portuguese (zxcvbn-ts
    lists), and zxcvbn's own English passwords, folded (no accents, lower case)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(w for words in _lists().values() for w in words) | {_fold(w) for w in FREQUENCY_LISTS["passwords"]}


@cache
def _zxcvbn():
    """zxcvbn with the Spanish and Portuguese lists added (once per process)."""
    from zxcvbn import matching, zxcvbn

    matching.add_frequency_lists(_lists())
    return zxcvbn


@cache
def service_words(members: tuple[str, ...]) -> tuple[str, ...]:
    """The service's words and the members' names (each word of four letters or more), folded."""
    names = set(SERVICE)
    for cc in members:
        for lang in ("es", "pt", "en"):
            names |= {w for w in re.split(r"[^a-z]+", _fold(reference.country_name(cc, lang))) if len(w) >= 4}
        names.add(cc.lower())
    return tuple(sorted(_fold(n) for n in names))


def _parts(name: str) -> list[str]:
    """A user name and its parts of four letters or more (maria.lopez: maria.lopez, maria, lopez)."""
    name = _fold(name)
    return [name] + [p for p in re.split(r"[._@\-\d]+", name) if len(p) >= 4 and p != name]


def check(password: str, username: str = "", others: tuple[str, ...] = (),
          members: tuple[str, ...] = ()) -> None:
    """Refuse a password a colleague would guess, with what to do instead (AccountError)."""
    if len(password.strip()) < MIN_PASSWORD:
        raise AccountError(msgid=N_("the password must have at least %(n)s characters (spaces at the ends do not count)."),
                           values={"n": MIN_PASSWORD})
    if len(set(password)) < MIN_DISTINCT:
        raise AccountError(msgid=N_("the password must use at least %(n)s different characters."),
                           values={"n": MIN_DISTINCT})
    folded = _fold(password)
    if username and _fold(username) in folded:
        raise AccountError(msgid=N_("the password must not contain the user name."))
    if any(part in folded for other in others if other and _fold(other) != _fold(username)
           for part in _parts(other)):
        raise AccountError(msgid=N_("the password must not contain the name of another user."))
    words = service_words(tuple(members))
    core = re.sub(r"[^a-z]+", " ", folded).split()  # the words, digits and signs around them left out
    if core and all(w in words for w in core):
        raise AccountError(msgid=N_("the password is made of the service's own words (IDEAL, CLASI, the members' "
                                    "names) and digits or signs: a colleague would guess it; choose another."))
    common = common_words()
    if folded in common or folded.rstrip("0123456789!.") in common or (len(core) == 1 and core[0] in common):
        raise AccountError(msgid=N_("this password is among the most common ones (leaked password lists): "
                                    "choose another."))
    inputs = [*words, *(p for n in (username, *others) if n for p in _parts(n))]
    if _zxcvbn()(password[:100], user_inputs=inputs)["score"] < MIN_SCORE:
        raise AccountError(msgid=N_("this password is easy to guess (common words, names, dates or keyboard "
                                    "patterns): a phrase of several unrelated words is stronger."))
