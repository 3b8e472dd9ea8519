"""Ingestion: read a submitted file, archive it, validate it, load or quarantine it."""

__all__ = ["Receipt", "submit_bytes", "submit_file"]


def __getattr__(name: str):
    # imported on first use: the readers (ideal.ingest.sniff, ...) are used by the validators,
    # which the submission path itself imports
    if name in __all__:
        from ideal.ingest import submit

        return getattr(submit, name)
    raise AttributeError(name)
