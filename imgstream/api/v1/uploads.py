"""/api/v1/uploads: uploading a file in chunks of at most 8 MiB, resumable after interruption.

A client begins an upload with the file's name and size, PUTs its bytes chunk by chunk at the
offset the server reports, and completes it, which ingests the photo. The upload page begins its
uploads through its state instead and sends only bytes and completions here. The upload's row
holds its progress, collision choice and outcome: every answer about an upload is read from it.
Bodies are read here, within `request_body_seconds`, rather than by the framework, so that a
slow or huge body is refused as it arrives. Someone else's upload is not found.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from imgstream import models
from imgstream.api import logs, metrics
from imgstream.api.v1 import rate_limits
from imgstream.api.v1.callers import Uploader
from imgstream.api.v1.problems import NO_STORE, ProblemError, problems
from imgstream.config import get_settings
from imgstream.models import CollisionChoice, UploadStatus
from imgstream.runtime import db_session, owner_session, storage
from imgstream.services import (
    ingest_slots,
    upload_completion,
    upload_decisions,
    upload_progress,
    upload_receiving,
)
from imgstream.services.storage import StorageUnavailable
from imgstream.services.upload_completion import UploadBusy, UploadIncomplete
from imgstream.services.upload_progress import UploadNotFound, UploadProgress
from imgstream.services.upload_receiving import ChunkRefused, OffsetMismatch, UploadRefused

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 16 * 1024
_OFFSET = re.compile(r"[0-9]{1,18}")
_COMMON = problems(401, 403, 404, 408, 429, 503)

router = APIRouter(prefix="/uploads", tags=["uploads"])


class UploadOut(BaseModel):
    """An upload: how much has arrived, and once completed what became of it."""

    id: uuid.UUID
    filename: str
    size: int
    received: int
    status: UploadStatus
    on_collision: CollisionChoice
    message: str = ""
    photo_id: uuid.UUID | None = Field(
        default=None, description="The photo it became, or the photo whose name or bytes it has.")
    photo_filename: str | None = None
    in_trash: bool = False


class UploadBegun(BaseModel):
    """A new upload and the chunk size to send it in."""

    id: uuid.UUID
    filename: str
    size: int
    received: int
    status: UploadStatus
    on_collision: CollisionChoice
    chunk_bytes: int


class UploadList(BaseModel):
    """The caller's unfinished uploads, oldest first."""

    uploads: list[UploadOut]


class Received(BaseModel):
    """How many bytes of the upload have arrived."""

    received: int


def _progress(progress: UploadProgress) -> dict[str, Any]:
    return {"id": str(progress.id), "filename": progress.filename, "size": progress.size,
            "received": progress.received, "status": progress.status.value,
            "on_collision": progress.collision_choice.value}


def _outcome(progress: UploadProgress) -> dict[str, Any]:
    return {**_progress(progress), "message": progress.message,
            "photo_id": str(progress.photo_id) if progress.photo_id else None,
            "photo_filename": progress.photo_filename or None,
            "in_trash": progress.in_trash}


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=NO_STORE)


def _upload_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ProblemError(404, "no such upload") from None


class BodyTooSlow(Exception):  # noqa: N818
    """The request body did not arrive within `request_body_seconds`."""


async def within_deadline(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives, refused once it has taken longer than the setting.

    Raises:
        BodyTooSlow: When the body is not complete by the deadline.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + get_settings().request_body_seconds
    stream = request.stream()
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                data = await anext(stream)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyTooSlow from None
        yield data


async def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, at most MAX_JSON_BYTES.

    Raises:
        ProblemError: 415 not JSON, 413 too large, 400 not an object.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("", "application/json"):
        # Only JSON, which browsers never send across sites without a preflight.
        raise ProblemError(415, "the body must be JSON (Content-Type: application/json)")
    raw = bytearray()
    async for data in within_deadline(request):
        raw += data
        if len(raw) > MAX_JSON_BYTES:
            raise ProblemError(413, f"the body may be at most {MAX_JSON_BYTES} bytes")
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        # RecursionError: thousands of nested brackets.
        raise ProblemError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ProblemError(400, "the body must be a JSON object")
    return body


def _json_request(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"requestBody": {"required": required,
                            "content": {"application/json": {"schema": schema}}}}


_BEGIN_BODY = {"type": "object", "required": ["filename", "size"], "properties": {
    "filename": {"type": "string", "description": "The file's name (shown and compared)."},
    "size": {"type": "integer", "description": "The file's size in bytes."},
}}
_COMPLETE_BODY = {"type": "object", "properties": {
    "on_collision": {"type": "string", "enum": [choice.value for choice in CollisionChoice],
                     "description": "What to do when the name is taken; replaces the "
                     "upload's choice."},
}}


@router.post("", status_code=201, response_model=UploadBegun, summary="Begin an upload",
             responses=problems(400, 413, 415, 401, 403, 408, 429, 503),
             openapi_extra=_json_request(_BEGIN_BODY))
async def begin(request: Request, caller: Uploader) -> Response:
    """Announce a file by name and size; answers the upload and the chunk size to use."""
    body = await json_body(request)
    filename, size = body.get("filename"), body.get("size")
    if not isinstance(filename, str) or isinstance(size, bool) or not isinstance(size, int):
        raise ProblemError(400, "filename (a string) and size (bytes, an integer) are required")
    logs.note_upload_format(filename)
    settings = get_settings()

    def start() -> UploadProgress:
        with owner_session(caller.user_id) as (session, owner):
            return upload_receiving.begin_upload(
                session=session, owner=owner, filename=filename, size=size,
                max_bytes=settings.max_upload_bytes, max_open=settings.max_open_uploads,
            )

    try:
        progress = await asyncio.to_thread(start)
    except UploadRefused as refused:
        if refused.too_many:
            # Open uploads end as they finish or are cancelled: worth asking again shortly.
            raise ProblemError(429, refused.message, headers={"Retry-After": "60"}) from None
        raise ProblemError(413 if refused.too_large else 400, refused.message) from None
    return _json({**_progress(progress), "chunk_bytes": settings.upload_chunk_bytes}, 201)


@router.get("", response_model=UploadList, summary="Unfinished uploads",
            responses=problems(401, 403, 429, 503))
async def unfinished(caller: Uploader) -> Response:
    """The caller's uploads without an outcome, oldest first."""

    def read() -> list[UploadProgress]:
        with db_session() as session:
            return upload_decisions.unfinished_uploads(session=session, owner_id=caller.user_id)

    return _json({"uploads": [_outcome(upload) for upload in await asyncio.to_thread(read)]})


@router.get("/{upload_id}", response_model=UploadOut, summary="An upload's progress",
            responses=_COMMON)
async def status(upload_id: str, caller: Uploader) -> Response:
    """How much has arrived and, once completed, the outcome."""
    wanted = _upload_id(upload_id)

    def read() -> UploadProgress:
        with db_session() as session:
            return upload_progress.upload_status(
                session=session, owner_id=caller.user_id, upload_id=wanted
            )

    return _json(_outcome(await asyncio.to_thread(read)))


_CHUNK_REQUEST = {
    "parameters": [{"name": "offset", "in": "query", "required": True,
                    "description": "Where the chunk starts (bytes); the upload's `received`.",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}],
    "requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
}


@router.put("/{upload_id}/chunks", response_model=Received, summary="Send a chunk",
            responses={**_COMMON, **problems(400, 409, 413)}, openapi_extra=_CHUNK_REQUEST)
async def put_chunk(upload_id: str, request: Request, caller: Uploader) -> Response:
    """Send the bytes at `offset` (at most `chunk_bytes`); 409 says where to continue."""
    wanted = _upload_id(upload_id)
    raw_offset = request.query_params.get("offset", "")
    # ASCII digits only: str.isdigit() also passes "²" and "①", which int() refuses, and int()
    # reads other scripts' digits ("٣").
    if not _OFFSET.fullmatch(raw_offset):
        raise ProblemError(400, "offset (a number of bytes) is required")
    settings = get_settings()
    announced = request.headers.get("content-length", "")
    await rate_limits.count_upload_bytes(
        user_id=caller.user_id,
        size=int(announced) if announced.isascii() and announced.isdigit()
        and len(announced) < 19 else settings.upload_chunk_bytes)
    try:
        received = await upload_receiving.receive_chunk(
            sessions=db_session,
            storage=storage(),
            owner_id=caller.user_id,
            upload_id=wanted,
            offset=int(raw_offset),
            body=within_deadline(request),
            spool_dir=settings.incoming_dir,
            chunk_bytes=settings.upload_chunk_bytes,
        )
    except OffsetMismatch as mismatch:
        raise ProblemError(409, str(mismatch), received=mismatch.received) from None
    except ChunkRefused as refused:
        raise ProblemError(413 if refused.too_large else 400, refused.message) from None
    except ClientDisconnect:
        return Response(status_code=400)
    return _json({"received": received})


def _collision_choice(body: dict[str, Any]) -> CollisionChoice | None:
    raw = body.get("on_collision")
    if raw is None:
        return None
    try:
        return models.CollisionChoice(raw)
    except (ValueError, TypeError):
        choices = ", ".join(choice.value for choice in models.CollisionChoice)
        raise ProblemError(400, f"on_collision must be one of {choices}") from None


@router.post("/{upload_id}/complete", response_model=UploadOut, summary="Complete an upload",
             responses={**_COMMON, **problems(400, 409, 413, 415, 500)},
             openapi_extra=_json_request(_COMPLETE_BODY, required=False))
async def complete(upload_id: str, request: Request, caller: Uploader) -> Response:
    """Ingest the upload; answers it with its outcome (completing again answers the same).

    Without `on_collision`, the choice the upload holds applies (the person's decision, or
    their default setting when the upload began).
    """
    wanted = _upload_id(upload_id)
    body = await json_body(request, optional=True)
    choice = _collision_choice(body)
    settings = get_settings()

    def finish() -> UploadProgress:
        with owner_session(caller.user_id) as (session, owner):
            return upload_completion.complete_upload(
                session=session,
                storage=storage(),
                owner=owner,
                upload_id=wanted,
                on_collision=choice,
                spool_dir=settings.incoming_dir,
                max_bytes=settings.max_upload_bytes,
                thumbnail_size=settings.thumbnail_size,
                preview_size=settings.preview_size,
                max_pixels=settings.max_image_pixels,
            )

    try:
        result = await ingest_slots.run_ingest(metrics.measured(finish, db_session))
    except UploadBusy:
        # Completed twice at once (a retry, a second tab): this answer waits for the other's.
        result = await _outcome_of_other_completion(caller.user_id, wanted)
        if result is None:
            raise ProblemError(409, "the upload is still being completed; ask again in a moment",
                               received=await _received(caller.user_id, wanted)) from None
    except UploadIncomplete as incomplete:
        raise ProblemError(409, f"not every byte has arrived: {incomplete}",
                           received=incomplete.received) from None
    except (UploadNotFound, StorageUnavailable, ProblemError, sa.exc.OperationalError):
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise
        log.exception("completing upload %s failed", wanted)
        raise ProblemError(500, "it could not be stored, please try again") from None
    except Exception:
        # The chunks are kept: completing again retries.
        log.exception("completing upload %s failed", wanted)
        raise ProblemError(500, "it could not be stored, please try again") from None
    return _json(_outcome(result))


BUSY_WAIT_SECONDS = 60.0


def _read_status(user_id: uuid.UUID, upload_id: uuid.UUID) -> UploadProgress:
    with db_session() as session:
        return upload_progress.upload_status(session=session, owner_id=user_id,
                                             upload_id=upload_id)


async def _received(user_id: uuid.UUID, upload_id: uuid.UUID) -> int:
    return (await asyncio.to_thread(_read_status, user_id, upload_id)).received


async def _outcome_of_other_completion(user_id: uuid.UUID,
                                       upload_id: uuid.UUID) -> UploadProgress | None:
    """The upload once the request completing it is done; None if it failed or takes too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT_SECONDS
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        progress = await asyncio.to_thread(_read_status, user_id, upload_id)
        if progress.status is UploadStatus.UPLOADING:
            return None  # the other completion failed: this client completes again
        if progress.status is not UploadStatus.PROCESSING:
            return progress
    return None


@router.delete("/{upload_id}", status_code=204, response_class=Response,
               summary="Cancel an upload", responses=_COMMON)
async def cancel(upload_id: str, caller: Uploader) -> Response:
    """Cancel the upload; its chunks are removed."""
    wanted = _upload_id(upload_id)

    def remove() -> bool:
        with db_session() as session:
            return upload_receiving.cancel_upload(
                session=session, storage=storage(), owner_id=caller.user_id, upload_id=wanted
            )

    if not await asyncio.to_thread(remove):
        raise ProblemError(404, "no such upload")
    return Response(status_code=204, headers=NO_STORE)
