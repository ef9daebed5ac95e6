"""Albums: named sets of someone's photos, with a cover, a count and a date range.

A photo may be in many albums. A photo in the trash stays in its albums but is left out of every
album view, count and cover, so it comes back with restore; deleting it forever removes it from
its albums (the database cascades).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Album, AlbumPhoto, Photo, as_utc, utcnow
from imgstream.services.timeline import PageCursor, keyset_page

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000


class InvalidAlbumName(ValueError):
    """An album name that is empty or too long."""


@dataclass(frozen=True, slots=True)
class AlbumSummary:
    """What a list of albums shows of one album."""

    album: Album
    photo_count: int
    cover: Photo | None
    first_taken_at: datetime | None
    last_taken_at: datetime | None


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidAlbumName("An album needs a name.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidAlbumName(f"An album name has at most {MAX_NAME_LENGTH} characters.")
    return cleaned


def create_album(
    *, session: Session, owner_id: uuid.UUID, name: str, description: str = ""
) -> Album:
    """Create an empty album.

    Args:
        session: Database session.
        owner_id: Whose album.
        name: Its name (whitespace collapsed).
        description: An optional description.

    Returns:
        The new album.

    Raises:
        InvalidAlbumName: When the name is empty or too long.
    """
    album = Album(owner_id=owner_id, name=_clean_name(name),
                  description=description.strip()[:MAX_DESCRIPTION_LENGTH])
    session.add(album)
    session.commit()
    return album


def get_album(*, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID) -> Album | None:
    """The owner's album with this id; None when missing or someone else's."""
    return session.exec(
        select(Album).where(Album.id == album_id, Album.owner_id == owner_id)
    ).first()


def update_album(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID,
    name: str | None = None, description: str | None = None,
) -> Album | None:
    """Rename an album or change its description.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        album_id: The album.
        name: The new name, or None to keep it.
        description: The new description, or None to keep it.

    Returns:
        The album, or None when it is not the owner's.

    Raises:
        InvalidAlbumName: When the new name is empty or too long.
    """
    album = get_album(session=session, owner_id=owner_id, album_id=album_id)
    if album is None:
        return None
    if name is not None:
        album.name = _clean_name(name)
    if description is not None:
        album.description = description.strip()[:MAX_DESCRIPTION_LENGTH]
    album.updated_at = utcnow()
    session.add(album)
    session.commit()
    return album


def delete_album(*, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID) -> bool:
    """Delete an album; its photos stay in the library, its share links stop working.

    Returns:
        Whether an album was deleted.
    """
    deleted = session.execute(
        sa.delete(Album).where(Album.id == album_id, Album.owner_id == owner_id)
    )
    session.commit()
    return deleted.rowcount == 1


def _owned_photo_ids(
    session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    if not photo_ids:
        return []
    return list(session.exec(
        select(Photo.id).where(Photo.owner_id == owner_id, Photo.id.in_(set(photo_ids)),
                               Photo.deleted_at.is_(None))
    ))


def add_photos(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> int:
    """Add some of the owner's photos to one of their albums.

    Ids of photos that are someone else's, in the trash or already in the album are skipped.

    Returns:
        How many photos were added (0 when the album is not the owner's).
    """
    if get_album(session=session, owner_id=owner_id, album_id=album_id) is None:
        return 0
    wanted = _owned_photo_ids(session, owner_id, photo_ids)
    present = set(session.exec(
        select(AlbumPhoto.photo_id).where(AlbumPhoto.album_id == album_id,
                                          AlbumPhoto.photo_id.in_(wanted))
    )) if wanted else set()
    new = [photo_id for photo_id in wanted if photo_id not in present]
    now = utcnow()
    for photo_id in new:
        session.add(AlbumPhoto(album_id=album_id, photo_id=photo_id, added_at=now))
    session.execute(sa.update(Album).where(Album.id == album_id).values(updated_at=now))
    session.commit()
    return len(new)


def remove_photos(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> int:
    """Take photos out of one of the owner's albums (they stay in the library).

    Returns:
        How many photos were removed.
    """
    album = get_album(session=session, owner_id=owner_id, album_id=album_id)
    if album is None or not photo_ids:
        return 0
    removed = session.execute(
        sa.delete(AlbumPhoto).where(AlbumPhoto.album_id == album_id,
                                    AlbumPhoto.photo_id.in_(set(photo_ids)))
    )
    if album.cover_photo_id in set(photo_ids):
        album.cover_photo_id = None
    album.updated_at = utcnow()
    session.add(album)
    session.commit()
    return removed.rowcount


def set_cover(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID, photo_id: uuid.UUID | None
) -> bool:
    """Choose an album's cover; None goes back to the newest photo.

    Returns:
        Whether the cover was set (the photo must be in the album).
    """
    album = get_album(session=session, owner_id=owner_id, album_id=album_id)
    if album is None:
        return False
    if photo_id is not None and session.get(AlbumPhoto, (album_id, photo_id)) is None:
        return False
    album.cover_photo_id = photo_id
    album.updated_at = utcnow()
    session.add(album)
    session.commit()
    return True


def list_albums(*, session: Session, owner_id: uuid.UUID) -> list[AlbumSummary]:
    """The owner's albums, most recently changed first, with cover, count and date range."""
    albums = list(session.exec(
        select(Album).where(Album.owner_id == owner_id)
        .order_by(Album.updated_at.desc(), Album.id)
    ))
    return summarise(session=session, albums=albums)


def summarise(*, session: Session, albums: list[Album]) -> list[AlbumSummary]:
    """Count, date range and cover of some albums, in three queries whatever their number."""
    if not albums:
        return []
    ids = [album.id for album in albums]
    stats = {
        row[0]: row[1:]
        for row in session.execute(
            select(AlbumPhoto.album_id, sa.func.count(), sa.func.min(Photo.taken_at),
                   sa.func.max(Photo.taken_at))
            .join(Photo, Photo.id == AlbumPhoto.photo_id)
            .where(AlbumPhoto.album_id.in_(ids), Photo.deleted_at.is_(None))
            .group_by(AlbumPhoto.album_id)
        )
    }
    newest = (
        select(AlbumPhoto.album_id, Photo.id,
               sa.func.row_number().over(
                   partition_by=AlbumPhoto.album_id,
                   order_by=(Photo.taken_at.desc(), Photo.id.desc())).label("rank"))
        .join(Photo, Photo.id == AlbumPhoto.photo_id)
        .where(AlbumPhoto.album_id.in_(ids), Photo.deleted_at.is_(None))
        .subquery()
    )
    cover_ids = {row[0]: row[1] for row in session.execute(
        select(newest.c.album_id, newest.c.id).where(newest.c.rank == 1))}
    chosen = {album.id: album.cover_photo_id for album in albums if album.cover_photo_id}
    visible_chosen = set(session.exec(
        select(AlbumPhoto.photo_id).join(Photo, Photo.id == AlbumPhoto.photo_id)
        .where(AlbumPhoto.album_id.in_(list(chosen)),
               AlbumPhoto.photo_id.in_(list(chosen.values())), Photo.deleted_at.is_(None))
    )) if chosen else set()
    for album_id, photo_id in chosen.items():
        if photo_id in visible_chosen:
            cover_ids[album_id] = photo_id
    covers = {photo.id: photo for photo in session.exec(
        select(Photo).where(Photo.id.in_(list(cover_ids.values())))
    )} if cover_ids else {}
    summaries = []
    for album in albums:
        count, first, last = stats.get(album.id, (0, None, None))
        summaries.append(AlbumSummary(
            album=album, photo_count=count, cover=covers.get(cover_ids.get(album.id)),
            first_taken_at=as_utc(first) if first else None,
            last_taken_at=as_utc(last) if last else None,
        ))
    return summaries


@dataclass(frozen=True, slots=True)
class AlbumPage:
    """One page of an album's photos, newest date taken first."""

    photos: list[Photo]
    next_cursor: PageCursor | None


def album_page(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID, limit: int,
    after: PageCursor | None = None,
) -> AlbumPage | None:
    """A page of the photos in one of the owner's albums, by date taken (keyset pagination).

    Returns:
        The page, or None when the album is not the owner's.
    """
    if get_album(session=session, owner_id=owner_id, album_id=album_id) is None:
        return None
    query = (
        select(Photo).join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id)
        .where(AlbumPhoto.album_id == album_id, Photo.owner_id == owner_id,
               Photo.deleted_at.is_(None))
    )
    return AlbumPage(*keyset_page(session, query, Photo.taken_at, limit, after))


def neighbours(
    *, session: Session, owner_id: uuid.UUID, album_id: uuid.UUID, photo: Photo
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The photos before and after one in the album as its page shows it: (newer, older).

    The album page is ordered newest date taken first, like `album_page`; None at either end.
    """
    base = (
        sa.select(Photo.id).join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id)
        .where(AlbumPhoto.album_id == album_id, Photo.owner_id == owner_id,
               Photo.deleted_at.is_(None))
    )
    key = sa.tuple_(Photo.taken_at, Photo.id)
    here = sa.tuple_(sa.literal(photo.taken_at, Photo.taken_at.type), sa.literal(photo.id))
    older = session.execute(
        base.where(key < here).order_by(Photo.taken_at.desc(), Photo.id.desc()).limit(1))
    newer = session.execute(
        base.where(key > here).order_by(Photo.taken_at, Photo.id).limit(1))
    return newer.scalar(), older.scalar()


def album_photos(*, session: Session, album: Album) -> list[Photo]:
    """Every photo of an album that is not in the trash, by date taken, oldest first."""
    return list(session.exec(
        select(Photo).join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id)
        .where(AlbumPhoto.album_id == album.id, Photo.owner_id == album.owner_id,
               Photo.deleted_at.is_(None))
        .order_by(Photo.taken_at, Photo.id)
    ))


def albums_of_photo(
    *, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID
) -> list[Album]:
    """The owner's albums a photo is in, by name."""
    return list(session.exec(
        select(Album).join(AlbumPhoto, AlbumPhoto.album_id == Album.id)
        .where(AlbumPhoto.photo_id == photo_id, Album.owner_id == owner_id)
        .order_by(Album.name)
    ))
