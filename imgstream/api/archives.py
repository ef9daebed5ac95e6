"""POST /archive: the signed-in person's selected photos as one streamed ZIP download."""

from __future__ import annotations

import asyncio
import uuid

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from imgstream.api.identity import SCOPE_USER, foreign_request
from imgstream.models import utcnow
from imgstream.runtime import db_session, storage
from imgstream.services import photo_archives
from imgstream.services.media_urls import content_disposition

MAX_FORM_BYTES = 1024 * 1024
"""The ids of MAX_ARCHIVE_PHOTOS photos, with room to spare."""


async def download_archive(request: Request) -> Response:
    """Stream the ZIP of the photos named in the form field `ids` (comma-separated).

    Only the signed-in person's photos that are not in the trash go in; anything else named is
    left out. The browser saves the response as a file, so the page that posted stays open.
    """
    owner_id = request.scope.get(SCOPE_USER)
    if not isinstance(owner_id, uuid.UUID):
        return PlainTextResponse("Sign in to download photos.", status_code=401)
    if foreign_request(request):
        return PlainTextResponse("Requests from another site are refused.", status_code=403)
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return PlainTextResponse("Too many photos for one download.", status_code=413)
    form = await request.form(max_part_size=MAX_FORM_BYTES)
    photo_ids = photo_archives.parse_ids(str(form.get("ids", "")).split(","))

    def entries() -> list[photo_archives.ArchiveEntry]:
        with db_session() as session:
            return photo_archives.archive_entries(
                session=session, owner_id=owner_id, photo_ids=photo_ids)

    try:
        chosen = await asyncio.to_thread(entries)
    except photo_archives.ArchiveTooBig as exc:
        return PlainTextResponse(f"Too big for one download: {exc}.", status_code=413)
    if not chosen:
        return PlainTextResponse("None of these photos can be downloaded.", status_code=404)
    archive = photo_archives.build_archive(storage=storage(), entries=chosen)
    headers = {
        "Content-Disposition": content_disposition(
            photo_archives.download_filename(len(chosen), today=utcnow())),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if archive.sized:
        headers["Content-Length"] = str(len(archive))
    return StreamingResponse(iter(archive), media_type="application/zip", headers=headers)


def archive_routes() -> list[Route]:
    """The selection download route."""
    return [Route("/archive", download_archive, methods=["POST"])]
