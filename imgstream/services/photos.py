"""Photos in a library: ingest, timeline, detail. Used by the upload page, the API and the CLI."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imgstream.models import Photo, User, utcnow
from imgstream.services import imaging
from imgstream.services.storage import Storage
from imgstream.services.uploads import IncomingFile, format_bytes

log = logging.getLogger(__name__)


class IngestStatus(StrEnum):
    """What became of an uploaded file."""

    ADDED = "added"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of ingesting one file, with a message for a person."""

    status: IngestStatus
    message: str
    photo_id: uuid.UUID | None = None


def original_key(owner_id: uuid.UUID, photo_id: uuid.UUID, extension: str) -> str:
    """Storage key of a photo's original bytes."""
    return f"photos/{owner_id}/{photo_id}.{extension}"


def extension_of(photo: Photo) -> str:
    """The file extension of a photo's stored original, from its sniffed format."""
    return imaging.format_named(photo.format).extension


def thumbnail_key(owner_id: uuid.UUID, photo_id: uuid.UUID) -> str:
    """Storage key of a photo's thumbnail."""
    return f"thumbnails/{owner_id}/{photo_id}_thumb.webp"


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as aware UTC (SQLite hands them back naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def ingest(
    *,
    session: Session,
    storage: Storage,
    owner: User,
    upload: IncomingFile,
    sha256: str,
    thumbnail_size: int,
    max_pixels: int,
) -> IngestResult:
    """Turn a received file into a photo in the owner's library, or say why not.

    Nothing of a refused file is kept: no blob, no row. The temporary file is removed either way.

    Args:
        session: Database session.
        storage: Where photo bytes go.
        owner: The signed-in user.
        upload: The received file (closed).
        sha256: Hex digest of its bytes.
        thumbnail_size: Longest thumbnail edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        The outcome.
    """
    try:
        if upload.size == 0:
            return IngestResult(IngestStatus.REJECTED, "empty file")
        try:
            analysis = imaging.analyse(
                upload.path, thumbnail_size=thumbnail_size, max_pixels=max_pixels
            )
        except imaging.UnsupportedImage as exc:
            return IngestResult(IngestStatus.REJECTED, f"not a supported image: {exc}")
        existing = _photo_with_sha256(session, owner.id, sha256)
        if existing is not None:
            return IngestResult(
                IngestStatus.DUPLICATE,
                f"already in your library as {existing.filename}",
                existing.id,
            )
        return _store(session, storage, owner, upload, sha256, analysis)
    finally:
        upload.discard()


def _photo_with_sha256(session: Session, owner_id: uuid.UUID, sha256: str) -> Photo | None:
    return session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.sha256 == sha256)
    ).first()


def _store(
    session: Session,
    storage: Storage,
    owner: User,
    upload: IncomingFile,
    sha256: str,
    analysis: imaging.ImageAnalysis,
) -> IngestResult:
    photo_id = uuid.uuid4()
    now = utcnow()
    taken = analysis.taken_at
    photo = Photo(
        id=photo_id,
        owner_id=owner.id,
        filename=upload.filename,
        sha256=sha256,
        format=analysis.format.name,
        mime=analysis.format.mime,
        size_bytes=upload.size,
        width=analysis.width,
        height=analysis.height,
        taken_at=taken.utc if taken else now,
        taken_at_offset_minutes=taken.offset_minutes if taken else None,
        taken_at_source=taken.source if taken else "upload_time",
        uploaded_at=now,
        updated_at=now,
    )
    written: list[str] = []
    try:
        key = original_key(owner.id, photo_id, analysis.format.extension)
        storage.put_file(key, upload.path)
        written.append(key)
        key = thumbnail_key(owner.id, photo_id)
        storage.put_bytes(key, analysis.thumbnail_webp)
        written.append(key)
        session.add(photo)
        session.execute(
            sa.update(User)
            .where(User.id == owner.id)
            .values(used_bytes=User.used_bytes + upload.size + len(analysis.thumbnail_webp))
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        _remove(storage, written)
        existing = _photo_with_sha256(session, owner.id, sha256)
        name = existing.filename if existing else "another photo"
        return IngestResult(
            IngestStatus.DUPLICATE,
            f"already in your library as {name}",
            existing.id if existing else None,
        )
    except BaseException:
        session.rollback()
        _remove(storage, written)
        raise
    return IngestResult(IngestStatus.ADDED, "added", photo_id)


def delete_photo(
    *, session: Session, storage: Storage, owner_id: uuid.UUID, photo_id: uuid.UUID
) -> bool:
    """Delete one of the owner's photos: its row, its original and its renditions.

    The row is marked deleted first (it disappears from the timeline at once), then the blobs
    are removed, then the row; a crash in between leaves a marked row the reconcile pass
    finishes. Deleting twice, or someone else's photo, is a no-op.

    Args:
        session: Database session.
        storage: Where photo bytes live.
        owner_id: The signed-in user.
        photo_id: The photo.

    Returns:
        Whether a photo was deleted.
    """
    photo = get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
    if photo is None:
        return False
    photo.deleted_at = utcnow()
    session.commit()
    keys = [original_key(owner_id, photo_id, extension_of(photo)),
            thumbnail_key(owner_id, photo_id)]
    freed = photo.size_bytes + sum(storage.size(key) for key in keys[1:])
    for key in keys:
        storage.delete(key)
    session.delete(photo)
    session.execute(
        sa.update(User)
        .where(User.id == owner_id)
        .values(used_bytes=sa.case((User.used_bytes > freed, User.used_bytes - freed), else_=0))
    )
    session.commit()
    return True


def _remove(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # the reconcile pass removes what could not be removed now
            log.exception("could not remove %s after a failed ingest", key)


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """Where the next timeline page starts: after this (taken_at, id)."""

    taken_at: datetime
    photo_id: uuid.UUID

    def encode(self) -> str:
        """An opaque string for the client."""
        raw = json.dumps([as_utc(self.taken_at).isoformat(), str(self.photo_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> TimelineCursor | None:
        """Parse a cursor string; None for anything malformed."""
        try:
            taken, pid = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(datetime.fromisoformat(taken), uuid.UUID(pid))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of the timeline, newest date taken first."""

    photos: list[Photo]
    next_cursor: TimelineCursor | None


def timeline_page(
    *, session: Session, owner_id: uuid.UUID, limit: int, after: TimelineCursor | None = None
) -> TimelinePage:
    """A page of the owner's photos by date taken, newest first (keyset pagination).

    Args:
        session: Database session.
        owner_id: Whose library.
        limit: Page size.
        after: Continue after this cursor; None for the first page.

    Returns:
        The page, with the cursor of the next one when there is more.
    """
    query = select(Photo).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None))
    if after is not None:
        query = query.where(
            sa.or_(
                Photo.taken_at < after.taken_at,
                sa.and_(Photo.taken_at == after.taken_at, Photo.id < after.photo_id),
            )
        )
    query = query.order_by(Photo.taken_at.desc(), Photo.id.desc()).limit(limit + 1)
    rows = list(session.exec(query))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = TimelineCursor(rows[-1].taken_at, rows[-1].id) if more else None
    return TimelinePage(rows, cursor)


def get_photo(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> Photo | None:
    """The owner's photo with this id; None when missing or someone else's."""
    return session.exec(
        select(Photo).where(
            Photo.id == photo_id, Photo.owner_id == owner_id, Photo.deleted_at.is_(None)
        )
    ).first()


def parse_photo_id(raw: str) -> uuid.UUID | None:
    """A photo id from a URL or request; None if it is not one."""
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None


def taken_at_local(photo: Photo) -> datetime:
    """When the photo was taken, as the clock showed where it was taken."""
    moment = as_utc(photo.taken_at)
    if photo.taken_at_offset_minutes is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(timezone(timedelta(minutes=photo.taken_at_offset_minutes)))


def describe_size(photo: Photo) -> str:
    """The file size for people."""
    return format_bytes(photo.size_bytes)


@dataclass(frozen=True, slots=True)
class LibraryUsage:
    """How much of their storage a user has used."""

    photo_count: int
    used_bytes: int
    quota_bytes: int


def library_usage(*, session: Session, owner: User) -> LibraryUsage:
    """Photo count and storage used against quota."""
    count = session.exec(
        select(sa.func.count()).select_from(Photo).where(
            Photo.owner_id == owner.id, Photo.deleted_at.is_(None)
        )
    ).one()
    return LibraryUsage(int(count), owner.used_bytes, owner.quota_bytes)
