"""One hierarchy of errors. Each names what failed and what the user must fix."""

from __future__ import annotations


class IdealError(Exception):
    """Base of every error IDEAL raises on purpose; its message is for the user."""

    exit_code = 1


class ConfigError(IdealError):
    """A setting (IDEAL_* environment variable or profile) is wrong."""


class ReferenceDataError(IdealError):
    """A shipped code list or population file is missing or malformed."""


class SubmissionError(IdealError):
    """A submitted file cannot be read: encoding, columns, format."""


class ValidationFailed(IdealError):
    """A submission was read but has blocking validation failures; it was quarantined."""

    def __init__(self, message: str, submission_id: str | None = None, failures: int = 0):
        super().__init__(message)
        self.submission_id = submission_id
        self.failures = failures


class AssessmentError(IdealError):
    """An assessment cannot run: no data for the period, no population, bad parameters."""


class ReportError(IdealError):
    """A report cannot be rendered: missing run, missing system library, template error."""
