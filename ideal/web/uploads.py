"""Uploads from the portal and the API: read with a hard cap, then the same submission path
as the CLI and the landing folder (archive first, validate, load or quarantine)."""

from __future__ import annotations

from fastapi import Request, UploadFile
from starlette.concurrency import run_in_threadpool

from ideal.accounts import Account
from ideal.ingest.sniff import ReadOptions
from ideal.web.app import language_of

CHUNK = 1 << 20
# files up to HARD_CAP x the size limit are kept (and refused with a reason, in quarantine);
# beyond that the upload is cut off and nothing is kept
HARD_CAP = 4
SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


class UploadTooLarge(Exception):
    pass


async def read_upload(file: UploadFile, limit: int) -> bytes:
    cap = limit * HARD_CAP
    parts, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > cap:
            raise UploadTooLarge(
                f"{file.filename}: more than {cap / 2**20:.0f} MB, far over the size limit of "
                f"{limit / 2**20:.0f} MB; split the file by year or region and send the parts.")
        parts.append(chunk)
    return b"".join(parts)


def options_from(form) -> ReadOptions | None:
    """Reading options a steward may give when detection is not enough."""
    sep = (form.get("separator") or "").strip()
    dec = (form.get("decimal") or "").strip()
    enc = (form.get("encoding") or "").strip()
    prof = (form.get("profile") or "").strip()
    if not any((sep, dec, enc, prof)):
        return None
    from ideal.errors import SubmissionError

    if dec not in ("", ".", ","):
        raise SubmissionError("decimal mark: . or ,")
    if sep and sep not in SEPARATORS:
        raise SubmissionError(f"separator: one of {', '.join(SEPARATORS)}")
    return ReadOptions(encoding=enc or None, separator=SEPARATORS.get(sep), decimal=dec or None,
                       profile=prof or None)


async def submit_upload(request: Request, data: bytes, filename: str, country: str,
                        user: Account, channel: str, options: ReadOptions | None = None):
    from ideal.ingest.submit import submit_bytes

    if options is None:
        form = await request.form()
        options = options_from(form)
    return await run_in_threadpool(
        submit_bytes, data, filename, country, request.app.state.engine, channel=channel,
        settings=request.app.state.settings, options=options,
        language=language_of(request, user), actor=user.actor)
