"""/api/v1/uploads: uploading a file in chunks of at most 8 MiB, resumable after interruption.

A client begins an upload with the file's name and size, PUTs its bytes chunk by chunk at the
offset the server reports, and completes it, which ingests the photo. The upload page begins its
uploads through its state instead and sends only bytes and completions here. The upload's row
holds its progress, collision choice and outcome: every answer about an upload is read from it.
Every answer is JSON; errors are `{"error": message}` (with `"received"` when the client has to
continue elsewhere).
The signed-in user comes from the identity middleware; someone else's upload is not found.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgstream import models
from imgstream.api import metrics
from imgstream.api.identity import SCOPE_USER
from imgstream.config import get_settings
from imgstream.runtime import NoSuchUser, db_session, owner_session, storage
from imgstream.services import (
    ingest_slots,
    upload_completion,
    upload_decisions,
    upload_progress,
    upload_receiving,
)
from imgstream.services.storage import StorageUnavailable
from imgstream.services.upload_completion import UploadIncomplete
from imgstream.services.upload_progress import UploadNotFound, UploadProgress
from imgstream.services.upload_receiving import ChunkRefused, OffsetMismatch, UploadRefused

log = logging.getLogger(__name__)

PREFIX = "/api/v1/uploads"
MAX_JSON_BYTES = 16 * 1024
_NO_STORE = {"Cache-Control": "no-store"}
_OFFSET = re.compile(r"[0-9]{1,18}")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=_NO_STORE)


def _json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=_NO_STORE)


def _progress(progress: UploadProgress) -> dict[str, Any]:
    return {"id": str(progress.id), "filename": progress.filename, "size": progress.size,
            "received": progress.received, "status": progress.status.value,
            "on_collision": progress.collision_choice.value}


def _outcome(progress: UploadProgress) -> dict[str, Any]:
    return {**_progress(progress), "message": progress.message,
            "photo_id": str(progress.photo_id) if progress.photo_id else None,
            "photo_filename": progress.photo_filename or None,
            "in_trash": progress.in_trash}


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
    async for data in _within_deadline(request):
        raw += data
        if len(raw) > MAX_JSON_BYTES:
            raise _Refusal(_error(413, f"the body may be at most {MAX_JSON_BYTES} bytes"))
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        # RecursionError: thousands of nested brackets.
        raise _Refusal(_error(400, "the body must be a JSON object")) from None
    if not isinstance(body, dict):
        raise _Refusal(_error(400, "the body must be a JSON object"))
    return body


class _BodyTooSlow(Exception):  # noqa: N818
    """The request body did not arrive within `request_body_seconds`."""


async def _within_deadline(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives, refused once it has taken longer than the setting."""
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
            raise _BodyTooSlow from None
        yield data


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
        except NoSuchUser:
            return _error(401, "sign-in required")
        except _BodyTooSlow:
            # The rest of the body is not read: the connection cannot be used again.
            response = _error(408, "the request body arrived too slowly; send it again")
            response.headers["Connection"] = "close"
            return response
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

    def start() -> UploadProgress:
        with owner_session(user_id) as (session, owner):
            return upload_receiving.begin_upload(
                session=session, owner=owner, filename=filename, size=size,
                max_bytes=settings.max_upload_bytes, max_open=settings.max_open_uploads,
            )

    try:
        progress = await asyncio.to_thread(start)
    except UploadRefused as refused:
        if refused.too_many:
            return _error(429, refused.message)
        return _error(413 if refused.too_large else 400, refused.message)
    return _json({**_progress(progress), "chunk_bytes": settings.upload_chunk_bytes}, 201)


@_endpoint
async def unfinished(request: Request) -> Response:
    """GET /api/v1/uploads → {"uploads": [...]} the signed-in user's uploads without an outcome."""
    user_id = _user(request)

    def read() -> list[UploadProgress]:
        with db_session() as session:
            return upload_decisions.unfinished_uploads(session=session, owner_id=user_id)

    return _json({"uploads": [_outcome(upload) for upload in await asyncio.to_thread(read)]})


@_endpoint
async def status(request: Request) -> Response:
    """GET /api/v1/uploads/{id} → how much has arrived and, once completed, the outcome."""
    user_id, upload_id = _user(request), _upload_id(request)

    def read() -> UploadProgress:
        with db_session() as session:
            return upload_progress.upload_status(
                session=session, owner_id=user_id, upload_id=upload_id
            )

    return _json(_outcome(await asyncio.to_thread(read)))


@_endpoint
async def put_chunk(request: Request) -> Response:
    """PUT /api/v1/uploads/{id}/chunks?offset=N with the chunk's bytes as the body."""
    user_id, upload_id = _user(request), _upload_id(request)
    raw_offset = request.query_params.get("offset", "")
    # ASCII digits only: str.isdigit() also passes "²" and "①", which int() refuses, and int()
    # reads other scripts' digits ("٣").
    if not _OFFSET.fullmatch(raw_offset):
        return _error(400, "offset (a number of bytes) is required")
    settings = get_settings()
    try:
        received = await upload_receiving.receive_chunk(
            sessions=db_session,
            storage=storage(),
            owner_id=user_id,
            upload_id=upload_id,
            offset=int(raw_offset),
            body=_within_deadline(request),
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


@_endpoint
async def complete(request: Request) -> Response:
    """POST /api/v1/uploads/{id}/complete {"on_collision"?} → the upload with its outcome.

    Without `on_collision`, the choice the upload holds applies (the person's decision, or
    their default setting when the upload began).
    """
    user_id, upload_id = _user(request), _upload_id(request)
    body = await _json_body(request, optional=True)
    choice = _collision_choice(body)
    settings = get_settings()

    def finish() -> UploadProgress:
        with owner_session(user_id) as (session, owner):
            return upload_completion.complete_upload(
                session=session,
                storage=storage(),
                owner=owner,
                upload_id=upload_id,
                on_collision=choice,
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
    except (UploadNotFound, StorageUnavailable, NoSuchUser):
        raise
    except Exception:
        # The chunks are kept: completing again retries.
        log.exception("completing upload %s failed", upload_id)
        return _error(500, "it could not be stored, please try again")
    return _json(_outcome(result))


@_endpoint
async def cancel(request: Request) -> Response:
    """DELETE /api/v1/uploads/{id} → 204; its chunks are removed."""
    user_id, upload_id = _user(request), _upload_id(request)

    def remove() -> bool:
        with db_session() as session:
            return upload_receiving.cancel_upload(
                session=session, storage=storage(), owner_id=user_id, upload_id=upload_id
            )

    if not await asyncio.to_thread(remove):
        return _error(404, "no such upload")
    return Response(status_code=204, headers=_NO_STORE)


def upload_routes() -> list[Route]:
    """The chunked-upload routes."""
    return [
        Route(PREFIX, begin, methods=["POST"]),
        Route(PREFIX, unfinished, methods=["GET"]),
        Route(f"{PREFIX}/{{upload_id}}", status, methods=["GET"]),
        Route(f"{PREFIX}/{{upload_id}}", cancel, methods=["DELETE"]),
        Route(f"{PREFIX}/{{upload_id}}/chunks", put_chunk, methods=["PUT"]),
        Route(f"{PREFIX}/{{upload_id}}/complete", complete, methods=["POST"]),
    ]
