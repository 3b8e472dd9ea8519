"""Uploads from the portal and the API: read with a hard cap, then the same submission path
as the CLI and the landing folder (archive first, validate, load or quarantine)."""

from __future__ import annotations

import logging

import anyio
from fastapi import HTTPException, Request, UploadFile

from ideal.errors import IdealError, UploadTooLarge
from ideal.ingest.sniff import ReadOptions
from ideal.pipeline.submission import Receipt, submit_bytes
from ideal.store.accounts import Account
from ideal.web import security
from ideal.web.render import language_of

log = logging.getLogger("ideal.web")
CHUNK = 1 << 20
# files up to HARD_CAP x the size limit are kept (and refused with a reason, in quarantine);
# beyond that the upload is cut off and nothing is kept
HARD_CAP = 4
READING = ("separator", "decimal", "encoding", "sheet", "profile")  # form fields a steward may set


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


async def receive(request: Request, file: UploadFile, country: str, user: Account, channel: str,
                  reading: dict) -> Receipt:
    """One upload from the portal or the API: the country (the steward's own unless an analyst
    names one), the permission check, the capped read, then the normal submission path in a
    worker thread (the event loop keeps serving). Returns the receipt; a bad request raises
    IdealError (answered by the app's handler)."""
    cc = (country or user.country or "").upper()
    if not cc:
        raise IdealError("Choose the country this file is for (`country`, ISO alpha-2).")
    security.require_country(request, user, cc, "submission.upload")
    settings = request.app.state.settings
    data = await read_upload(file, settings.max_upload_bytes)
    options = ReadOptions.named(**{k: reading.get(k) for k in READING})
    language = language_of(request, user)

    def work() -> Receipt:
        return submit_bytes(data, file.filename or "upload.csv", cc, request.app.state.engine,
                            channel=channel, settings=settings, options=options,
                            language=language, actor=user.actor)
    try:
        # in a worker thread, a few at a time per process (the upload slots): the event loop
        # keeps answering, and concurrent uploads wait their turn instead of slowing each other
        return await anyio.to_thread.run_sync(work, limiter=request.app.state.upload_slots)
    except IdealError:
        raise
    except Exception:  # a fault of ours: the file is archived and its submission marked failed
        log.exception("upload of %s for %s failed", file.filename, cc)
        raise HTTPException(500, "The file could not be processed because of a fault on our "
                                 "side. It is kept and marked as failed, to be retried with "
                                 "`ideal retry`; tell the IDEAL team if it stays failed.") from None
