"""Ingest: turn a received file into a photo of someone's library, or say why not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imgstream.models import CollisionChoice, Photo, User, utcnow
from imgstream.services import imaging
from imgstream.services.collisions import (
    CollisionOutcome,
    free_name,
    photo_named,
    record_collision,
    skipped_message,
)
from imgstream.services.filenames import collision_key
from imgstream.services.object_keys import original_key
from imgstream.services.photo_metadata import apply_metadata
from imgstream.services.quota import OverQuota, charge, quota_message
from imgstream.services.renditions import rendition_rows
from imgstream.services.replace import ChangedMeanwhile, replace_original
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import Storage, delete_quietly

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
                    skipped_message(named.filename),
                    named.id, named.filename,
                )
        replacing = named is not None and on_collision is CollisionChoice.REPLACE
        if owner.used_bytes + upload.size > owner.quota_bytes and not replacing:
            # Known before decoding; the charge at the end is the check that counts.
            return IngestResult(IngestStatus.REJECTED, quota_message(owner, upload.size))
        # No transaction stays open (and no pooled connection idles in one) while the image is
        # decoded and its objects are written.
        owner_id = owner.id
        end_reads(session)
        try:
            analysis = imaging.analyse(
                upload.path,
                thumbnail_size=thumbnail_size,
                preview_size=preview_size,
                max_pixels=max_pixels,
            )
        except imaging.UnsupportedImage as exc:
            return IngestResult(IngestStatus.REJECTED, f"not a supported image: {exc}")
        if replacing and named is not None:
            result = _replace(session, storage, owner, named, upload, sha256, analysis)
        else:
            result = _store(session, storage, owner, owner_id, upload, sha256, analysis,
                            ask=on_collision is CollisionChoice.ASK)
        outcome = {IngestStatus.REPLACED: CollisionOutcome.REPLACED,
                   IngestStatus.KEPT_BOTH: CollisionOutcome.KEPT_BOTH}.get(result.status)
        if outcome is not None:
            record_collision(session=session, owner_id=owner_id,
                             filename=upload.filename, outcome=outcome,
                             decision_seconds=decision_seconds)
        return result
    finally:
        upload.discard()


def end_reads(session: Session) -> None:
    """End the session's read transaction, keeping what it loaded.

    Rows loaded so far stay usable (commit does not expire them in the app's sessions), and
    the connection goes back to the pool instead of idling in a transaction.

    Args:
        session: Database session with nothing to write.
    """
    session.commit()


def _replace(
    session: Session,
    storage: Storage,
    owner: User,
    target: Photo,
    upload: IncomingFile,
    sha256: str,
    analysis: imaging.ImageAnalysis,
) -> IngestResult:
    name, photo_id = target.filename, target.id
    try:
        replace_original(session=session, storage=storage, owner=owner, target=target,
                         upload=upload, sha256=sha256, analysis=analysis)
    except IntegrityError:
        existing = _photo_with_sha256(session, owner.id, sha256)
        if existing is not None:
            return _duplicate(existing)
        raise
    except ChangedMeanwhile:
        return IngestResult(IngestStatus.REJECTED,
                            f"{name} changed while this upload was processed, please try again")
    except OverQuota as over:
        session.refresh(owner)
        return IngestResult(IngestStatus.REJECTED, quota_message(owner, over.needed))
    return IngestResult(IngestStatus.REPLACED, f"replaced {name}", photo_id, name)


def _duplicate(existing: Photo) -> IngestResult:
    if existing.deleted_at is not None:
        return IngestResult(IngestStatus.DUPLICATE,
                            f"already in your trash as {existing.filename}",
                            existing.id, existing.filename, in_trash=True)
    return IngestResult(IngestStatus.DUPLICATE, f"already in your library as {existing.filename}",
                        existing.id, existing.filename)


def _collision(named: Photo) -> IngestResult:
    return IngestResult(IngestStatus.COLLISION,
                        f"a photo named {named.filename} exists already",
                        named.id, named.filename)


def _photo_with_sha256(session: Session, owner_id: uuid.UUID, sha256: str) -> Photo | None:
    return session.exec(
        select(Photo).where(Photo.owner_id == owner_id, Photo.sha256 == sha256)
    ).first()


def _store(
    session: Session,
    storage: Storage,
    owner: User,
    owner_id: uuid.UUID,
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
        owner_id=owner_id,
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
        key = original_key(owner_id, photo_id, analysis.format.extension)
        upload.store(storage, key)
        written.append(key)
        renditions = rendition_rows(photo, analysis, original=key, original_bytes=upload.size)
        for rendition, data in renditions:
            if data is not None:
                storage.put_bytes(rendition.key, data)
                written.append(rendition.key)
        needed = upload.size + sum(len(data) for _, data in renditions if data is not None)
        for _attempt in range(NAME_ATTEMPTS):
            photo.filename = (upload.filename if ask else
                              free_name(session=session, owner_id=owner_id, name=upload.filename))
            photo.name_key = collision_key(photo.filename)
            try:
                session.add(photo)
                session.flush()
                session.add_all([rendition for rendition, _ in renditions])
                charge(session, owner_id, needed)
                session.commit()
                break
            except IntegrityError:
                session.rollback()
                existing = _photo_with_sha256(session, owner_id, sha256)
                if existing is not None:
                    delete_quietly(storage, written)
                    return _duplicate(existing)
                named = photo_named(session=session, owner_id=owner_id, name=upload.filename)
                if ask and named is not None:
                    # A parallel upload took the name first: this one gets the choice.
                    delete_quietly(storage, written)
                    return _collision(named)
                # Another upload took the name first: the next free one is looked up again.
        else:
            raise RuntimeError(f"no free name for {upload.filename}")
    except OverQuota as over:
        session.rollback()
        delete_quietly(storage, written)
        session.refresh(owner)
        return IngestResult(IngestStatus.REJECTED, quota_message(owner, over.needed))
    except BaseException:
        session.rollback()
        delete_quietly(storage, written)
        raise
    if photo.filename != upload.filename:
        return IngestResult(IngestStatus.KEPT_BOTH, f"kept both: added as {photo.filename}",
                            photo_id, photo.filename)
    return IngestResult(IngestStatus.ADDED, "added", photo_id, photo.filename)

