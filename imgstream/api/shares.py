"""/s/{token}: what a share link shows to a visitor without an account.

Plain server-rendered routes (HTML, media, ZIP), no Reflex socket. The identity middleware lets
`/s/*` through without sign-in and without any identity, so these routes grant exactly what the
link shares: every request names its token, and every photo id or media key is checked against
the photos of that link.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from zipstream import ZIP_STORED, ZipStream

from imgstream import presentation
from imgstream.api import share_pages
from imgstream.config import Profile, get_settings
from imgstream.models import Photo, RenditionKind, ShareLink
from imgstream.runtime import db_session, storage
from imgstream.services import media_urls, object_keys, renditions, shared_originals, shares
from imgstream.services.media_urls import content_disposition
from imgstream.services.photo_archives import archive_name
from imgstream.services.storage import LocalStorage, ObjectMissing, check_key, content_type_for
from imgstream.services.timeline import parse_photo_id

log = logging.getLogger(__name__)

PAGE_SIZE = 120
MAX_ZIP_BYTES = 20 * 1000**3
MAX_ZIP_PHOTOS = shares.MAX_SELECTION
THROTTLE = shares.PasswordThrottle()


@dataclass(frozen=True, slots=True)
class _Shared:
    """A working link, and the photos it shows with their display keys."""

    share: ShareLink
    token: str
    photos: list[Photo]
    thumbs: dict[uuid.UUID, str]
    previews: dict[uuid.UUID, str]


def _nonce() -> str:
    return secrets.token_urlsafe(16)


def _headers(nonce: str | None = None) -> dict[str, str]:
    headers = {
        # The token is in the URL: it must not leave in a Referer to the media host.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
    }
    if nonce is not None:
        headers["Cache-Control"] = "no-store"
        headers["Content-Security-Policy"] = (
            f"default-src 'none'; img-src 'self' data: https: http:; "
            f"style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        )
        headers["X-Frame-Options"] = "DENY"
    return headers


def _message(status: int, heading: str, text: str, testid: str) -> HTMLResponse:
    nonce = _nonce()
    return HTMLResponse(
        share_pages.message_page(heading=heading, text=text, testid=testid, nonce=nonce),
        status_code=status, headers=_headers(nonce),
    )


def _not_found() -> HTMLResponse:
    return _message(404, "This link does not work",
                    "It may have been mistyped, or its owner stopped sharing it.",
                    "share-not-found")


def _gone() -> HTMLResponse:
    return _message(410, "This link has expired",
                    "Its owner shared these photos for a limited time, and that time is over. "
                    "Ask them for a new link.", "share-expired")


def _load(token: str, *, with_photos: bool = True,
          photo_id: uuid.UUID | None = None) -> _Shared:
    with db_session() as session:
        share = shares.open_share(session=session, token=token)
        if photo_id is not None:
            one = shares.shared_photo(session=session, share=share, photo_id=photo_id)
            photos = [one] if one is not None else []
        elif with_photos:
            photos = shares.shared_photos(session=session, share=share)
        else:
            photos = []
        rows = renditions.renditions_of(session=session, photo_ids=[p.id for p in photos])
    thumbs = {p.id: renditions.thumbnail_of(p, rows.get((p.id, RenditionKind.THUMB)))
              for p in photos}
    previews = {p.id: renditions.preview_of(p, rows.get((p.id, RenditionKind.PREVIEW)))
                for p in photos}
    return _Shared(share, token, photos, thumbs, previews)


async def _open(
    request: Request, *, with_photos: bool = True, photo_id: uuid.UUID | None = None
) -> _Shared | Response:
    """The link of the request, or the page that says why there is none.

    Args:
        request: The visitor's request.
        with_photos: Load every photo of the link (pages and the ZIP).
        photo_id: Load only this photo, if the link shows it (media and downloads).
    """
    token = request.path_params["token"]
    if len(token) > 128:
        return _not_found()
    try:
        return await asyncio.to_thread(_load, token, with_photos=with_photos,
                                       photo_id=photo_id)
    except shares.ShareNotFound:
        return _not_found()
    except shares.ShareExpired:
        return _gone()


def _unlocked(request: Request, share: ShareLink) -> bool:
    return shares.has_access(secret=get_settings().signing_key(), share=share,
                             cookie=request.cookies.get(shares.ACCESS_COOKIE, ""))


def _base(token: str) -> str:
    return f"/s/{token}"


def _is_original(shared: _Shared, photo: Photo) -> bool:
    return shared.previews[photo.id] == object_keys.original_of(photo)


def _media_url(shared: _Shared, key: str) -> str:
    """A signed, expiring URL of a thumbnail or preview for this link's visitors."""
    store = storage()
    url = store.url_for(key)
    if isinstance(store, LocalStorage):
        # The app's own /media route serves signed-in owners; visitors get the same signed
        # path under their link, where the key is checked against the link's photos.
        return _base(shared.token) + url[url.index("/media/"):]
    return url


def _image_url(shared: _Shared, photo: Photo) -> str:
    if _is_original(shared, photo) and not shared.share.show_location:
        return f"{_base(shared.token)}/p/{photo.id}/image"
    return _media_url(shared, shared.previews[photo.id])


def _client(request: Request) -> str:
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    if get_settings().env is not Profile.DEVELOPMENT and len(forwarded) >= 2:
        # Google's load balancer appends "<client>, <load balancer>" to what the client sent.
        return forwarded[-2]
    return request.client.host if request.client else "unknown"


async def share_home(request: Request) -> Response:
    """GET /s/{token}: the shared photos as a grid (or the password form)."""
    shared = await _open(request)
    if not isinstance(shared, _Shared):
        return shared
    nonce = _nonce()
    if not _unlocked(request, shared.share):
        return HTMLResponse(share_pages.password_page(
            action=f"{_base(shared.token)}/unlock", error="", nonce=nonce),
            status_code=401, headers=_headers(nonce))
    try:
        page = max(0, int(request.query_params.get("page", "0")))
    except ValueError:
        page = 0
    on_page = shared.photos[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    base = _base(shared.token)
    items = [share_pages.GridItem(f"{base}/p/{p.id}", _media_url(shared, shared.thumbs[p.id]),
                                  p.filename, "") for p in on_page]
    count = len(shared.photos)
    subtitle = "1 photo" if count == 1 else f"{count} photos"
    if count:
        first = presentation.taken_at_local(shared.photos[0]).strftime("%-d %b %Y")
        last = presentation.taken_at_local(shared.photos[-1]).strftime("%-d %b %Y")
        subtitle += f" · {first}" + (f" – {last}" if last != first else "")
    await asyncio.to_thread(_record_view, shared.share.id)
    html = share_pages.grid_page(
        title=shared.share.title, subtitle=subtitle, items=items, nonce=nonce,
        zip_url=f"{base}/download.zip" if shared.share.allow_download and count else None,
        previous_url=f"{base}?page={page - 1}" if page > 0 else None,
        next_url=f"{base}?page={page + 1}" if (page + 1) * PAGE_SIZE < count else None,
    )
    return HTMLResponse(html, headers=_headers(nonce))


def _record_view(share_id: uuid.UUID) -> None:
    with db_session() as session:
        shares.record_view(session=session, share_id=share_id)


async def share_unlock(request: Request) -> Response:
    """POST /s/{token}/unlock: check a password; a right one earns this link's cookie."""
    shared = await _open(request, with_photos=False)
    if not isinstance(shared, _Shared):
        return shared
    base = _base(shared.token)
    share = shared.share
    link, client = str(share.id), _client(request)
    wait = THROTTLE.retry_after(link=link, client=client)
    if wait:
        response = _message(429, "Too many wrong passwords",
                            f"Try again in {max(1, round(wait / 60))} minutes.",
                            "share-too-many")
        response.headers["Retry-After"] = str(wait)
        return response
    form = await request.form()
    password = str(form.get("password", ""))
    right = await asyncio.to_thread(shares.check_password, share=share, password=password)
    if not right:
        THROTTLE.failed(link=link, client=client)
        nonce = _nonce()
        return HTMLResponse(share_pages.password_page(
            action=f"{base}/unlock", error="That password is not right.", nonce=nonce),
            status_code=401, headers=_headers(nonce))
    response = RedirectResponse(base, status_code=303, headers=_headers())
    response.set_cookie(
        shares.ACCESS_COOKIE,
        shares.access_cookie(secret=get_settings().signing_key(), share=share),
        max_age=shares.ACCESS_COOKIE_SECONDS, path=base, httponly=True, samesite="lax",
        secure=get_settings().env is not Profile.DEVELOPMENT,
    )
    return response


def _requested_photo(request: Request) -> uuid.UUID:
    # An id that is not one still opens the link (so a bad id answers like a missing photo).
    return parse_photo_id(request.path_params["photo_id"]) or uuid.UUID(int=0)


def _photo_of(shared: _Shared, raw_id: str) -> tuple[int, Photo] | None:
    photo_id = parse_photo_id(raw_id)
    for index, photo in enumerate(shared.photos):
        if photo.id == photo_id:
            return index, photo
    return None


def _details(photo: Photo, show_location: bool) -> list[tuple[str, str]]:
    taken = presentation.taken_at_local(photo).strftime("%-d %B %Y, %H:%M")
    rows = [("Taken", taken), ("Size", f"{photo.width} × {photo.height}, "
                                      f"{presentation.describe_size(photo)}")]
    for label, value in (("Camera", presentation.camera_label(photo)), ("Lens", photo.lens or ""),
                         ("Exposure", presentation.exposure_label(photo))):
        if value:
            rows.append((label, value))
    if show_location and presentation.location_label(photo):
        rows.append(("Location", presentation.location_label(photo)))
    return rows


async def share_photo(request: Request) -> Response:
    """GET /s/{token}/p/{photo_id}: one shared photo, with previous and next."""
    shared = await _open(request)
    if not isinstance(shared, _Shared):
        return shared
    if not _unlocked(request, shared.share):
        return RedirectResponse(_base(shared.token), status_code=303, headers=_headers())
    found = _photo_of(shared, request.path_params["photo_id"])
    if found is None:
        return _not_found()
    index, photo = found
    base = _base(shared.token)
    photos = shared.photos
    nonce = _nonce()
    html = share_pages.viewer_page(
        title=shared.share.title, nonce=nonce, back_url=base,
        position=f"{index + 1} of {len(photos)}",
        previous_url=f"{base}/p/{photos[index - 1].id}" if index > 0 else None,
        next_url=f"{base}/p/{photos[index + 1].id}" if index + 1 < len(photos) else None,
        photo=share_pages.ViewerPhoto(
            filename=photo.filename, image_url=_image_url(shared, photo), width=photo.width,
            height=photo.height, placeholder="",
            details=_details(photo, shared.share.show_location),
            download_url=f"{base}/p/{photo.id}/download" if shared.share.allow_download
            else None,
        ),
    )
    return HTMLResponse(html, headers=_headers(nonce))


@dataclass(frozen=True, slots=True)
class _SharedFile:
    """The bytes a visitor gets for a photo's original, and the name to save them under."""

    key: str
    name: str
    rewrite: bool


def _shared_file(shared: _Shared, photo: Photo) -> _SharedFile:
    original = object_keys.original_of(photo)
    if shared.share.show_location:
        return _SharedFile(original, photo.filename, False)
    if not shared_originals.can_rewrite(photo.format):
        # A format whose metadata cannot be rewritten in place: the visitor gets the preview,
        # which carries no metadata.
        preview = shared.previews[photo.id]
        stem = photo.filename.rsplit(".", 1)[0]
        return _SharedFile(preview, f"{stem}.{preview.rsplit('.', 1)[-1]}", False)
    return _SharedFile(original, photo.filename, True)


def _read_file(shared_file: _SharedFile, photo: Photo) -> bytes:
    with storage().open(shared_file.key) as handle:
        data = handle.read()
    return shared_originals.without_location(data, photo.format) if shared_file.rewrite else data


def _stream(key: str) -> Iterator[bytes]:
    with storage().open(key) as handle:
        while block := handle.read(256 * 1024):
            yield block


async def _file_response(shared: _Shared, photo: Photo, *, attachment: bool) -> Response:
    shared_file = _shared_file(shared, photo)
    headers = {**_headers(), "Cache-Control": "private, no-store"}
    if attachment:
        headers["Content-Disposition"] = content_disposition(shared_file.name)
    media_type = content_type_for(shared_file.key)
    try:
        if shared_file.rewrite:
            data = await asyncio.to_thread(_read_file, shared_file, photo)
            return Response(data, media_type=media_type, headers=headers)
        store = storage()
        if isinstance(store, LocalStorage):
            path = store.path_of(shared_file.key)
            if not path.is_file():
                raise ObjectMissing(shared_file.key)
            return FileResponse(path, media_type=media_type, headers=headers)
        if not await asyncio.to_thread(store.exists, shared_file.key):
            raise ObjectMissing(shared_file.key)
        return StreamingResponse(_stream(shared_file.key), media_type=media_type,
                                 headers=headers)
    except ObjectMissing:
        return _not_found()


async def share_download(request: Request) -> Response:
    """GET /s/{token}/p/{photo_id}/download: the original, when the link allows downloads."""
    shared = await _open(request, photo_id=_requested_photo(request))
    if not isinstance(shared, _Shared):
        return shared
    found = _photo_of(shared, request.path_params["photo_id"])
    if not _unlocked(request, shared.share) or found is None or not shared.share.allow_download:
        return _not_found()
    return await _file_response(shared, found[1], attachment=True)


async def share_image(request: Request) -> Response:
    """GET /s/{token}/p/{photo_id}/image: a small original shown as its own preview."""
    shared = await _open(request, photo_id=_requested_photo(request))
    if not isinstance(shared, _Shared):
        return shared
    found = _photo_of(shared, request.path_params["photo_id"])
    if not _unlocked(request, shared.share) or found is None or not _is_original(
            shared, found[1]):
        return _not_found()
    return await _file_response(shared, found[1], attachment=False)


async def share_media(request: Request) -> Response:
    """GET /s/{token}/media/{key}: a thumbnail or preview of this link under a signed URL."""
    key = request.path_params["key"]
    named = _KEY_PHOTO.match(key)
    shared = await _open(request, photo_id=parse_photo_id(named.group(1)) if named else None,
                         with_photos=False)
    if not isinstance(shared, _Shared):
        return shared
    # Thumbnails and previews of this link's photos; an original standing in for its preview
    # only when the link shows locations (else it goes through share_image, rewritten).
    allowed = set(shared.thumbs.values()) | {
        shared.previews[photo.id] for photo in shared.photos
        if shared.share.show_location or not _is_original(shared, photo)
    }
    if not _unlocked(request, shared.share) or key not in allowed:
        return _not_found()
    try:
        check_key(key)
        media_urls.verify(secret=get_settings().signing_key(), key=key,
                          expires=request.query_params.get("exp", ""),
                          signature=request.query_params.get("sig", ""))
    except ObjectMissing:
        return _not_found()
    except media_urls.InvalidSignature:
        return _message(403, "This image link has expired", "Reload the page.", "share-stale")
    store = storage()
    if not isinstance(store, LocalStorage):
        return _not_found()
    path = store.path_of(key)
    if not path.is_file():
        return _not_found()
    expires = int(request.query_params["exp"])
    return FileResponse(path, media_type=content_type_for(key), headers={
        **_headers(), "Cache-Control": f"private, max-age={max(0, expires - int(time.time()))}"})


_KEY_PHOTO = re.compile(r"^[a-z]+/[0-9a-f-]{36}/([0-9a-f-]{36})")


def _zip_of(shared: _Shared) -> ZipStream:
    archive = ZipStream(compress_type=ZIP_STORED, sized=False)
    taken: set[str] = set()
    for photo in shared.photos:
        shared_file = _shared_file(shared, photo)
        name = archive_name(shared_file.name, taken)
        if shared_file.rewrite:
            archive.add(_rewritten(shared_file, photo), name)
        else:
            archive.add(_stream(shared_file.key), name)
    return archive


def _rewritten(shared_file: _SharedFile, photo: Photo) -> Iterator[bytes]:
    # Read when the archive reaches this photo, so only one original is in memory at a time.
    yield _read_file(shared_file, photo)


async def share_zip(request: Request) -> Response:
    """GET /s/{token}/download.zip: every shared photo in one streamed ZIP (ZIP64 when big)."""
    shared = await _open(request)
    if not isinstance(shared, _Shared):
        return shared
    if not _unlocked(request, shared.share) or not shared.share.allow_download:
        return _not_found()
    if not shared.photos:
        return _not_found()
    too_many = len(shared.photos) > MAX_ZIP_PHOTOS
    if too_many or sum(photo.size_bytes for photo in shared.photos) > MAX_ZIP_BYTES:
        return _message(413, "Too big for one download",
                        "Download the photos one by one, or ask for smaller links.",
                        "share-too-big")
    archive = _zip_of(shared)
    name = archive_name(f"{shared.share.title or 'photos'}.zip", set())
    headers = {**_headers(), "Content-Disposition": content_disposition(name),
               "Cache-Control": "private, no-store"}
    return StreamingResponse(iter(archive), media_type="application/zip", headers=headers)


async def share_nothing(request: Request) -> Response:
    """Anything else under /s/: as if it did not exist."""
    return _not_found()


def share_routes() -> list[Route]:
    """The visitor's routes of share links."""
    return [
        Route("/s/{token}", share_home, methods=["GET", "HEAD"]),
        Route("/s/{token}/unlock", share_unlock, methods=["POST"]),
        Route("/s/{token}/p/{photo_id}", share_photo, methods=["GET", "HEAD"]),
        Route("/s/{token}/p/{photo_id}/download", share_download, methods=["GET", "HEAD"]),
        Route("/s/{token}/p/{photo_id}/image", share_image, methods=["GET", "HEAD"]),
        Route("/s/{token}/download.zip", share_zip, methods=["GET", "HEAD"]),
        Route("/s/{token}/media/{key:path}", share_media, methods=["GET", "HEAD"]),
        Route("/s/{rest:path}", share_nothing),
        Route("/s", share_nothing),
    ]
