"""Where crosswalk profiles are found: IDEAL_PROFILES_DIR (default var/profiles/) before the
shipped ones (ideal/ingest/profiles/); asked for by name only, never by a path (a web
request cannot open files with it); installed atomically after a check."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path

from ideal.config import get_settings
from ideal.errors import ProfileError
from ideal.i18n import tr
from ideal.ingest.profile import NAME, Profile, parse

SHIPPED = files("ideal.ingest") / "profiles"


def _user_dir() -> Path:
    return get_settings().profiles_dir


def _entries() -> list[tuple[str, object]]:
    """(origin, file) for every profile file: installed ones first, then shipped ones."""
    out: list[tuple[str, object]] = []
    user = _user_dir()
    if user.is_dir():
        out += [("installed", p) for p in sorted(user.glob("*.yaml"))]
    out += [("shipped", p) for p in sorted(SHIPPED.iterdir(), key=lambda e: e.name)
            if p.name.endswith(".yaml")]
    return out


@cache
def _parsed(origin: str, path: str, stamp: float) -> Profile | ProfileError:
    """The profile of a file, or what is wrong with it (kept too: a broken file is reported, not
    read again on every call)."""
    entry = Path(path) if origin == "installed" else SHIPPED / Path(path).name
    try:
        return parse(entry.read_text(encoding="utf-8"), f"{origin} profile {Path(path).name}")
    except (ProfileError, OSError, UnicodeDecodeError) as exc:
        return exc if isinstance(exc, ProfileError) else ProfileError(f"{origin} profile {Path(path).name}: {exc}")


def _profiles() -> tuple[dict[str, tuple[Profile, str]], list[dict]]:
    """(profiles by name -> (profile, origin), broken files): one broken file stays alone."""
    out: dict[str, tuple[Profile, str]] = {n: (p, "trial") for n, p in _TRIAL.items()}
    broken = []
    for origin, entry in _entries():
        prof = _parsed(origin, str(entry), _stamp(entry))
        if isinstance(prof, ProfileError):
            broken.append({"file": Path(str(entry)).name, "name": Path(str(entry)).stem, "origin": origin,
                           "problem": str(prof)})
            continue
        out.setdefault(prof.name, (prof, origin))
    return out, broken


def _stamp(entry) -> float:
    try:
        return os.stat(str(entry)).st_mtime_ns
    except (OSError, TypeError):
        return 0.0


_TRIAL: dict[str, Profile] = {}


@contextmanager
def trial(prof: Profile):
    """Make a profile that is being written available by name for the duration (a dry run
    of `ideal profile check FILE --profile draft.yaml`); nothing is installed."""
    _TRIAL[prof.name] = prof
    try:
        yield prof
    finally:
        _TRIAL.pop(prof.name, None)


def available() -> dict[str, tuple[Profile, str]]:
    """Profiles by name -> (profile, origin); an installed profile hides a shipped one of the
    same name. A broken file is left out (``broken`` reports it): it never stops the
    submissions that other profiles, or none, read."""
    return _profiles()[0]


def broken() -> list[dict]:
    """The profile files that cannot be read: file, name (its stem), origin, problem."""
    return _profiles()[1]


def listing() -> list[dict]:
    """Every profile with where it comes from (installed ones hide shipped ones), then every
    broken file with its problem (``problem`` set; it is left out of detection). Light: what
    `ideal profile list` needs, without the submission pipeline."""
    found, bad = _profiles()
    return [{"name": name, "title": p.title, "country": p.country, "version": p.version,
             "origin": origin, "shape": "count" if p.count else "wide" if p.wide else "values", "problem": None}
            for name, (p, origin) in sorted(found.items())] + [
        {"name": b["name"], "title": b["file"], "country": "??", "version": "-", "origin": b["origin"],
         "shape": "-", "problem": b["problem"]} for b in bad]


def text_of(name: str) -> str:
    """The YAML text of the profile ``name`` as its file has it (a broken file's too, by its
    file name, so it can be shown and fixed)."""
    for origin, entry in _entries():
        prof = _parsed(origin, str(entry), _stamp(entry))
        if (prof.name if isinstance(prof, Profile) else Path(str(entry)).stem) == name:
            return entry.read_text(encoding="utf-8")
    raise ProfileError(f"no crosswalk profile {name!r}.")


def names() -> list[str]:
    return sorted(available())


def get(name: str) -> Profile:
    """A profile by name (never a path: a web request cannot open files with it)."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise ProfileError(f"profile {name!r}: give the name of an installed profile "
                           f"({', '.join(names())}), not a path.")
    found, bad = _profiles()
    if name in found:
        return found[name][0]
    for b in bad:
        if b["name"] == name:
            raise ProfileError(f"{b['problem']} (fix the file and install it again: `ideal profile install`)")
    raise ProfileError(f"no crosswalk profile {name!r}; known: {', '.join(sorted(found))} "
                       "(`ideal profile list`).")


def detect(columns) -> Profile | None:
    """The profile whose `detect` columns the table has (the most specific one)."""
    cols = set(columns)
    hits = [p for p, _ in available().values() if set(p.detect) <= cols]
    return max(hits, key=lambda p: len(p.detect)) if hits else None


def unsettled(text: str) -> list[str]:
    """The lines of a profile that still say TODO outside comments ('line 12: ...')."""
    out, item = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        body = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        if body.lstrip().startswith("- "):
            item = i
        if "TODO" in body:
            # the rule or alias it belongs to, when YAML wrote it over several lines
            where = " ".join(x.strip() for x in lines[item - 1:i - 1]) if item and item < i else ""
            out.append(f"line {i}: {line.strip()[:120]}" + (f" (in {where[:160]})" if where else ""))
    return out


def _example(country: str) -> str:
    """A region code of the country, as an example in a message."""
    import pycountry

    subs = sorted(s.code for s in pycountry.subdivisions.get(country_code=country) or [])
    return subs[0] if subs else country


def install(text: str, source: str = "profile") -> tuple[Profile, Path]:
    """Check a profile and write it to IDEAL_PROFILES_DIR as <name>.yaml (atomically). A profile
    whose mappings or reasons still say TODO is refused, each such line named: a TODO reason
    would quietly keep a category out of every assessment."""
    prof = parse(text, source)
    todo = unsettled(text)
    if todo:
        raise ProfileError(tr("%(source)s: %(n)s line(s) still say TODO; settle each (an ICCS code, or "
                              "out_of_scope with the real reason; an ISO 3166-2 code of %(country)s for a "
                              "region, such as %(example)s) before installing:", source=source, n=len(todo),
                              country=prof.country, example=_example(prof.country))
                           + "\n  " + "\n  ".join(todo))
    folder = _user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{prof.name}.yaml"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)
    return prof, target
