"""Onboarding a national export: list the profiles, draft one from a file, try one on a file
(a dry run that loads nothing) and install it. The CLI (`ideal profile ...`) and the portal's
profile pages both come through here."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from ideal.config import Settings, get_settings
from ideal.contracts import findings_frame
from ideal.errors import IdealError, ProfileError, SubmissionError
from ideal.i18n import said_of, speaking, tr
from ideal.ingest import draft, profile, registry, shapes
from ideal.ingest.decode import decode
from ideal.ingest.formats import read_submission
from ideal.ingest.sniff import Assumptions, ReadOptions
from ideal.pipeline.bounded import bounded
from ideal.pipeline.submission import examine
from ideal.store import audit

MAPPING_RULES = ("category_unmapped", "region_code_mapped", "region_name_mapped",
                 "region_other_country", "region_unknown")


def listing() -> list[dict]:
    """Every profile with where it comes from, then every broken file (registry.listing)."""
    return registry.listing()


def new(data: bytes, filename: str, country: str | None = None) -> str:
    """A starting profile (YAML text) for this export."""
    cc = (country or "").strip().upper()
    if not cc:
        raise IdealError("give the country of the export (--country CC).")
    return bounded(_draft, data, filename, cc, filename=filename)


def _draft(data: bytes, filename: str, country: str) -> str:
    sheet, table, others, context = draft.choose_sheet(decode(data, filename, ReadOptions(), Assumptions()))
    if table.empty:
        raise SubmissionError(f"{filename}: no rows to draft a profile from.")
    return draft.draft(table, country, filename, sheet, others, context)


@dataclass
class DryRun:
    """What a file would become with a profile, loading nothing."""

    profile: str
    accepted: bool
    message: str
    format: str = ""
    notes: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    first_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_read: int = 0
    rows_to_load: int = 0
    n_errors: int = 0
    n_warnings: int = 0
    findings: pd.DataFrame = field(default_factory=findings_frame)
    # each national category: the profile's mapping, the guess from its words, its confidence,
    # the words that matched and a doubt where they contradict the mapping
    categories: list[dict] = field(default_factory=list)

    @property
    def mapping(self) -> pd.DataFrame:
        """Categories and regions the profile does not map yet."""
        return self.findings[self.findings["rule"].isin(MAPPING_RULES)]


def check(data: bytes, filename: str, name: str, country: str, engine: Engine, *,
          sheet: str | None = None, settings: Settings | None = None,
          today: date | None = None, language: str | None = None) -> DryRun:
    """Read ``data`` with profile ``name`` and run every check a submission gets; nothing is
    stored. ``accepted`` is what a submission of this file would be. Messages in ``language``
    (default IDEAL_LANGUAGE)."""
    settings = settings or get_settings()
    with speaking(language or settings.language):
        return _check(data, filename, name, country, engine, sheet, settings, today)


def _check(data: bytes, filename: str, name: str, country: str, engine: Engine,
           sheet: str | None, settings: Settings, today: date | None) -> DryRun:
    prof = registry.get(name)
    cc = country.strip().upper()
    if cc != prof.country:
        raise IdealError(tr("profile %(name)s is for %(country)s, not %(cc)s.", name=name,
                            country=prof.country, cc=cc))
    try:
        parsed = bounded(read_submission, data, Path(filename).name, ReadOptions(profile=name, sheet=sheet),
                         filename=Path(filename).name, settings=settings)
    except SubmissionError as exc:
        found = findings_frame([("error", "file_readable", None, None, None, said_of(exc))])
        return DryRun(name, False, str(exc), n_errors=1, findings=found)
    exam = examine(parsed, cc, engine, settings, today)
    report = exam.report
    rows = exam.to_load
    ok = report.ok and not rows.empty
    used = shapes.columns_used(prof)
    message = (tr("would be accepted: %(n)s rows would load (%(warnings)s warnings)", n=len(rows),
                  warnings=report.n_warnings) if ok else
               tr("would be REJECTED: %(n)s blocking problems (%(rules)s)", n=report.n_errors,
                  rules=", ".join(sorted(report.errors["rule"].unique())) or tr("no rows")))
    return DryRun(name, ok, message, parsed.format, parsed.notes, used,
                  exam.frame.head(10), len(exam.frame), len(rows) if ok else 0,
                  report.n_errors, report.n_warnings, report.findings, parsed.mappings)


def install(text: str, source: str = "profile", *, actor: str | None = None,
            engine: Engine | None = None, language: str | None = None) -> tuple[profile.Profile, Path]:
    """Check a profile and install it in IDEAL_PROFILES_DIR (audited when an engine is given);
    its problems said in ``language`` (default IDEAL_LANGUAGE)."""
    with speaking(language or get_settings().language):
        prof, path = registry.install(text, source)
    if engine is not None:
        audit.log(engine, actor=actor or audit.current_actor("cli"), action="profile.installed",
                  outcome="ok", object_id=prof.name, country=prof.country,
                  detail=f"{prof.title} v{prof.version} from {source}")
    return prof, path


def try_text(text: str, data: bytes, filename: str, country: str | None,
             engine: Engine, language: str | None = None) -> tuple[DryRun | None, None]:
    """A profile being written (YAML text): validated (ProfileError lists every problem) and,
    with a file, tried on it. Returns (dry run or None, None)."""
    if not text.strip():
        raise ProfileError("paste the profile's YAML or choose its file.")
    with trying(text, "profile", language) as name:
        if not data:
            return None, None
        cc = (country or "").strip().upper() or registry.get(name).country
        return check(data, filename or "sample", name, cc, engine, language=language), None


@contextmanager
def trying(text: str, source: str, language: str | None = None):
    """A profile being written, usable by name for one dry run without installing it; its
    problems said in ``language`` (default IDEAL_LANGUAGE)."""
    with speaking(language or get_settings().language):
        prof = profile.parse(text, source)
    with registry.trial(prof):
        yield prof.name


def show(name: str) -> str:
    """The YAML of an installed or shipped profile, as written."""
    prof = registry.get(name)
    return registry.text_of(prof.name)
