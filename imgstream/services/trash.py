"""The trash: photos out of the library but still stored, restored or deleted forever."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imgstream.models import Photo, Rendition, User, as_utc, utcnow
from imgstream.services.collisions import free_name
from imgstream.services.filenames import collision_key
from imgstream.services.renditions import blob_sizes, photo_blobs
from imgstream.services.storage import Storage
from imgstream.services.timeline import PageCursor, keyset_page

# A name taken by a parallel restore or upload between lookup and update is looked up again
# this often.
NAME_ATTEMPTS = 50
MAX_BATCH = 5000
"""Most photos one selection moves to or from the trash at once."""


def move_to_trash(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> bool:
    """Put one of the owner's photos in the trash.

    It leaves the timeline and its name is released (a new upload of that name is not a
    collision); its objects stay, and keep counting toward the quota, until it is purged.
    Trashing twice, or someone else's photo, is a no-op.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_id: The photo.

    Returns:
        Whether a photo was moved to the trash.
    """
    now = utcnow()
    moved = session.execute(
        sa.update(Photo)
        .where(Photo.id == photo_id, Photo.owner_id == owner_id, Photo.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now, name_key=None)
    )
    session.commit()
    return moved.rowcount == 1


def move_many_to_trash(
    *, session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Put a selection of the owner's photos in the trash at once (see move_to_trash).

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_ids: The photos; at most MAX_BATCH, ids not in the library are ignored.

    Returns:
        The ids of the photos moved (what an undo restores).
    """
    ids = list(dict.fromkeys(photo_ids))[:MAX_BATCH]
    if not ids:
        return []
    moving = list(session.exec(
        select(Photo.id).where(Photo.id.in_(ids), Photo.owner_id == owner_id,
                               Photo.deleted_at.is_(None))
    ).all())
    if not moving:
        return []
    now = utcnow()
    session.execute(
        sa.update(Photo)
        .where(Photo.id.in_(moving), Photo.owner_id == owner_id,
               Photo.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now, name_key=None)
    )
    session.commit()
    return moving


def restore_many(
    *, session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> int:
    """Take a selection out of the trash (an undo), each as restore_photo does; how many."""
    return sum(
        restore_photo(session=session, owner_id=owner_id, photo_id=photo_id) is not None
        for photo_id in list(dict.fromkeys(photo_ids))[:MAX_BATCH]
    )


def restore_photo(
    *, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID
) -> Photo | None:
    """Take one of the owner's photos out of the trash, under its name if that is still free.

    When a photo of the library has taken the name meanwhile, the restored photo becomes
    `name (1).jpg` (the first free number). The unique (owner, name key) constraint decides
    between parallel restores and uploads; the loser looks for a free name again.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_id: The photo in the trash.

    Returns:
        The restored photo, or None when it is not in the owner's trash.
    """
    for _attempt in range(NAME_ATTEMPTS):
        photo = trashed_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return None
        name = free_name(session=session, owner_id=owner_id, name=photo.filename)
        try:
            restored = session.execute(
                sa.update(Photo)
                .where(Photo.id == photo_id, Photo.owner_id == owner_id,
                       Photo.deleted_at.is_not(None))
                .values(deleted_at=None, updated_at=utcnow(), filename=name,
                        name_key=collision_key(name))
            )
            session.commit()
        except IntegrityError:
            # Another photo took the name first: the next free one is looked up again.
            session.rollback()
            continue
        if restored.rowcount != 1:
            return None
        session.refresh(photo)
        return photo
    raise RuntimeError(f"no free name to restore photo {photo_id}")


def trashed_photo(
    *, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID
) -> Photo | None:
    """The owner's photo with this id if it is in the trash; None otherwise."""
    return session.exec(
        select(Photo).where(
            Photo.id == photo_id, Photo.owner_id == owner_id, Photo.deleted_at.is_not(None)
        )
    ).first()


@dataclass(frozen=True, slots=True)
class TrashPage:
    """One page of the trash, most recently trashed first."""

    photos: list[Photo]
    next_cursor: PageCursor | None


def trash_page(
    *, session: Session, owner_id: uuid.UUID, limit: int, after: PageCursor | None = None
) -> TrashPage:
    """A page of the owner's photos in the trash, newest deleted first (keyset pagination).

    Args:
        session: Database session.
        owner_id: Whose trash.
        limit: Page size.
        after: Continue after this cursor; None for the first page.

    Returns:
        The page, with the cursor of the next one when there is more.
    """
    query = select(Photo).where(Photo.owner_id == owner_id, Photo.deleted_at.is_not(None))
    return TrashPage(*keyset_page(session, query, Photo.deleted_at, limit, after))


def trash_expiry(photo: Photo, *, days: int) -> datetime:
    """When a photo in the trash is removed for good."""
    return as_utc(photo.deleted_at or utcnow()) + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class TrashUsage:
    """What is in someone's trash: photos, and the bytes deleting them forever gives back."""

    photo_count: int
    bytes: int


def trash_usage(*, session: Session, owner_id: uuid.UUID) -> TrashUsage:
    """How many photos the owner's trash holds and the storage they take."""
    trashed = session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.deleted_at.is_not(None))
    ).all()
    renditions: dict[uuid.UUID, list[Rendition]] = {}
    for rendition in _renditions_of_trash(session, owner_id):
        renditions.setdefault(rendition.photo_id, []).append(rendition)
    total = sum(
        sum(blob_sizes(photo, renditions.get(photo.id, [])).values()) for photo in trashed
    )
    return TrashUsage(len(trashed), total)


def _renditions_of_trash(session: Session, owner_id: uuid.UUID) -> list[Rendition]:
    return list(session.exec(
        select(Rendition).join(Photo, Photo.id == Rendition.photo_id).where(
            Photo.owner_id == owner_id, Photo.deleted_at.is_not(None)
        )
    ))


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What deleting photos forever did."""

    photos: int
    freed_bytes: int


def delete_forever(
    *, session: Session, storage: Storage, owner_id: uuid.UUID, photo_id: uuid.UUID
) -> PurgeResult:
    """Delete one photo of the owner's trash forever: its objects, then its rows.

    Only a photo in the trash can be deleted forever; anything else (a photo in the library,
    someone else's, one already gone) is a no-op.

    Args:
        session: Database session.
        storage: Where photo bytes live.
        owner_id: The signed-in user.
        photo_id: The photo in the trash.

    Returns:
        One photo and the bytes given back, or nothing.
    """
    photo = _claim_for_purge(session, owner_id, photo_id)
    if photo is None:
        return PurgeResult(0, 0)
    return PurgeResult(1, purge_photo(session=session, storage=storage, photo=photo))


def _claim_for_purge(session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> Photo | None:
    # Writing the row first holds its lock (PostgreSQL) or the database's write lock (SQLite)
    # until the purge commits, so a restore cannot bring it back while its objects go.
    claimed = session.execute(
        sa.update(Photo)
        .where(Photo.id == photo_id, Photo.owner_id == owner_id, Photo.deleted_at.is_not(None))
        .values(updated_at=utcnow())
    )
    if claimed.rowcount != 1:
        session.rollback()
        return None
    return session.get(Photo, photo_id, populate_existing=True)


def empty_trash(*, session: Session, storage: Storage, owner_id: uuid.UUID) -> PurgeResult:
    """Delete every photo in the owner's trash forever.

    Args:
        session: Database session.
        storage: Where photo bytes live.
        owner_id: The signed-in user.

    Returns:
        How many photos were deleted and the bytes given back.
    """
    ids = session.exec(
        select(Photo.id).where(Photo.owner_id == owner_id, Photo.deleted_at.is_not(None))
    ).all()
    return _purge_each(session, storage, [(owner_id, photo_id) for photo_id in ids])


def expired_trash(
    *, session: Session, days: int, now: datetime | None = None
) -> list[Photo]:
    """Every user's photos that have been in the trash for more than `days` days."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return list(session.exec(
        select(Photo).where(Photo.deleted_at.is_not(None), Photo.deleted_at < cutoff)
        .order_by(Photo.deleted_at)
    ))


def empty_expired_trash(
    *, session: Session, storage: Storage, days: int, now: datetime | None = None
) -> PurgeResult:
    """Delete forever, for every user, the photos in the trash for more than `days` days.

    Args:
        session: Database session.
        storage: Where photo bytes live.
        days: How long a photo stays in the trash.
        now: The current time (for tests).

    Returns:
        How many photos were deleted and the bytes given back.
    """
    expired = expired_trash(session=session, days=days, now=now)
    return _purge_each(session, storage, [(photo.owner_id, photo.id) for photo in expired])


def _purge_each(
    session: Session, storage: Storage, targets: list[tuple[uuid.UUID, uuid.UUID]]
) -> PurgeResult:
    count = freed = 0
    for owner_id, photo_id in targets:
        # One transaction per photo: the database is not held while many objects go.
        result = delete_forever(session=session, storage=storage, owner_id=owner_id,
                                photo_id=photo_id)
        count += result.photos
        freed += result.freed_bytes
    return PurgeResult(count, freed)


def purge_photo(*, session: Session, storage: Storage, photo: Photo) -> int:
    """Remove a photo's objects, then its rendition rows and its row, and give back its bytes.

    The original goes first: a crash part-way leaves a row whose original is missing, which
    the reconcile pass reports and finishes removing.

    Args:
        session: Database session the photo was loaded in.
        storage: Where photo bytes live.
        photo: The photo.

    Returns:
        The bytes given back.
    """
    blobs = photo_blobs(session=session, storage=storage, photo=photo)
    for key in blobs:
        storage.delete(key)
    session.execute(sa.delete(Rendition).where(Rendition.photo_id == photo.id))
    session.delete(photo)
    freed = sum(blobs.values())
    session.execute(
        sa.update(User)
        .where(User.id == photo.owner_id)
        .values(used_bytes=sa.case((User.used_bytes > freed, User.used_bytes - freed), else_=0))
    )
    session.commit()
    return freed

