"""Ingestion: read a submitted file, archive it, validate it, load or quarantine it."""

from ideal.ingest.submit import Receipt, submit_bytes, submit_file

__all__ = ["Receipt", "submit_bytes", "submit_file"]
