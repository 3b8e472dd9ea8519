"""One submission end to end: archive -> read -> validate -> load or quarantine.

The raw file is archived and the submission recorded before anything can fail, so nothing
is ever lost: a crash leaves a submission in status ``received`` which the next attempt
with the same file picks up again. The same bytes from the same country load only once.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from ideal.config import Settings, get_settings
from ideal.contracts import findings_frame
from ideal.errors import IdealError, NamedAssessor, ReadingLimit, SubmissionError
from ideal.i18n import said_of, speaking, tr
from ideal.ingest import periods
from ideal.ingest.archive import archive, sha256_bytes
from ideal.ingest.contributions import Contributed
from ideal.ingest.formats import Parsed, read_submission
from ideal.ingest.sniff import ReadOptions
from ideal.pipeline import mail_feedback
from ideal.pipeline.bounded import bounded
from ideal.store import audit, contributions, load
from ideal.validate import feedback, plausibility
from ideal.validate.runner import ValidationReport, validate_submission

log = logging.getLogger("ideal.submission")


@dataclass
class Receipt:
    submission_id: str
    country: str
    filename: str
    sha256: str
    status: str  # accepted | rejected | failed
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    n_errors: int = 0
    n_warnings: int = 0
    rows_superseded: int = 0
    duplicate: bool = False
    message: str = ""
    format: str = ""
    notes: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    feedback_path: Path | None = None  # the HTML report
    feedback_csv: Path | None = None
    findings: pd.DataFrame = field(default_factory=findings_frame)
    attempt_of: str | None = None  # the first submission of the same bytes, read another way
    reading: str = ""
    language: str = "en"  # of the messages and the feedback
    kept: bool = True  # False: the raw file was deleted (an assessor column that may name a person)

    @property
    def ok(self) -> bool:
        return self.status == "accepted"

    def summary(self, language: str | None = None) -> str:
        """One line for the steward, in the receipt's language (or ``language``)."""
        with speaking(language or self.language):
            return self._summary()

    def _summary(self) -> str:
        if self.duplicate and self.status == "rejected":
            return tr("%(file)s: REJECTED before, as %(id)s (the same file was already received): "
                      "%(message)s Fix the file and send it again.", file=self.filename,
                      id=self.submission_id, message=self.message)
        if self.duplicate:
            return tr("%(file)s: already received as %(id)s (%(status)s); nothing loaded again.",
                      file=self.filename, id=self.submission_id, status=tr(self.status))
        again = (tr(" (a new attempt of %(first)s, read with %(how)s)", first=self.attempt_of,
                    how=self.reading or tr("detected options")) if self.attempt_of else "")
        if self.status == "accepted":
            return tr("%(file)s: accepted as %(id)s%(again)s: %(rows)s rows loaded, %(warnings)s "
                      "warnings, %(superseded)s earlier values superseded.", file=self.filename,
                      id=self.submission_id, again=again, rows=self.rows_accepted,
                      warnings=self.n_warnings, superseded=self.rows_superseded)
        if not self.kept:
            return tr("%(file)s: %(STATUS)s (%(id)s): %(message)s", file=self.filename,
                      STATUS=tr(self.status).upper(), id=self.submission_id, message=self.message)
        return tr("%(file)s: %(STATUS)s (%(id)s%(again)s): %(message)s The file is kept in "
                  "quarantine; fix it and submit again.", file=self.filename,
                  STATUS=tr(self.status).upper(), id=self.submission_id, again=again,
                  message=self.message)


def _check_country(country: str, settings: Settings) -> str:
    cc = (country or "").strip().upper()
    if cc not in settings.members:
        raise IdealError(f"country {country!r} is not a CLASI member in this installation; "
                         f"members: {' '.join(settings.members)} (IDEAL_MEMBERS).")
    return cc


def _quarantine(raw: Path, sha: str, country: str, filename: str, reason: str,
                settings: Settings) -> Path:
    """Copy the raw file to quarantine/<CC>/ with a reason file next to it."""
    folder = settings.quarantine_dir / country
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / raw.name
    if not target.exists():
        shutil.copyfile(raw, target)
    (folder / f"{sha}.reason.txt").write_text(
        f"file: {filename}\nsha256: {sha}\nreason: {reason}\n", encoding="utf-8")
    return target


def receipt_dict(receipt: Receipt) -> dict:
    """A receipt as JSON-ready values (an Airflow task's result, the API's answer): no
    findings (a frame), paths as text."""
    out = asdict(receipt)
    out.pop("findings")
    for key in ("feedback_path", "feedback_csv"):
        out[key] = str(out[key]) if out[key] else None
    return out


def _reject(engine: Engine, receipt: Receipt, raw: Path, settings: Settings, actor: str,
            message: str) -> Receipt:
    """Record a rejection: nothing loaded, the raw file copied to quarantine with a reason."""
    receipt.status, receipt.message, receipt.rows_rejected = "rejected", message, receipt.rows_total
    where = _quarantine(raw, receipt.sha256, receipt.country, receipt.filename, message, settings)
    load.finish_rejected(engine, receipt.submission_id, rows_total=receipt.rows_total,
                         n_errors=receipt.n_errors, n_warnings=receipt.n_warnings,
                         findings=receipt.findings, message=message, actor=actor,
                         country=receipt.country, quarantine=str(where))
    return receipt


def submit_bytes(data: bytes, filename: str, country: str, engine: Engine, *,
                 channel: str = "cli", settings: Settings | None = None,
                 today: date | None = None, options: ReadOptions | None = None,
                 language: str | None = None, actor: str | None = None) -> Receipt:
    """Process one submitted file for ``country``; returns its receipt (never raises for bad
    content: that is a rejected receipt; raises IdealError for a bad request). Every message,
    its details included, is in ``language`` (default IDEAL_LANGUAGE)."""
    settings = settings or get_settings()
    language = language or settings.language
    with speaking(language):
        receipt = _submit(data, filename, country, engine, channel, settings, today, options,
                          language, actor)
    receipt.language = language
    if settings.smtp.host:  # the country's stewards get the feedback by mail
        try:
            mail_feedback.send(engine, receipt, settings)
        except Exception as exc:  # noqa: BLE001 - a mail never changes the submission's outcome
            log.error("feedback mail of %s failed: %s", receipt.submission_id, exc)
    return receipt


def _submit(data: bytes, filename: str, country: str, engine: Engine, channel: str,
            settings: Settings, today: date | None, options: ReadOptions | None,
            language: str, actor: str | None) -> Receipt:
    actor = actor or audit.current_actor(channel)
    country = _check_country(country, settings)
    filename = Path(filename).name or "submission.csv"
    sha = sha256_bytes(data)
    options = options or ReadOptions()
    reading = options.key()
    known = load.find_submission(engine, country, sha, reading)
    if known and (known["status"] in ("accepted", "superseded")
                  or (known["status"] == "rejected" and not load.rejected_by_limit(engine, known["id"]))
                  or (channel != "retry" and _in_flight(known, settings))):
        return _duplicate(engine, known, filename, sha, actor)
    raw = archive(data, country, filename, settings.archive_dir)
    attempt_of = None
    if known:  # an earlier attempt stopped half-way (crash), failed or outlived a limit: again
        submission_id, attempt_of = known["id"], known.get("attempt_of")
    else:
        # the same bytes read with other options (profile, sheet...) are a new attempt
        attempt_of = load.first_attempt(engine, country, sha)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        tag = sha if not attempt_of else sha256_bytes((sha + reading).encode())
        submission_id = f"{country}-{stamp}-{tag[:8]}"
        if not load.record_received(engine, submission_id=submission_id, country=country,
                                    filename=filename, sha256=sha, channel=channel,
                                    archive_path=str(raw), actor=actor, reading=reading,
                                    attempt_of=attempt_of):
            return _duplicate(engine, load.find_submission(engine, country, sha, reading),
                              filename, sha, actor)
    receipt = Receipt(submission_id, country, filename, sha, "received", attempt_of=attempt_of,
                      reading=reading)
    try:
        try:
            if len(data) > settings.max_upload_bytes:
                raise SubmissionError(tr(
                    "%(file)s: %(size)s MB is over the size limit of %(limit)s MB "
                    "(IDEAL_MAX_UPLOAD_MB); split the file by year or region and send the parts.",
                    file=filename, size=f"{len(data) / 2**20:.1f}",
                    limit=f"{settings.max_upload_bytes / 2**20:.0f}"))
            parsed = bounded(read_submission, data, filename, options, country, settings.members,
                             filename=filename, settings=settings)
        except NamedAssessor as exc:  # may name a person: not kept anywhere
            receipt.findings = findings_frame([("error", "contribution_assessor", "assessor", None, None,
                                                said_of(exc))])
            receipt.n_errors = 1
            raw.unlink(missing_ok=True)
            receipt.status, receipt.message, receipt.kept = "rejected", str(exc), False
            load.finish_rejected(engine, submission_id, rows_total=0, n_errors=1, n_warnings=0,
                                 findings=receipt.findings, message=str(exc), actor=actor,
                                 country=country, quarantine="", kept=False)
            return receipt
        except SubmissionError as exc:
            rule = "reading_limit" if isinstance(exc, ReadingLimit) else "file_readable"
            receipt.findings = findings_frame([("error", rule, None, None, None, said_of(exc))])
            receipt.n_errors = 1
            return _reject(engine, receipt, raw, settings, actor, str(exc))
        receipt.format, receipt.notes = parsed.format, parsed.notes
        if isinstance(parsed, Contributed):
            return _contributions(engine, receipt, parsed, raw, settings, actor)
        exam = examine(parsed, country, engine, settings, today)
        frame, to_load, report = exam.frame, exam.to_load, exam.report
        receipt.periods = sorted(frame["period"].dropna().astype(str).unique().tolist())
        receipt.rows_total, receipt.findings = len(frame), report.findings
        receipt.n_errors, receipt.n_warnings = report.n_errors, report.n_warnings
        if not report.ok:
            rules = ", ".join(sorted(report.errors["rule"].unique()))
            return _reject(engine, receipt, raw, settings, actor,
                           tr("%(n)s blocking problems (%(rules)s); no row was loaded.",
                              n=report.n_errors, rules=rules))
        rows = to_load.assign(value=to_load["value_number"])
        receipt.rows_superseded = load.load_accepted(
            engine, submission_id, rows, n_warnings=report.n_warnings, findings=report.findings,
            rows_total=len(frame), actor=actor, before_commit=_fault_hold(settings))
        receipt.status, receipt.rows_accepted = "accepted", len(rows)
        receipt.message = tr("%(n)s rows accepted", n=len(rows))
        return receipt
    except Exception as exc:
        load.mark_failed(engine, submission_id, f"{type(exc).__name__}: {exc}", actor, country)
        raise
    finally:
        if receipt.status in ("accepted", "rejected"):
            paths = feedback.write(receipt, settings.feedback_dir / country,
                                   language or settings.language)
            receipt.feedback_path, receipt.feedback_csv = paths["html"], paths["csv"]


def _contributions(engine: Engine, receipt: Receipt, read: Contributed, raw: Path, settings: Settings,
                   actor: str) -> Receipt:
    """A file of structured contributions: checked, then loaded whole or refused whole."""
    contributions.mark_kind(engine, receipt.submission_id)
    findings = read.findings
    receipt.rows_total, receipt.findings = len(read.rows), findings
    receipt.n_errors = int((findings["severity"] == "error").sum())
    receipt.n_warnings = int((findings["severity"] == "warning").sum())
    receipt.periods = sorted({str(int(y)) for y in read.rows["year"].dropna()})
    if not read.ok:
        rules = ", ".join(sorted(findings.loc[findings["severity"] == "error", "rule"].unique()))
        return _reject(engine, receipt, raw, settings, actor,
                       tr("%(n)s blocking problems (%(rules)s); no assessment was loaded.",
                          n=receipt.n_errors, rules=rules))
    receipt.rows_superseded = contributions.load(
        engine, receipt.submission_id, read.rows, findings=findings, n_warnings=receipt.n_warnings,
        actor=actor)
    receipt.status, receipt.rows_accepted = "accepted", len(read.rows)
    receipt.message = tr("%(n)s assessments accepted", n=len(read.rows))
    return receipt


@dataclass
class Examined:
    """What a submission would become: the canonical rows, those that would load, the report."""

    frame: pd.DataFrame
    to_load: pd.DataFrame
    report: ValidationReport


def examine(parsed: Parsed, country: str, engine: Engine, settings: Settings,
            today: date | None = None) -> Examined:
    """Every check of a read submission, loading nothing (the submission and the dry run of
    `ideal profile check` share it)."""
    frame, partial = periods.coverage(parsed.frame)
    to_load, checked = plausibility.run(frame, load.current_for_country(engine, country),
                                        settings.checks_path)
    extra = pd.concat([f for f in (parsed.findings, findings_frame(partial), checked)
                       if not f.empty] or [checked], ignore_index=True)
    report = validate_submission(frame, country, settings.members, today=today, extra=extra)
    return Examined(frame, to_load, report)


def _in_flight(known: dict, settings: Settings) -> bool:
    """The same file is being processed right now by another request (sent twice at once)."""
    if known["status"] != "received":
        return False
    at = known["received_at"]
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - at).total_seconds() < settings.stale_minutes * 60


def _duplicate(engine: Engine, known: dict, filename: str, sha: str, actor: str) -> Receipt:
    """The receipt for bytes already received: nothing is loaded again."""
    audit.log(engine, actor=actor, action="submission.duplicate", outcome="ignored",
              object_id=known["id"], country=known["country"],
              detail=f"{filename}: same bytes as {known['id']} ({known['status']}); nothing loaded")
    message = known["message"] or (tr("the same file is being processed; its receipt follows")
                                   if known["status"] == "received" else "")
    return Receipt(known["id"], known["country"], filename, sha, known["status"],
                   rows_total=known["rows_total"], rows_accepted=known["rows_accepted"],
                   rows_rejected=known["rows_rejected"], n_errors=known["n_errors"],
                   n_warnings=known["n_warnings"], duplicate=True, message=message)


def _fault_hold(settings: Settings):
    """Test-only fault injection for the crash tests (tests/reliability): with
    IDEAL_FAULT_HOLD_LOAD set to a file path, the loader writes that file inside its open
    transaction, after the rows are in and before the commit, and waits there so the test
    can SIGKILL the process at the worst moment. Never set in a deployment."""
    marker = settings.fault_hold_load
    if not marker:
        return None

    def hold() -> None:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(600)
    return hold


def submit_file(path: Path, country: str, engine: Engine, **kw) -> Receipt:
    path = Path(path)
    if not path.is_file():
        raise IdealError(f"{path}: no such file.")
    settings = kw.get("settings") or get_settings()
    size = path.stat().st_size
    if size > settings.max_upload_bytes * 4:  # far over the limit: do not even read it
        raise IdealError(f"{path.name}: {size / 2**20:.0f} MB is far over the size limit of "
                         f"{settings.max_upload_bytes / 2**20:.0f} MB (IDEAL_MAX_UPLOAD_MB); split "
                         "the file by year or region.")
    return submit_bytes(path.read_bytes(), path.name, country, engine, **kw)
