"""/api/v1/photos and /api/v1/timeline: the caller's photos, their images, trash and restore.

Lists page with an opaque cursor (`next_cursor`, passed back as `cursor`). Images answer 302 to
a signed, expiring URL (the same URLs the pages use). Photos in the trash are read with
`?trashed=true` and by id; they leave the list and the timeline.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from imgstream import presentation
from imgstream.api.v1.callers import Reader, Writer
from imgstream.api.v1.problems import NO_STORE, ProblemError, problems
from imgstream.models import Photo, RenditionKind, as_utc
from imgstream.runtime import db_session, storage
from imgstream.services import (
    photo_edits,
    photo_urls,
    renditions,
    search,
    similar_photos,
    timeline,
    trash,
)
from imgstream.services.timeline import PageCursor

router = APIRouter(tags=["photos"])
MAX_LIMIT = 500
_READ = problems(401, 403, 404, 422, 429)


class Exposure(BaseModel):
    """How the photo was exposed, as its EXIF says."""

    focal_length_mm: float | None = None
    f_number: float | None = None
    exposure_time_s: float | None = None
    iso: int | None = None


class Location(BaseModel):
    """Where the photo was taken (WGS 84 degrees)."""

    latitude: float
    longitude: float


class PhotoOut(BaseModel):
    """A photo of the caller's library."""

    id: uuid.UUID
    filename: str
    title: str
    description: str
    favorite: bool
    format: str
    mime: str
    size_bytes: int
    width: int
    height: int
    taken_at: datetime = Field(description="When it was taken, with the UTC offset of where "
                               "it was taken when known (else UTC).")
    taken_at_offset_minutes: int | None
    taken_at_source: str
    camera_make: str | None
    camera_model: str | None
    lens: str | None
    exposure: Exposure
    location: Location | None
    uploaded_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(description="When it was moved to the trash.")
    thumbhash: str | None


class PhotoPage(BaseModel):
    """A page of photos and the cursor of the next page (None at the end)."""

    photos: list[PhotoOut]
    next_cursor: str | None


class MonthOut(BaseModel):
    """A month of the timeline."""

    month: str = Field(description="YYYY-MM, as the clock showed where the photos were taken.")
    count: int
    days: int


class TimelineBuckets(BaseModel):
    """Every month of the caller's timeline with its photos, newest first."""

    buckets: list[MonthOut]


class MonthPhotos(BaseModel):
    """The photos of one month, in timeline order."""

    month: str
    photos: list[PhotoOut]


def photo_out(photo: Photo) -> PhotoOut:
    """A photo row as the API shows it."""
    local = presentation.taken_at_local(photo)
    return PhotoOut(
        id=photo.id, filename=photo.filename, title=photo.title, description=photo.description,
        favorite=photo.favorite, format=photo.format, mime=photo.mime,
        size_bytes=photo.size_bytes, width=photo.width, height=photo.height,
        taken_at=local if local.tzinfo else as_utc(photo.taken_at),
        taken_at_offset_minutes=photo.taken_at_offset_minutes,
        taken_at_source=photo.taken_at_source, camera_make=photo.camera_make,
        camera_model=photo.camera_model, lens=photo.lens,
        exposure=Exposure(focal_length_mm=photo.focal_length_mm, f_number=photo.f_number,
                          exposure_time_s=photo.exposure_time_s, iso=photo.iso),
        location=Location(latitude=photo.gps_latitude, longitude=photo.gps_longitude)
        if photo.gps_latitude is not None and photo.gps_longitude is not None else None,
        uploaded_at=as_utc(photo.uploaded_at), updated_at=as_utc(photo.updated_at),
        deleted_at=as_utc(photo.deleted_at) if photo.deleted_at else None,
        thumbhash=photo.thumbhash,
    )


def parse_cursor(raw: str | None) -> PageCursor | None:
    """The cursor a client passed back.

    Raises:
        ProblemError: 400 for a cursor this API did not give.
    """
    if raw is None:
        return None
    cursor = PageCursor.decode(raw)
    if cursor is None:
        raise ProblemError(400, "the cursor is not one this API gave")
    return cursor


def find_photo(session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> Photo:  # noqa: ANN001
    """The caller's photo, in the library or the trash.

    Raises:
        ProblemError: 404 when there is none (or it is someone else's).
    """
    photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=photo_id) or \
        trash.trashed_photo(session=session, owner_id=owner_id, photo_id=photo_id)
    if photo is None:
        raise ProblemError(404, "no such photo")
    return photo


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Photos per page.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.",
                                     max_length=200)]


@router.get("/photos", response_model=PhotoPage, summary="List and search photos",
            responses={**_READ, **problems(400)})
async def list_photos(
    caller: Reader, limit: Limit = 60, cursor: Cursor = None, trashed: bool = False,
    q: Annotated[str, Query(max_length=search.MAX_QUERY_LENGTH,
                            description="Words in the name, title, description, camera or "
                            "lens, as the search page takes them.")] = "",
    taken_from: Annotated[date | None, Query(description="Taken on or after (local date).")]
    = None,
    taken_to: Annotated[date | None, Query(description="Taken on or before (local date).")]
    = None,
    favorites: Annotated[bool, Query(description="Only favourites.")] = False,
    camera: Annotated[str | None, Query(max_length=200)] = None,
    format: Annotated[str | None, Query(max_length=16, description="JPEG, HEIC, ...")] = None,
) -> PhotoPage:
    """The caller's photos, newest taken first, with the search page's words and filters.

    With `trashed=true`: the trash, most recently trashed first.
    """
    after = parse_cursor(cursor)
    filters = search.SearchFilters(taken_from=taken_from, taken_to=taken_to,
                                   favorites_only=favorites, camera=camera or None,
                                   format=format or None)

    def read() -> PhotoPage:
        with db_session() as session:
            if trashed:
                page = trash.trash_page(session=session, owner_id=caller.user_id, limit=limit,
                                        after=after)
                photos, next_cursor = page.photos, page.next_cursor
            else:
                try:
                    found = search.search_photos(session=session, owner_id=caller.user_id,
                                                 query=q, filters=filters, limit=limit,
                                                 after=after)
                except search.SearchError as refused:
                    raise ProblemError(400, str(refused)) from None
                photos, next_cursor = found.photos, found.next_cursor
            return PhotoPage(photos=[photo_out(photo) for photo in photos],
                             next_cursor=next_cursor.encode() if next_cursor else None)

    return await asyncio.to_thread(read)


class PhotoChange(BaseModel):
    """What to change of a photo; absent fields stay as they are."""

    title: str | None = Field(default=None, max_length=photo_edits.MAX_TITLE_LENGTH)
    description: str | None = Field(default=None,
                                    max_length=photo_edits.MAX_DESCRIPTION_LENGTH)
    favorite: bool | None = None
    taken_at: datetime | None = Field(
        default=None, description="When it was taken, as the clock showed where it was "
        "taken; with a UTC offset (2024-07-14T18:30:00+02:00) that offset is kept, without "
        "one the photo's own offset applies.")


@router.patch("/photos/{photo_id}", response_model=PhotoOut, summary="Change a photo",
              responses={**_READ, **problems(400, 409)})
async def change_photo(photo_id: uuid.UUID, request: PhotoChange, caller: Writer) -> PhotoOut:
    """Change the title, description, favourite or date taken; all or nothing."""
    moment = request.taken_at
    offset = None
    if moment is not None and moment.tzinfo is not None:
        delta = moment.utcoffset() or timedelta(0)
        offset = int(delta.total_seconds() // 60)
        if delta.total_seconds() % 60:
            raise ProblemError(400, "the UTC offset must be a whole number of minutes")
        moment = moment.replace(tzinfo=None)
    changes = photo_edits.PhotoChanges(title=request.title, description=request.description,
                                       favorite=request.favorite, taken_at_local=moment,
                                       taken_at_offset_minutes=offset)

    def change() -> PhotoOut:
        with db_session() as session:
            try:
                photo = photo_edits.edit_photo(session=session, owner_id=caller.user_id,
                                               photo_id=photo_id, changes=changes)
            except photo_edits.PhotoNotFound:
                find_photo(session, caller.user_id, photo_id)
                raise ProblemError(409, "a photo in the trash cannot be changed; restore it "
                                   "first") from None
            except photo_edits.PhotoEditError as refused:
                raise ProblemError(400, str(refused)) from None
            return photo_out(photo)

    return await asyncio.to_thread(change)


@router.get("/photos/{photo_id}", response_model=PhotoOut, summary="A photo", responses=_READ)
async def get_photo(photo_id: uuid.UUID, caller: Reader) -> PhotoOut:
    """One of the caller's photos, in the library or the trash."""

    def read() -> PhotoOut:
        with db_session() as session:
            return photo_out(find_photo(session, caller.user_id, photo_id))

    return await asyncio.to_thread(read)


class SimilarOut(BaseModel):
    """A photo that looks like another, and how far apart their perceptual hashes are."""

    photo: PhotoOut
    distance: int = Field(description="Bits (of 64) the hashes differ in.")


class SimilarList(BaseModel):
    """Near-duplicates of a photo, closest first."""

    similar: list[SimilarOut]


@router.get("/photos/{photo_id}/similar", response_model=SimilarList,
            summary="Similar photos", responses=_READ)
async def similar(photo_id: uuid.UUID, caller: Reader) -> SimilarList:
    """The caller's other photos that look like this one (near-duplicates)."""

    def read() -> SimilarList:
        with db_session() as session:
            photo = find_photo(session, caller.user_id, photo_id)
            found = similar_photos.similar_to_photo(session=session, owner_id=caller.user_id,
                                                    photo=photo)
        return SimilarList(similar=[SimilarOut(photo=photo_out(s.photo), distance=s.distance)
                                    for s in found])

    return await asyncio.to_thread(read)


ImageKind = Literal["original", "preview", "thumbnail"]


@router.get("/photos/{photo_id}/{kind}", status_code=302, response_class=RedirectResponse,
            summary="A photo's image", responses={
                302: {"description": "Redirect to a signed, expiring URL of the image."},
                **_READ, **problems(503)})
async def photo_image(photo_id: uuid.UUID, kind: ImageKind, caller: Reader) -> Response:
    """Redirects to a signed URL of the original (as a download), the preview or thumbnail."""

    def url() -> str:
        with db_session() as session:
            photo = find_photo(session, caller.user_id, photo_id)
            if kind == "original":
                return photo_urls.download_url(storage=storage(), photo=photo)
            wanted = RenditionKind.THUMB if kind == "thumbnail" else RenditionKind.PREVIEW
            row = renditions.renditions_of(session=session, photo_ids=[photo.id]).get(
                (photo.id, wanted))
        shown = (photo_urls.thumbnail if kind == "thumbnail" else photo_urls.preview)(
            storage=storage(), photo=photo, rendition=row)
        return shown.url

    target = await asyncio.to_thread(url)
    if not target:
        raise ProblemError(503, "the image cannot be signed right now; try again in a minute")
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.post("/photos/{photo_id}/trash", response_model=PhotoOut, summary="Move to the trash",
             responses=_READ)
async def trash_photo(photo_id: uuid.UUID, caller: Writer) -> PhotoOut:
    """Move a photo to the trash (again: no change); it leaves the timeline."""

    def move() -> PhotoOut:
        with db_session() as session:
            find_photo(session, caller.user_id, photo_id)
            trash.move_to_trash(session=session, owner_id=caller.user_id, photo_id=photo_id)
            return photo_out(find_photo(session, caller.user_id, photo_id))

    return await asyncio.to_thread(move)


@router.post("/photos/{photo_id}/restore", response_model=PhotoOut, summary="Restore",
             responses=_READ)
async def restore_photo(photo_id: uuid.UUID, caller: Writer) -> PhotoOut:
    """Take a photo out of the trash (under `name (1).jpg` when its name was taken)."""

    def restore() -> PhotoOut:
        with db_session() as session:
            photo = find_photo(session, caller.user_id, photo_id)
            if photo.deleted_at is not None:
                photo = trash.restore_photo(session=session, owner_id=caller.user_id,
                                            photo_id=photo_id) or photo
            return photo_out(find_photo(session, caller.user_id, photo_id))

    return await asyncio.to_thread(restore)


@router.delete("/photos/{photo_id}", status_code=204, response_class=Response,
               summary="Delete forever", responses={**_READ, **problems(409)})
async def delete_photo(photo_id: uuid.UUID, caller: Writer) -> Response:
    """Delete a photo of the trash forever (a photo must be trashed first: 409 otherwise)."""

    def purge() -> None:
        with db_session() as session:
            photo = find_photo(session, caller.user_id, photo_id)
            if photo.deleted_at is None:
                raise ProblemError(409, "only a photo in the trash can be deleted forever; "
                                   "move it to the trash first")
            trash.delete_forever(session=session, storage=storage(), owner_id=caller.user_id,
                                 photo_id=photo_id)

    await asyncio.to_thread(purge)
    return Response(status_code=204, headers=NO_STORE)


@router.get("/timeline/buckets", response_model=TimelineBuckets, summary="Timeline months",
            tags=["timeline"], responses=problems(401, 403, 429))
async def timeline_buckets(caller: Reader) -> TimelineBuckets:
    """Every month with photos, newest first, with its photo and day counts."""

    def read() -> TimelineBuckets:
        with db_session() as session:
            buckets = timeline.month_buckets(session=session, owner_id=caller.user_id)
        return TimelineBuckets(buckets=[MonthOut(month=b.month, count=b.count, days=b.days)
                                        for b in buckets])

    return await asyncio.to_thread(read)


@router.get("/timeline/buckets/{month}", response_model=MonthPhotos, summary="A month's photos",
            tags=["timeline"], responses=_READ)
async def timeline_month(month: str, caller: Reader) -> MonthPhotos:
    """The photos of one month (YYYY-MM), newest day first."""
    if not is_month(month):
        raise ProblemError(404, "no such month (YYYY-MM)")

    def read() -> MonthPhotos:
        with db_session() as session:
            photos = timeline.month_photos(session=session, owner_id=caller.user_id,
                                           month=month)
        return MonthPhotos(month=month, photos=[photo_out(photo) for photo in photos])

    return await asyncio.to_thread(read)


def is_month(month: str) -> bool:
    """Whether a string is a month as the timeline names them (YYYY-MM)."""
    return len(month) == 7 and month[4] == "-" and month[:4].isascii() and \
        month[:4].isdigit() and month[5:].isascii() and month[5:].isdigit() and \
        1 <= int(month[5:]) <= 12
