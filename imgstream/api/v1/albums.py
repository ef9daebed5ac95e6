"""/api/v1/albums and /api/v1/shares: the caller's albums and share links."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from imgstream.api.v1.callers import Organiser, Sharer
from imgstream.api.v1.photos import MAX_LIMIT, PhotoPage, parse_cursor, photo_out
from imgstream.api.v1.problems import NO_STORE, ProblemError, problems
from imgstream.config import get_settings
from imgstream.models import as_utc
from imgstream.runtime import db_session
from imgstream.services import albums, shares

router = APIRouter(tags=["albums"])
_PROBLEMS = problems(400, 401, 403, 404, 422, 429)


class AlbumOut(BaseModel):
    """An album of the caller's."""

    id: uuid.UUID
    name: str
    description: str
    photo_count: int
    cover_photo_id: uuid.UUID | None
    first_taken_at: datetime | None
    last_taken_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AlbumList(BaseModel):
    """The caller's albums, newest first."""

    albums: list[AlbumOut]


class AlbumIn(BaseModel):
    """A new album."""

    name: str = Field(min_length=1, max_length=albums.MAX_NAME_LENGTH)
    description: str = Field(default="", max_length=albums.MAX_DESCRIPTION_LENGTH)


class AlbumChange(BaseModel):
    """What to change of an album (absent fields stay)."""

    name: str | None = Field(default=None, min_length=1, max_length=albums.MAX_NAME_LENGTH)
    description: str | None = Field(default=None, max_length=albums.MAX_DESCRIPTION_LENGTH)
    cover_photo_id: uuid.UUID | None = Field(
        default=None, description="A photo of the album to use as its cover.")


class PhotoIds(BaseModel):
    """Some of the caller's photos."""

    photo_ids: list[uuid.UUID] = Field(min_length=1, max_length=shares.MAX_SELECTION)


class Changed(BaseModel):
    """How many photos a change concerned."""

    count: int


class ShareOut(BaseModel):
    """A share link of the caller's (the URL only when it can still be shown)."""

    id: uuid.UUID
    title: str
    album_id: uuid.UUID | None
    status: str = Field(description="active, expired or revoked.")
    photo_count: int
    url: str | None = Field(description="/s/{token}; none once revoked.")
    created_at: datetime
    expires_at: datetime | None
    allow_download: bool
    show_location: bool
    password: bool
    view_count: int
    last_viewed_at: datetime | None


class ShareList(BaseModel):
    """The caller's share links, newest first, revoked ones included."""

    shares: list[ShareOut]


class ShareIn(BaseModel):
    """A new share link: an album, or a selection of photos."""

    album_id: uuid.UUID | None = None
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=shares.MAX_SELECTION)
    title: str = Field(default="", max_length=200)
    expires: shares.Expiry = shares.Expiry.NEVER
    expires_on: date | None = Field(default=None, description="With `expires: date`: the last "
                                    "day (UTC) the link works.")
    password: str = Field(default="", max_length=shares.MAX_PASSWORD_LENGTH)
    allow_download: bool = True
    show_location: bool = False


def _album_out(summary: albums.AlbumSummary) -> AlbumOut:
    album = summary.album
    return AlbumOut(
        id=album.id, name=album.name, description=album.description,
        photo_count=summary.photo_count, cover_photo_id=summary.cover.id if summary.cover
        else None,
        first_taken_at=as_utc(summary.first_taken_at) if summary.first_taken_at else None,
        last_taken_at=as_utc(summary.last_taken_at) if summary.last_taken_at else None,
        created_at=as_utc(album.created_at), updated_at=as_utc(album.updated_at))


def _one_album(session, owner_id: uuid.UUID, album_id: uuid.UUID) -> AlbumOut:  # noqa: ANN001
    album = albums.get_album(session=session, owner_id=owner_id, album_id=album_id)
    if album is None:
        raise ProblemError(404, "no such album")
    return _album_out(albums.summarise(session=session, albums=[album])[0])


@router.get("/albums", response_model=AlbumList, summary="List albums", responses=_PROBLEMS)
async def list_albums(caller: Organiser) -> AlbumList:
    """The caller's albums with count, cover and dates."""

    def read() -> AlbumList:
        with db_session() as session:
            return AlbumList(albums=[_album_out(summary) for summary in albums.list_albums(
                session=session, owner_id=caller.user_id)])

    return await asyncio.to_thread(read)


@router.post("/albums", status_code=201, response_model=AlbumOut, summary="Make an album",
             responses=_PROBLEMS)
async def create_album(request: AlbumIn, caller: Organiser) -> AlbumOut:
    """Make an album."""

    def make() -> AlbumOut:
        with db_session() as session:
            try:
                album = albums.create_album(session=session, owner_id=caller.user_id,
                                            name=request.name, description=request.description)
            except albums.InvalidAlbumName as invalid:
                raise ProblemError(400, str(invalid)) from None
            return _one_album(session, caller.user_id, album.id)

    return await asyncio.to_thread(make)


@router.get("/albums/{album_id}", response_model=AlbumOut, summary="An album",
            responses=_PROBLEMS)
async def get_album(album_id: uuid.UUID, caller: Organiser) -> AlbumOut:
    """One of the caller's albums."""

    def read() -> AlbumOut:
        with db_session() as session:
            return _one_album(session, caller.user_id, album_id)

    return await asyncio.to_thread(read)


@router.patch("/albums/{album_id}", response_model=AlbumOut, summary="Change an album",
              responses=_PROBLEMS)
async def update_album(album_id: uuid.UUID, request: AlbumChange, caller: Organiser) -> AlbumOut:
    """Rename, describe, or choose the cover of an album."""

    def change() -> AlbumOut:
        with db_session() as session:
            try:
                album = albums.update_album(session=session, owner_id=caller.user_id,
                                            album_id=album_id, name=request.name,
                                            description=request.description)
            except albums.InvalidAlbumName as invalid:
                raise ProblemError(400, str(invalid)) from None
            if album is None:
                raise ProblemError(404, "no such album")
            if request.cover_photo_id is not None and not albums.set_cover(
                    session=session, owner_id=caller.user_id, album_id=album_id,
                    photo_id=request.cover_photo_id):
                raise ProblemError(400, "the cover must be a photo of the album")
            return _one_album(session, caller.user_id, album_id)

    return await asyncio.to_thread(change)


@router.delete("/albums/{album_id}", status_code=204, response_class=Response,
               summary="Delete an album", responses=_PROBLEMS)
async def delete_album(album_id: uuid.UUID, caller: Organiser) -> Response:
    """Delete an album; its photos stay in the library."""

    def delete() -> bool:
        with db_session() as session:
            return albums.delete_album(session=session, owner_id=caller.user_id,
                                       album_id=album_id)

    if not await asyncio.to_thread(delete):
        raise ProblemError(404, "no such album")
    return Response(status_code=204, headers=NO_STORE)


@router.get("/albums/{album_id}/photos", response_model=PhotoPage, summary="An album's photos",
            responses=_PROBLEMS)
async def album_photos(
    album_id: uuid.UUID, caller: Organiser,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 60,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PhotoPage:
    """The album's photos, newest taken first."""
    after = parse_cursor(cursor)

    def read() -> PhotoPage:
        with db_session() as session:
            page = albums.album_page(session=session, owner_id=caller.user_id,
                                     album_id=album_id, limit=limit, after=after)
            if page is None:
                raise ProblemError(404, "no such album")
            return PhotoPage(photos=[photo_out(photo) for photo in page.photos],
                             next_cursor=page.next_cursor.encode() if page.next_cursor else None)

    return await asyncio.to_thread(read)


@router.post("/albums/{album_id}/photos", response_model=Changed, summary="Add photos",
             responses=_PROBLEMS)
async def add_photos(album_id: uuid.UUID, request: PhotoIds, caller: Organiser) -> Changed:
    """Add photos (the caller's, not in the trash, not yet in the album)."""

    def add() -> Changed:
        with db_session() as session:
            if albums.get_album(session=session, owner_id=caller.user_id,
                                album_id=album_id) is None:
                raise ProblemError(404, "no such album")
            return Changed(count=albums.add_photos(session=session, owner_id=caller.user_id,
                                                   album_id=album_id,
                                                   photo_ids=request.photo_ids))

    return await asyncio.to_thread(add)


@router.post("/albums/{album_id}/photos/remove", response_model=Changed,
             summary="Remove photos", responses=_PROBLEMS)
async def remove_photos(album_id: uuid.UUID, request: PhotoIds, caller: Organiser) -> Changed:
    """Take photos out of the album (they stay in the library)."""

    def remove() -> Changed:
        with db_session() as session:
            if albums.get_album(session=session, owner_id=caller.user_id,
                                album_id=album_id) is None:
                raise ProblemError(404, "no such album")
            return Changed(count=albums.remove_photos(session=session, owner_id=caller.user_id,
                                                      album_id=album_id,
                                                      photo_ids=request.photo_ids))

    return await asyncio.to_thread(remove)


def _share_out(summary: shares.ShareSummary, secret: bytes) -> ShareOut:
    share = summary.share
    token = None if summary.status is shares.ShareStatus.REVOKED else shares.reveal_token(
        secret=secret, share=share)
    return ShareOut(
        id=share.id, title=share.title, album_id=share.album_id, status=summary.status.value,
        photo_count=summary.photo_count, url=f"/s/{token}" if token else None,
        created_at=as_utc(share.created_at),
        expires_at=as_utc(share.expires_at) if share.expires_at else None,
        allow_download=share.allow_download, show_location=share.show_location,
        password=bool(share.password_hash), view_count=share.view_count,
        last_viewed_at=as_utc(share.last_viewed_at) if share.last_viewed_at else None)


def _shares(owner_id: uuid.UUID) -> list[ShareOut]:
    secret = get_settings().signing_key()
    with db_session() as session:
        return [_share_out(summary, secret)
                for summary in shares.list_shares(session=session, owner_id=owner_id)]


@router.get("/shares", response_model=ShareList, summary="List share links", tags=["shares"],
            responses=_PROBLEMS)
async def list_shares(caller: Sharer) -> ShareList:
    """The caller's links with status, views and (unless revoked) URL."""
    return ShareList(shares=await asyncio.to_thread(_shares, caller.user_id))


@router.post("/shares", status_code=201, response_model=ShareOut, summary="Make a share link",
             tags=["shares"], responses=_PROBLEMS)
async def create_share(request: ShareIn, caller: Sharer) -> ShareOut:
    """Share an album or a selection of photos with people who have no account."""

    def make() -> uuid.UUID:
        with db_session() as session:
            try:
                expires = shares.expiry_moment(request.expires, on=request.expires_on)
                made = shares.create_share(
                    session=session, secret=get_settings().signing_key(),
                    owner_id=caller.user_id, album_id=request.album_id,
                    photo_ids=request.photo_ids, expires_at=expires,
                    password=request.password, allow_download=request.allow_download,
                    show_location=request.show_location, title=request.title)
            except shares.InvalidShare as invalid:
                raise ProblemError(400, str(invalid)) from None
            return made.share.id

    made_id = await asyncio.to_thread(make)
    return next(share for share in await asyncio.to_thread(_shares, caller.user_id)
                if share.id == made_id)


@router.delete("/shares/{share_id}", status_code=204, response_class=Response,
               summary="Revoke a share link", tags=["shares"], responses=_PROBLEMS)
async def revoke_share(share_id: uuid.UUID, caller: Sharer) -> Response:
    """Revoke a link; it stops working at the next request."""

    def revoke() -> bool:
        with db_session() as session:
            return shares.revoke_share(session=session, owner_id=caller.user_id,
                                       share_id=share_id)

    if not await asyncio.to_thread(revoke):
        raise ProblemError(404, "no such share link")
    return Response(status_code=204, headers=NO_STORE)
