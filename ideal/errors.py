"""One hierarchy of errors. Each names what failed and what the user must fix, and carries
the exit code of the command line and the HTTP status of the portal and the API (one
exception handler in ideal.web.app turns any of them into an answer)."""

from __future__ import annotations


def N_(msgid: str) -> str:
    """Marks a message for the catalogues where it is raised; translated where it is shown
    (IdealError.in_language). Here, at the bottom of the layers, so that any module may mark one
    (ideal.i18n re-exports it)."""
    return msgid


class IdealError(Exception):
    """Base of every error IDEAL raises on purpose; its message is for the user. Raised with
    ``msgid`` (a catalogue message marked with ideal.i18n.N_) and its ``values``, the portal shows
    it in the user's language (``in_language``); its text (str) is the English one."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str = "", *, msgid: str | None = None, values: dict | None = None,
                 translated: tuple[str, ...] = ()) -> None:
        self.msgid, self.values, self.translated = msgid, dict(values or {}), translated
        super().__init__(message or (msgid % self.values if msgid and self.values else msgid or ""))

    def in_language(self, gettext) -> str:
        """The message through ``gettext`` (a language's catalogue) when it has a msgid; the
        values named in ``translated`` (a role, a status: catalogue words) are translated too,
        the others (a user's name, a code) never."""
        if self.msgid is None:
            return str(self)
        text = gettext(self.msgid)
        values = {k: gettext(v) if k in self.translated and isinstance(v, str) and v else v
                  for k, v in self.values.items()}
        return text % values if values else text


class ConfigError(IdealError):
    """A setting (IDEAL_* environment variable or profile) is wrong."""

    http_status = 500


class ReferenceDataError(IdealError):
    """A shipped code list or population file is missing or malformed."""

    http_status = 500


class SubmissionError(IdealError):
    """A submitted file cannot be read: encoding, columns, format."""


class UnsafeInput(IdealError):
    """YAML or JSON that IDEAL refuses to read: anchors or aliases, nesting or size past their
    bounds, or not valid (ideal.safe_load)."""

    http_status = 422


class ReadingLimit(SubmissionError):
    """The reading of a file outlived a limit of time or memory, or died (ideal.pipeline.bounded):
    the submission is rejected with the reason, and the same bytes may be sent again."""

    def __init__(self, message: str = "", *, limit: str = "time", **kw) -> None:
        super().__init__(message, **kw)
        self.limit = limit


class NamedAssessor(SubmissionError):
    """A contributions file whose assessor column holds text that may name a person: refused
    and not archived (ingest.contributions)."""


class ProfileError(SubmissionError):
    """A crosswalk profile is malformed (key, line, what was expected) or unknown."""

    http_status = 422


class UploadTooLarge(SubmissionError):
    """An upload far over the size limit: cut off, nothing kept."""

    http_status = 413


class ValidationFailed(IdealError):
    """A submission was read but has blocking validation failures; it was quarantined."""

    http_status = 422

    def __init__(self, message: str, submission_id: str | None = None, failures: int = 0):
        super().__init__(message)
        self.submission_id = submission_id
        self.failures = failures


class AssessmentError(IdealError):
    """An assessment cannot run: no data for the period, no population, bad parameters."""


class ReportError(IdealError):
    """A report cannot be rendered: missing run, missing system library, template error."""


class NotFound(IdealError):
    """What was asked for (a submission, a run, a report, a job) does not exist."""

    http_status = 404


class Conflict(IdealError):
    """The request cannot be served in the present state (a report replaced since)."""

    http_status = 409


class AccountError(IdealError):
    """A bad account request: unknown user, weak password, wrong role."""


class LoginLocked(AccountError):
    """Too many failed logins for a name or from an address: wait and try again."""

    http_status = 429


class TooManyJobs(IdealError):
    """An account asked for more jobs than it may have queued or running at once."""

    http_status = 429


class LoginRequired(IdealError):
    """A portal page was asked for without a session: the portal answers with the login."""

    http_status = 401


class Refused(IdealError):
    """An account tried to reach a country or page it may not (audited)."""

    http_status = 403


class UpstreamError(IdealError):
    """A system IDEAL calls (Airflow's REST API) could not be reached or refused."""

    http_status = 502


class DeliveryFailed(IdealError):
    """Some briefings could not be mailed; raised so that Airflow retries the delivery task
    (a mail already sent is not sent again)."""

    http_status = 502
