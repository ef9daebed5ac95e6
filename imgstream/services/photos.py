"""Photos in a library: ingest, timeline, detail. Used by the upload page, the API and the CLI."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imgstream.models import CollisionEvent, Photo, Rendition, RenditionKind, User, utcnow
from imgstream.services import imaging
from imgstream.services.storage import ObjectExists, ObjectMissing, Storage
from imgstream.services.uploads import (
    IncomingFile,
    collision_key,
    format_bytes,
    numbered_name,
)

log = logging.getLogger(__name__)


# A name taken by a parallel upload between lookup and insert is looked up again this often.
NAME_ATTEMPTS = 50


class IngestStatus(StrEnum):
    """What became of an uploaded file."""

    ADDED = "added"
    REPLACED = "replaced"
    KEPT_BOTH = "kept_both"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    COLLISION = "collision"
    """Its name is taken and the person has not chosen yet; nothing was stored."""


class CollisionChoice(StrEnum):
    """What to do with an upload whose name a photo in the library already has."""

    ASK = "ask"
    SKIP = "skip"
    REPLACE = "replace"
    KEEP_BOTH = "keep_both"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of ingesting one file, with a message for a person.

    `photo_id` is the photo added or replaced, or for a duplicate or a collision the photo already
    in the library; `filename` the name it has there; `in_trash` says that photo is in the trash.
    """

    status: IngestStatus
    message: str
    photo_id: uuid.UUID | None = None
    filename: str = ""
    in_trash: bool = False


def _revised(photo_id: uuid.UUID, revision: int) -> str:
    # A replaced original gets new keys, so the old objects stay whole until the swap commits.
    return f"{photo_id}-{revision}" if revision else str(photo_id)


def original_key(
    owner_id: uuid.UUID, photo_id: uuid.UUID, extension: str, revision: int = 0
) -> str:
    """Storage key of a photo's original bytes."""
    return f"photos/{owner_id}/{_revised(photo_id, revision)}.{extension}"


def original_of(photo: Photo) -> str:
    """Storage key of a photo's current original."""
    return original_key(photo.owner_id, photo.id, extension_of(photo), photo.revision)


def extension_of(photo: Photo) -> str:
    """The file extension of a photo's stored original, from its sniffed format."""
    return imaging.format_named(photo.format).extension


def thumbnail_key(owner_id: uuid.UUID, photo_id: uuid.UUID, revision: int = 0) -> str:
    """Storage key of a photo's thumbnail."""
    return f"thumbnails/{owner_id}/{_revised(photo_id, revision)}_thumb.webp"


def preview_key(
    owner_id: uuid.UUID, photo_id: uuid.UUID, extension: str, revision: int = 0
) -> str:
    """Storage key of a photo's preview (the detail view's image)."""
    return f"previews/{owner_id}/{_revised(photo_id, revision)}_preview.{extension}"


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
    preview_size: int,
    max_pixels: int,
    on_collision: CollisionChoice = CollisionChoice.KEEP_BOTH,
    decision_seconds: float | None = None,
) -> IngestResult:
    """Turn a received file into a photo in the owner's library, or say why not.

    An exact duplicate (same bytes as a photo in the library or its trash) is never stored
    again. A file named like a photo in the library is skipped, replaces that photo, is kept
    as `name (n).ext`, or with `ASK` comes back as a collision with nothing stored, so the
    person can choose. Nothing of a refused or skipped file is kept: no blob, no row. The
    temporary file is removed either way.

    Args:
        session: Database session.
        storage: Where photo bytes go.
        owner: The signed-in user.
        upload: The received file (closed).
        sha256: Hex digest of its bytes.
        thumbnail_size: Longest thumbnail edge.
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.
        on_collision: What to do when a photo of the library has the file's name.
        decision_seconds: How long the person took to make that choice, when asked.

    Returns:
        The outcome.
    """
    try:
        if upload.size == 0:
            return IngestResult(IngestStatus.REJECTED, "empty file")
        existing = _photo_with_sha256(session, owner.id, sha256)
        if existing is not None:
            return _duplicate(existing)
        named = photo_named(session=session, owner_id=owner.id, name=upload.filename)
        if named is not None:
            if on_collision is CollisionChoice.ASK:
                return _collision(named)
            if on_collision is CollisionChoice.SKIP:
                record_collision(session=session, owner_id=owner.id, filename=upload.filename,
                                 outcome=CollisionOutcome.SKIPPED,
                                 decision_seconds=decision_seconds)
                return IngestResult(
                    IngestStatus.SKIPPED,
                    f"skipped: {named.filename} is already in your library",
                    named.id, named.filename,
                )
        if owner.used_bytes + upload.size > owner.quota_bytes and (
            named is None or on_collision is not CollisionChoice.REPLACE
        ):
            # Known before decoding; the charge at the end is the check that counts.
            return IngestResult(IngestStatus.REJECTED, _quota_message(owner, upload.size))
        try:
            analysis = imaging.analyse(
                upload.path,
                thumbnail_size=thumbnail_size,
                preview_size=preview_size,
                max_pixels=max_pixels,
            )
        except imaging.UnsupportedImage as exc:
            return IngestResult(IngestStatus.REJECTED, f"not a supported image: {exc}")
        if named is not None and on_collision is CollisionChoice.REPLACE:
            result = _replace(session, storage, owner, named, upload, sha256, analysis)
        else:
            result = _store(session, storage, owner, upload, sha256, analysis,
                            ask=on_collision is CollisionChoice.ASK)
        if named is not None or result.status is IngestStatus.KEPT_BOTH:
            outcome = {IngestStatus.REPLACED: CollisionOutcome.REPLACED,
                       IngestStatus.KEPT_BOTH: CollisionOutcome.KEPT_BOTH}.get(result.status)
            if outcome is not None:
                record_collision(session=session, owner_id=owner.id,
                                 filename=upload.filename, outcome=outcome,
                                 decision_seconds=decision_seconds)
        return result
    finally:
        upload.discard()


class CollisionOutcome(StrEnum):
    """What is recorded about an upload whose name was taken."""

    DETECTED = "detected"
    SKIPPED = "skipped"
    REPLACED = "replaced"
    KEPT_BOTH = "kept_both"


def record_collision(
    *,
    session: Session,
    owner_id: uuid.UUID,
    filename: str,
    outcome: CollisionOutcome,
    decision_seconds: float | None = None,
) -> None:
    """Keep one collision event (for the owner's statistics) and commit it."""
    session.add(CollisionEvent(owner_id=owner_id, filename=filename[:255], outcome=outcome.value,
                               decision_seconds=decision_seconds))
    session.commit()


@dataclass(frozen=True, slots=True)
class CollisionStats:
    """How often uploads collided with a name in someone's library, and what they chose."""

    detected: int
    skipped: int
    replaced: int
    kept_both: int
    median_decision_seconds: float | None


def collision_stats(*, session: Session, owner_id: uuid.UUID) -> CollisionStats:
    """The owner's collision statistics, from their events."""
    counts = dict(session.exec(
        select(CollisionEvent.outcome, sa.func.count())
        .where(CollisionEvent.owner_id == owner_id)
        .group_by(CollisionEvent.outcome)
    ).all())
    times = sorted(session.exec(
        select(CollisionEvent.decision_seconds).where(
            CollisionEvent.owner_id == owner_id, CollisionEvent.decision_seconds.is_not(None)
        )
    ).all())
    median = None
    if times:
        middle = len(times) // 2
        median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    return CollisionStats(
        detected=counts.get(CollisionOutcome.DETECTED.value, 0),
        skipped=counts.get(CollisionOutcome.SKIPPED.value, 0),
        replaced=counts.get(CollisionOutcome.REPLACED.value, 0),
        kept_both=counts.get(CollisionOutcome.KEPT_BOTH.value, 0),
        median_decision_seconds=median,
    )


def photo_named(*, session: Session, owner_id: uuid.UUID, name: str) -> Photo | None:
    """The owner's photo (not in the trash) whose name collides with `name`, if any."""
    return session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.name_key == collision_key(name))
    ).first()


def find_collisions(
    *, session: Session, owner_id: uuid.UUID, names: list[str]
) -> dict[str, Photo]:
    """Which of a batch's names a photo of the library already has, in one query.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        names: Filenames as they will be stored (see `uploads.display_name`).

    Returns:
        The colliding photo for each name that collides, by name.
    """
    keys = {collision_key(name): name for name in names}
    if not keys:
        return {}
    found: dict[str, Photo] = {}
    rows = session.exec(
        select(Photo).where(Photo.owner_id == owner_id, _name_key_among(session, list(keys)))
    ).all()
    by_key = {photo.name_key: photo for photo in rows}
    for name in names:
        photo = by_key.get(collision_key(name))
        if photo is not None:
            found[name] = photo
    return found


def _name_key_among(session: Session, keys: list[str]) -> sa.ColumnElement[bool]:
    # The keys travel as one parameter (an array, or a JSON list on SQLite), so a batch of any
    # size stays one statement under the databases' limits on bound parameters.
    if session.get_bind().dialect.name == "postgresql":
        return Photo.name_key == sa.any_(sa.bindparam("name_keys", keys,
                                                      type_=postgresql.ARRAY(sa.String)))
    listed = sa.select(sa.column("value", sa.String)).select_from(
        sa.func.json_each(sa.bindparam("name_keys", json.dumps(keys), type_=sa.String)))
    return Photo.name_key.in_(listed)


def _duplicate(existing: Photo) -> IngestResult:
    if existing.deleted_at is not None:
        return IngestResult(IngestStatus.DUPLICATE,
                            f"already in your trash as {existing.filename}",
                            existing.id, existing.filename, in_trash=True)
    return IngestResult(IngestStatus.DUPLICATE, f"already in your library as {existing.filename}",
                        existing.id, existing.filename)


def _collision(named: Photo) -> IngestResult:
    return IngestResult(IngestStatus.COLLISION,
                        f"a photo named {named.filename} is already in your library",
                        named.id, named.filename)


class _OverQuota(Exception):  # noqa: N818
    def __init__(self, needed: int):
        super().__init__(needed)
        self.needed = needed


def quota_message(owner: User, needed: int) -> str:
    """Why a file of `needed` bytes does not fit the owner's library, for people."""
    return (
        f"your library is full: {format_bytes(owner.used_bytes)} of "
        f"{format_bytes(owner.quota_bytes)} used, and this photo needs {format_bytes(needed)}"
    )


_quota_message = quota_message


def _photo_with_sha256(session: Session, owner_id: uuid.UUID, sha256: str) -> Photo | None:
    return session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.sha256 == sha256)
    ).first()


def _charge(session: Session, owner_id: uuid.UUID, needed: int) -> None:
    # The quota check and the charge are one statement: parallel uploads cannot both pass.
    charged = session.execute(
        sa.update(User)
        .where(User.id == owner_id, User.used_bytes + needed <= User.quota_bytes)
        .values(used_bytes=User.used_bytes + needed)
    )
    if charged.rowcount != 1:
        raise _OverQuota(needed)


def _store(
    session: Session,
    storage: Storage,
    owner: User,
    upload: IncomingFile,
    sha256: str,
    analysis: imaging.ImageAnalysis,
    *,
    ask: bool,
) -> IngestResult:
    photo_id = uuid.uuid4()
    now = utcnow()
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
        uploaded_at=now,
        updated_at=now,
        taken_at=now,
        taken_at_source="upload_time",
    )
    apply_metadata(photo, analysis)
    written: list[str] = []
    try:
        key = original_key(owner.id, photo_id, analysis.format.extension)
        storage.put_file(key, upload.path)
        written.append(key)
        renditions = _renditions(photo, analysis, original=key, original_bytes=upload.size)
        for rendition, data in renditions:
            if data is not None:
                storage.put_bytes(rendition.key, data)
                written.append(rendition.key)
        needed = upload.size + sum(len(data) for _, data in renditions if data is not None)
        for _attempt in range(NAME_ATTEMPTS):
            photo.filename = (upload.filename if ask else
                              free_name(session=session, owner_id=owner.id, name=upload.filename))
            photo.name_key = collision_key(photo.filename)
            try:
                session.add(photo)
                session.flush()
                session.add_all([rendition for rendition, _ in renditions])
                _charge(session, owner.id, needed)
                session.commit()
                break
            except IntegrityError:
                session.rollback()
                existing = _photo_with_sha256(session, owner.id, sha256)
                if existing is not None:
                    _remove(storage, written)
                    return _duplicate(existing)
                named = photo_named(session=session, owner_id=owner.id, name=upload.filename)
                if ask and named is not None:
                    # A parallel upload took the name first: this one gets the choice.
                    _remove(storage, written)
                    return _collision(named)
                # Another upload took the name first: the next free one is looked up again.
        else:
            raise RuntimeError(f"no free name for {upload.filename}")
    except _OverQuota as over:
        session.rollback()
        _remove(storage, written)
        session.refresh(owner)
        return IngestResult(IngestStatus.REJECTED, _quota_message(owner, over.needed))
    except BaseException:
        session.rollback()
        _remove(storage, written)
        raise
    if photo.filename != upload.filename:
        return IngestResult(IngestStatus.KEPT_BOTH, f"kept both: added as {photo.filename}",
                            photo_id, photo.filename)
    return IngestResult(IngestStatus.ADDED, "added", photo_id, photo.filename)


def _replace(
    session: Session,
    storage: Storage,
    owner: User,
    target: Photo,
    upload: IncomingFile,
    sha256: str,
    analysis: imaging.ImageAnalysis,
) -> IngestResult:
    """Swap a photo's original and renditions for the upload's, keeping who the photo is.

    Its id, name, title, description, favourite, albums and upload date stay; what is read
    from the image (date taken, size, camera, ...) is read again. The new objects are written
    under the next revision's keys and the row is switched in one transaction; until then, and
    whenever anything fails, the old photo is untouched. The old objects go after the commit
    (a crash there leaves objects `reconcile` removes).
    """
    old_blobs = photo_blobs(session=session, storage=storage, photo=target)
    old_revision = target.revision
    revision = old_revision + 1
    written: list[str] = []
    try:
        key = original_key(owner.id, target.id, analysis.format.extension, revision)
        storage.put_file(key, upload.path)
        written.append(key)
        staged = Photo(id=target.id, owner_id=owner.id, filename=target.filename,
                       revision=revision, uploaded_at=target.uploaded_at, sha256=sha256,
                       format=analysis.format.name, mime=analysis.format.mime,
                       size_bytes=upload.size, width=analysis.width, height=analysis.height,
                       taken_at=target.uploaded_at, taken_at_source="upload_time")
        renditions = _renditions(staged, analysis, original=key, original_bytes=upload.size)
        for rendition, data in renditions:
            if data is not None:
                storage.put_bytes(rendition.key, data)
                written.append(rendition.key)
        needed = upload.size + sum(len(data) for _, data in renditions if data is not None)
        switched = session.execute(
            sa.update(Photo)
            .where(Photo.id == target.id, Photo.revision == old_revision,
                   Photo.deleted_at.is_(None))
            .values(revision=revision, sha256=sha256, format=staged.format, mime=staged.mime,
                    size_bytes=staged.size_bytes, width=staged.width, height=staged.height,
                    updated_at=utcnow(), **_metadata_values(staged, analysis))
        )
        if switched.rowcount != 1:
            raise _ReplacedMeanwhile
        session.execute(sa.delete(Rendition).where(Rendition.photo_id == target.id))
        session.add_all([rendition for rendition, _ in renditions])
        delta = needed - sum(old_blobs.values())
        if delta > 0:
            _charge(session, owner.id, delta)
        else:
            session.execute(sa.update(User).where(User.id == owner.id)
                            .values(used_bytes=User.used_bytes + delta))
        session.commit()
    except IntegrityError:
        session.rollback()
        _remove(storage, written)
        existing = _photo_with_sha256(session, owner.id, sha256)
        if existing is not None:
            return _duplicate(existing)
        raise
    except (_ReplacedMeanwhile, ObjectExists):
        # Another replacement of this photo got there first (or one that crashed left its
        # objects, which reconcile removes).
        session.rollback()
        _remove(storage, written)
        return IngestResult(IngestStatus.REJECTED,
                            f"{target.filename} changed while this upload was processed, "
                            "please try again")
    except _OverQuota as over:
        session.rollback()
        _remove(storage, written)
        session.refresh(owner)
        return IngestResult(IngestStatus.REJECTED, _quota_message(owner, over.needed))
    except BaseException:
        session.rollback()
        _remove(storage, written)
        raise
    _remove(storage, [key for key in old_blobs if key not in written])
    session.refresh(target)
    return IngestResult(IngestStatus.REPLACED, f"replaced {target.filename}", target.id,
                        target.filename)


class _ReplacedMeanwhile(Exception):  # noqa: N818
    pass


def _metadata_values(staged: Photo, analysis: imaging.ImageAnalysis) -> dict[str, object]:
    apply_metadata(staged, analysis)
    fields = ("taken_at", "taken_at_offset_minutes", "taken_at_source", "thumbhash",
              "camera_make", "camera_model", "lens", "focal_length_mm", "f_number",
              "exposure_time_s", "iso", "gps_latitude", "gps_longitude")
    return {name: getattr(staged, name) for name in fields}


def free_name(*, session: Session, owner_id: uuid.UUID, name: str) -> str:
    """The name itself when no photo of the owner has it, else the first free `name (n)`.

    Names are compared by `collision_key` (case, Unicode form and `.jpeg`/`.jpg` do not
    matter).
    """
    stem = name.rpartition(".")[0] or name
    taken = set(session.exec(
        select(Photo.name_key).where(
            Photo.owner_id == owner_id,
            Photo.name_key.startswith(collision_key(stem), autoescape=True),
        )
    ))
    if collision_key(name) not in taken:
        return name
    number = 1
    while collision_key(numbered_name(name, number)) in taken:
        number += 1
    return numbered_name(name, number)


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
    return TrashPage(*_keyset_page(session, query, Photo.deleted_at, limit, after))


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
        sum(_blob_sizes(photo, renditions.get(photo.id, [])).values()) for photo in trashed
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


def photo_blobs(*, session: Session, storage: Storage, photo: Photo) -> dict[str, int]:
    """Every stored object of a photo (original first) with the bytes it takes."""
    renditions = session.exec(select(Rendition).where(Rendition.photo_id == photo.id)).all()
    blobs = _blob_sizes(photo, renditions)
    if not renditions:
        # Stored before renditions were recorded: the thumbnail is all there is.
        key = thumbnail_key(photo.owner_id, photo.id, photo.revision)
        blobs[key] = storage.size(key)
    return blobs


def _blob_sizes(photo: Photo, renditions: list[Rendition]) -> dict[str, int]:
    original = original_of(photo)
    blobs = {original: photo.size_bytes}
    blobs.update({r.key: r.size_bytes for r in renditions if r.key != original})
    return blobs


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


def apply_metadata(photo: Photo, analysis: imaging.ImageAnalysis) -> None:
    """Copy what was read from the image onto its row (date taken falls back to upload time).

    Args:
        photo: The row; its `uploaded_at` must be set.
        analysis: The image's analysis.
    """
    meta = analysis.metadata
    taken = meta.taken_at
    photo.taken_at = taken.utc if taken else photo.uploaded_at
    photo.taken_at_offset_minutes = taken.offset_minutes if taken else None
    photo.taken_at_source = taken.source if taken else "upload_time"
    photo.thumbhash = analysis.thumbhash
    photo.camera_make = meta.camera.make
    photo.camera_model = meta.camera.model
    photo.lens = meta.camera.lens
    photo.focal_length_mm = meta.camera.focal_length_mm
    photo.f_number = meta.camera.f_number
    photo.exposure_time_s = meta.camera.exposure_time_s
    photo.iso = meta.camera.iso
    photo.gps_latitude = meta.gps.latitude if meta.gps else None
    photo.gps_longitude = meta.gps.longitude if meta.gps else None


def _renditions(
    photo: Photo, analysis: imaging.ImageAnalysis, *, original: str, original_bytes: int
) -> list[tuple[Rendition, bytes | None]]:
    """Rows for a photo's thumbnail and preview, with the bytes each still needs written.

    The bytes are None for a preview that is the original itself.
    """
    thumb = analysis.thumbnail
    rows: list[tuple[Rendition, bytes | None]] = [
        (
            Rendition(
                photo_id=photo.id, kind=RenditionKind.THUMB,
                key=thumbnail_key(photo.owner_id, photo.id, photo.revision), width=thumb.width,
                height=thumb.height, format=thumb.format.name, size_bytes=len(thumb.data),
            ),
            thumb.data,
        )
    ]
    preview = analysis.preview
    if preview is None:
        rows.append((
            Rendition(
                photo_id=photo.id, kind=RenditionKind.PREVIEW, key=original,
                width=analysis.width, height=analysis.height, format=analysis.format.name,
                size_bytes=original_bytes,
            ),
            None,
        ))
    else:
        rows.append((
            Rendition(
                photo_id=photo.id, kind=RenditionKind.PREVIEW,
                key=preview_key(photo.owner_id, photo.id, preview.format.extension,
                                photo.revision),
                width=preview.width, height=preview.height, format=preview.format.name,
                size_bytes=len(preview.data),
            ),
            preview.data,
        ))
    return rows


def _remove(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # the reconcile pass removes what could not be removed now
            log.exception("could not remove %s after a failed ingest", key)


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page of a keyset-paged list starts: after this (moment, photo id).

    The moment is the date taken for the timeline, the date deleted for the trash.
    """

    moment: datetime
    photo_id: uuid.UUID

    def encode(self) -> str:
        """An opaque string for the client."""
        raw = json.dumps([as_utc(self.moment).isoformat(), str(self.photo_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> PageCursor | None:
        """Parse a cursor string; None for anything malformed."""
        try:
            moment, pid = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(datetime.fromisoformat(moment), uuid.UUID(pid))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of the timeline, newest date taken first."""

    photos: list[Photo]
    next_cursor: PageCursor | None


def timeline_page(
    *, session: Session, owner_id: uuid.UUID, limit: int, after: PageCursor | None = None
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
    return TimelinePage(*_keyset_page(session, query, Photo.taken_at, limit, after))


def _keyset_page(
    session: Session, query, moment, limit: int, after: PageCursor | None  # noqa: ANN001
) -> tuple[list[Photo], PageCursor | None]:
    """Rows of `query` newest `moment` first, after the cursor; the next page's cursor."""
    if after is not None:
        query = query.where(
            sa.or_(moment < after.moment,
                   sa.and_(moment == after.moment, Photo.id < after.photo_id))
        )
    rows = list(session.exec(query.order_by(moment.desc(), Photo.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, PageCursor(as_utc(getattr(rows[-1], moment.key)), rows[-1].id)


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


def utc_offset_label(photo: Photo) -> str:
    """The UTC offset where the photo was taken ("UTC+02:00"), or "" when unknown."""
    minutes = photo.taken_at_offset_minutes
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


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


def renditions_of(
    *, session: Session, photo_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], Rendition]:
    """The recorded renditions of some photos, by (photo id, kind)."""
    if not photo_ids:
        return {}
    rows = session.exec(select(Rendition).where(Rendition.photo_id.in_(photo_ids)))
    return {(row.photo_id, row.kind): row for row in rows}


def thumbnail_of(photo: Photo, rendition: Rendition | None) -> str:
    """Key of the image the grid shows for a photo."""
    return rendition.key if rendition else thumbnail_key(photo.owner_id, photo.id, photo.revision)


def preview_of(photo: Photo, rendition: Rendition | None) -> str:
    """Key of the image the detail view shows: the preview, else something a browser shows."""
    if rendition is not None:
        return rendition.key
    if imaging.format_named(photo.format).browser:
        return original_of(photo)
    return thumbnail_key(photo.owner_id, photo.id, photo.revision)


def camera_label(photo: Photo) -> str:
    """Make and model for people ("Apple iPhone 15 Pro"), without the make said twice."""
    make, model = photo.camera_make or "", photo.camera_model or ""
    if make and model.casefold().startswith(make.split()[0].casefold()):
        return model
    return " ".join(part for part in (make, model) if part)


def exposure_label(photo: Photo) -> str:
    """Aperture, shutter speed, focal length and ISO, those that are known."""
    parts = []
    if photo.f_number:
        parts.append(f"ƒ/{photo.f_number:.3g}")
    if photo.exposure_time_s:
        seconds = photo.exposure_time_s
        if seconds < 0.5:
            parts.append(f"1/{round(1 / seconds)} s")
        else:
            parts.append(f"{seconds:.3g} s")
    if photo.focal_length_mm:
        parts.append(f"{photo.focal_length_mm:.3g} mm")
    if photo.iso:
        parts.append(f"ISO {photo.iso}")
    return " · ".join(parts)


def location_label(photo: Photo) -> str:
    """GPS position in degrees with hemispheres, or "" when the photo has none."""
    if photo.gps_latitude is None or photo.gps_longitude is None:
        return ""
    lat, lon = photo.gps_latitude, photo.gps_longitude
    return (
        f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, "
        f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
    )


@dataclass(frozen=True, slots=True)
class RegenerationReport:
    """What a pass over photos without renditions did."""

    photos: int
    written: int
    failed: int


def regenerate_renditions(
    *,
    session: Session,
    storage: Storage,
    spool_dir: Path,
    thumbnail_size: int,
    preview_size: int,
    max_pixels: int,
) -> RegenerationReport:
    """Give every photo its thumbnail and preview renditions, making those that are missing.

    For photos stored before renditions were recorded: blobs already stored are recorded as
    they are, missing ones are made from the original, and the metadata of photos without a
    placeholder is read again. Idempotent; a photo whose original cannot be read is logged
    and left as it is.

    Args:
        session: Database session.
        storage: Where photo bytes are.
        spool_dir: Scratch directory for copies of originals.
        thumbnail_size: Longest thumbnail edge.
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        Counts of photos looked at, blobs written and photos that failed.
    """
    kinds = {RenditionKind.THUMB.value, RenditionKind.PREVIEW.value}
    have: dict[uuid.UUID, set[str]] = {}
    for photo_id, kind in session.exec(select(Rendition.photo_id, Rendition.kind)):
        have.setdefault(photo_id, set()).add(kind)
    todo = [
        photo for photo in session.exec(select(Photo).order_by(Photo.uploaded_at))
        if have.get(photo.id, set()) != kinds or photo.thumbhash is None
    ]
    written = failed = 0
    spool_dir.mkdir(parents=True, exist_ok=True)
    for photo in todo:
        try:
            written += _regenerate(
                session, storage, photo, have.get(photo.id, set()), spool_dir,
                thumbnail_size=thumbnail_size, preview_size=preview_size, max_pixels=max_pixels,
            )
        except (imaging.UnsupportedImage, ObjectMissing, OSError):
            session.rollback()
            failed += 1
            log.exception("could not make the renditions of photo %s", photo.id)
    return RegenerationReport(photos=len(todo), written=written, failed=failed)


def _regenerate(
    session: Session,
    storage: Storage,
    photo: Photo,
    recorded: set[str],
    spool_dir: Path,
    **sizes: int,
) -> int:
    key = original_of(photo)
    fd, name = tempfile.mkstemp(prefix="original-", dir=spool_dir)
    copy = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, storage.open(key) as original:
            shutil.copyfileobj(original, out, 1024 * 1024)
        analysis = imaging.analyse(copy, **sizes)
    finally:
        copy.unlink(missing_ok=True)
    if photo.thumbhash is None:
        apply_metadata(photo, analysis)
        photo.updated_at = utcnow()
        session.add(photo)
    written: list[str] = []
    new_bytes = 0
    try:
        for rendition, data in _renditions(photo, analysis, original=key,
                                           original_bytes=photo.size_bytes):
            if rendition.kind in recorded:
                continue
            if data is not None:
                if storage.exists(rendition.key):
                    # Stored before renditions were recorded: keep it, record what it is.
                    with storage.open(rendition.key) as fh:
                        data = fh.read()
                    fmt, rendition.width, rendition.height = imaging.derivative_size(data)
                    rendition.format, rendition.size_bytes = fmt.name, len(data)
                else:
                    storage.put_bytes(rendition.key, data)
                    written.append(rendition.key)
                    new_bytes += len(data)
            session.add(rendition)
        session.execute(
            sa.update(User).where(User.id == photo.owner_id)
            .values(used_bytes=User.used_bytes + new_bytes)
        )
        session.commit()
    except BaseException:
        session.rollback()
        _remove(storage, written)
        raise
    return len(written)
