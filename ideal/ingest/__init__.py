"""Ingestion: bytes of a submitted file -> the canonical frame and the findings made while
reading (readers, crosswalk profiles, SDMX), and the raw-file archive."""
