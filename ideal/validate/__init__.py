"""Validation of submissions: expectation suites as data, run by Great Expectations."""

from ideal.validate.runner import ValidationReport, validate_submission

__all__ = ["ValidationReport", "validate_submission"]
