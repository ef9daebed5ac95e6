"""/api/v1/uploads: uploading a file in chunks of at most 8 MiB, resumable after interruption.

A browser begins an upload with the file's name and size, PUTs its bytes chunk by chunk at the
offset the server reports, and completes it, which ingests the photo. Every answer is JSON;
errors are `{"error": message}` (with `"received"` when the client has to continue elsewhere).
The signed-in user comes from the identity middleware; someone else's upload is not found.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgstream import models
from imgstream.api import metrics
from imgstream.api.identity import SCOPE_USER
from imgstream.config import get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import chunked_uploads, identity, ingest, ingest_slots
from imgstream.services.chunked_uploads import (
    ChunkRefused,
    OffsetMismatch,
    UploadIncomplete,
    UploadNotFound,
    UploadProgress,
    UploadRefused,
)
from imgstream.services.storage import StorageUnavailable

log = logging.getLogger(__name__)

PREFIX = "/api/v1/uploads"
MAX_JSON_BYTES = 16 * 1024
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=_NO_STORE)


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=_NO_STORE)


def _progress(progress: UploadProgress) -> dict[str, Any]:
    return {"id": str(progress.id), "filename": progress.filename, "size": progress.size,
            "received": progress.received}


class _Refusal(Exception):  # noqa: N818
    def __init__(self, response: JSONResponse):
        super().__init__(response.status_code)
        self.response = response


def _user(request: Request) -> uuid.UUID:
    user_id = request.scope.get(SCOPE_USER)
    if not isinstance(user_id, uuid.UUID):
        raise _Refusal(_error(401, "sign-in required"))
    return user_id


def _upload_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["upload_id"])
    except ValueError:
        raise _Refusal(_error(404, "no such upload")) from None


async def _json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("", "application/json"):
        # Only JSON, which browsers never send across sites without a preflight.
        raise _Refusal(_error(415, "the body must be JSON (Content-Type: application/json)"))
    raw = bytearray()
    async for data in request.stream():
        raw += data
        if len(raw) > MAX_JSON_BYTES:
            raise _Refusal(_error(413, f"the body may be at most {MAX_JSON_BYTES} bytes"))
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Refusal(_error(400, "the body must be a JSON object")) from None
    if not isinstance(body, dict):
        raise _Refusal(_error(400, "the body must be a JSON object"))
    return body


def _check_origin(request: Request) -> None:
    # A page on another site could send a "simple" request (no preflight) with the person's
    # cookies; changes are accepted only from the app's own origin.
    origin = request.headers.get("origin")
    allowed = get_settings().cors_origins
    if request.method != "GET" and origin and "*" not in allowed and origin not in allowed:
        raise _Refusal(_error(403, "requests from another site are refused"))


def _endpoint(handler):  # noqa: ANN001, ANN202
    async def endpoint(request: Request) -> Response:
        try:
            _check_origin(request)
            return await handler(request)
        except _Refusal as refusal:
            return refusal.response
        except UploadNotFound:
            return _error(404, "no such upload")
        except StorageUnavailable:
            metrics.STORAGE_ERRORS.inc()
            log.warning("storage unavailable during %s", request.url.path, exc_info=True)
            return _error(503, "storage is unavailable right now; try again in a minute")

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


@_endpoint
async def begin(request: Request) -> Response:
    """POST /api/v1/uploads {"filename", "size"} → 201 the upload, with the chunk size to use."""
    user_id = _user(request)
    body = await _json_body(request)
    filename, size = body.get("filename"), body.get("size")
    if not isinstance(filename, str) or isinstance(size, bool) or not isinstance(size, int):
        return _error(400, "filename (a string) and size (bytes, an integer) are required")
    settings = get_settings()

    def start() -> UploadProgress | None:
        with db_session() as session:
            owner = identity.get_user(session=session, user_id=user_id)
            if owner is None:
                return None
            return chunked_uploads.begin_upload(
                session=session, owner=owner, filename=filename, size=size,
                max_bytes=settings.max_upload_bytes,
            )

    try:
        progress = await asyncio.to_thread(start)
    except UploadRefused as refused:
        return _error(413 if refused.too_large else 400, refused.message)
    if progress is None:
        return _error(401, "sign-in required")
    return _json({**_progress(progress), "chunk_bytes": settings.upload_chunk_bytes}, 201)


@_endpoint
async def status(request: Request) -> Response:
    """GET /api/v1/uploads/{id} → how much has arrived."""
    user_id, upload_id = _user(request), _upload_id(request)

    def read() -> UploadProgress:
        with db_session() as session:
            return chunked_uploads.upload_status(
                session=session, owner_id=user_id, upload_id=upload_id
            )

    return _json(_progress(await asyncio.to_thread(read)))


@_endpoint
async def put_chunk(request: Request) -> Response:
    """PUT /api/v1/uploads/{id}/chunks?offset=N with the chunk's bytes as the body."""
    user_id, upload_id = _user(request), _upload_id(request)
    raw_offset = request.query_params.get("offset", "")
    if not raw_offset.isdigit():
        return _error(400, "offset (a number of bytes) is required")
    settings = get_settings()
    with db_session() as session:
        try:
            received = await chunked_uploads.receive_chunk(
                session=session,
                storage=storage(),
                owner_id=user_id,
                upload_id=upload_id,
                offset=int(raw_offset),
                body=request.stream(),
                spool_dir=settings.incoming_dir,
                chunk_bytes=settings.upload_chunk_bytes,
            )
        except OffsetMismatch as mismatch:
            return _error(409, str(mismatch), received=mismatch.received)
        except ChunkRefused as refused:
            return _error(413 if refused.too_large else 400, refused.message)
        except ClientDisconnect:
            return Response(status_code=400)
    return _json({"received": received})


def _collision_choice(body: dict[str, Any]) -> models.CollisionChoice | None:
    raw = body.get("on_collision")
    if raw is None:
        return None
    try:
        return models.CollisionChoice(raw)
    except ValueError:
        choices = ", ".join(choice.value for choice in models.CollisionChoice)
        raise _Refusal(_error(400, f"on_collision must be one of {choices}")) from None


def _decision_seconds(body: dict[str, Any]) -> float | None:
    raw = body.get("decision_seconds")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) \
            or raw < 0:
        raise _Refusal(_error(400, "decision_seconds must be a number of seconds, or null"))
    return float(raw)


@_endpoint
async def complete(request: Request) -> Response:
    """POST /api/v1/uploads/{id}/complete {"on_collision"?, "decision_seconds"?} → the outcome."""
    user_id, upload_id = _user(request), _upload_id(request)
    body = await _json_body(request, optional=True)
    choice = _collision_choice(body)
    seconds = _decision_seconds(body)
    settings = get_settings()

    def finish() -> ingest.IngestResult | None:
        with db_session() as session:
            owner = identity.get_user(session=session, user_id=user_id)
            if owner is None:
                return None
            try:
                on_collision = choice or models.CollisionChoice(owner.collision_choice)
            except ValueError:
                on_collision = models.CollisionChoice.ASK
            return chunked_uploads.complete_upload(
                session=session,
                storage=storage(),
                owner=owner,
                upload_id=upload_id,
                on_collision=on_collision,
                decision_seconds=seconds,
                spool_dir=settings.incoming_dir,
                max_bytes=settings.max_upload_bytes,
                thumbnail_size=settings.thumbnail_size,
                preview_size=settings.preview_size,
                max_pixels=settings.max_image_pixels,
            )

    try:
        result = await ingest_slots.run_ingest(metrics.measured(finish, db_session))
    except UploadIncomplete as incomplete:
        return _error(409, f"not every byte has arrived: {incomplete}",
                      received=incomplete.received)
    except (UploadNotFound, StorageUnavailable):
        raise
    except Exception:
        # The chunks are kept: completing again retries.
        log.exception("completing upload %s failed", upload_id)
        return _error(500, "it could not be stored, please try again")
    if result is None:
        return _error(401, "sign-in required")
    return _json({
        "status": result.status.value,
        "message": result.message,
        "photo_id": str(result.photo_id) if result.photo_id else None,
        "filename": result.filename,
        "in_trash": result.in_trash,
    })


@_endpoint
async def cancel(request: Request) -> Response:
    """DELETE /api/v1/uploads/{id} → 204; its chunks are removed."""
    user_id, upload_id = _user(request), _upload_id(request)

    def remove() -> bool:
        with db_session() as session:
            return chunked_uploads.cancel_upload(
                session=session, storage=storage(), owner_id=user_id, upload_id=upload_id
            )

    if not await asyncio.to_thread(remove):
        return _error(404, "no such upload")
    return Response(status_code=204, headers=_NO_STORE)


def upload_routes() -> list[Route]:
    """The chunked-upload routes."""
    return [
        Route(PREFIX, begin, methods=["POST"]),
        Route(f"{PREFIX}/{{upload_id}}", status, methods=["GET"]),
        Route(f"{PREFIX}/{{upload_id}}", cancel, methods=["DELETE"]),
        Route(f"{PREFIX}/{{upload_id}}/chunks", put_chunk, methods=["PUT"]),
        Route(f"{PREFIX}/{{upload_id}}/complete", complete, methods=["POST"]),
    ]
