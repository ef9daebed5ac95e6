"""GET /media/{key}: photo bytes under signed, expiring URLs."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from imgstream.api.identity import SCOPE_USER
from imgstream.config import get_settings
from imgstream.runtime import storage
from imgstream.services import media_urls
from imgstream.services.media_urls import content_disposition
from imgstream.services.storage import LocalStorage, ObjectMissing, check_key, content_type_for


async def serve_media(request: Request) -> Response:
    """Stream one stored object if its URL is correctly signed and not expired."""
    key = request.path_params["key"]
    download_name = request.query_params.get("dl", "")
    try:
        check_key(key)
        if key.split("/")[1] != str(request.scope.get(SCOPE_USER)):
            # Someone else's photo (or nobody signed in): as if it did not exist.
            raise ObjectMissing(key)
        media_urls.verify(
            secret=get_settings().signing_key(),
            key=key,
            expires=request.query_params.get("exp", ""),
            signature=request.query_params.get("sig", ""),
            download_name=download_name,
        )
    except ObjectMissing:
        return PlainTextResponse("not found", status_code=404)
    except media_urls.InvalidSignature:
        return PlainTextResponse("this link is invalid or has expired", status_code=403)
    expires = int(request.query_params["exp"])
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": f"private, max-age={max(0, expires - int(time.time()))}, immutable",
    }
    if download_name:
        headers["Content-Disposition"] = content_disposition(download_name)
    media_type = content_type_for(key)
    store = storage()
    if isinstance(store, LocalStorage):
        path = store.path_of(key)
        if not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, media_type=media_type, headers=headers)
    try:
        handle = store.open(key)
    except ObjectMissing:
        return PlainTextResponse("not found", status_code=404)

    def chunks():
        with handle:
            while block := handle.read(256 * 1024):
                yield block

    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def media_routes() -> list[Route]:
    """The signed media route."""
    return [Route("/media/{key:path}", serve_media, methods=["GET", "HEAD"])]
