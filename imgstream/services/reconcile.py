"""Making the database and photo storage agree again after a crash or an outage.

An ingest writes its objects before it commits the row, and a delete marks the row before it
removes the objects; a process killed in between leaves objects no photo refers to, or a photo
marked deleted whose objects are still there. This pass finds those, photos whose original is
gone, storage use that no longer matches what is stored, and what unfinished chunked uploads
left behind, and with `fix` repairs them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, Rendition, User, utcnow
from imgstream.services import chunked_uploads, photos
from imgstream.services.storage import Storage

# Where photo objects live. Chunks of uploads (`incoming/`) are not photo objects: no photo ever
# claims them, and the upload sweep decides which of them are left over.
PREFIXES = ("photos/", "thumbnails/", "previews/")
# Objects younger than this may belong to an ingest that has not committed yet.
UNCLAIMED_GRACE = timedelta(minutes=15)


@dataclass
class ReconcileReport:
    """What a reconcile pass found, and whether it repaired it."""

    unclaimed_objects: list[str] = field(default_factory=list)
    photos_missing_original: list[uuid.UUID] = field(default_factory=list)
    renditions_missing: list[str] = field(default_factory=list)
    unfinished_deletes: list[uuid.UUID] = field(default_factory=list)
    usage_corrections: list[tuple[str, int, int]] = field(default_factory=list)
    uploads: chunked_uploads.SweepReport = field(default_factory=chunked_uploads.SweepReport)
    fixed: bool = False

    @property
    def clean(self) -> bool:
        """Whether nothing needed repair."""
        return not (self.unclaimed_objects or self.photos_missing_original
                    or self.renditions_missing or self.unfinished_deletes
                    or self.usage_corrections or not self.uploads.clean)


def reconcile(
    *, session: Session, storage: Storage, fix: bool, now: datetime | None = None,
    grace: timedelta = UNCLAIMED_GRACE, spool_dir: Path | None = None,
    upload_expiry: timedelta = chunked_uploads.UPLOAD_EXPIRY,
) -> ReconcileReport:
    """Compare rows with stored objects and storage use; repair what differs when `fix`.

    Repairs: unclaimed objects older than `grace` are removed; photos whose original is gone
    are removed with their renditions (nothing can show them); a missing rendition's row is
    dropped so `regenerate-renditions` makes it again; unfinished deletes are finished; each
    user's `used_bytes` is set to what their photos take.

    Args:
        session: Database session.
        storage: Where photo bytes are.
        fix: Repair, rather than only report.
        now: The current time (for tests).
        grace: Age below which an unclaimed object is left alone.
        spool_dir: Where uploads are spooled; None to leave spool files alone.
        upload_expiry: Age of the last chunk after which an upload is abandoned.

    Returns:
        The report.
    """
    report = ReconcileReport(fixed=fix)
    moment = now or utcnow()
    report.uploads = chunked_uploads.sweep(
        session=session, storage=storage, spool_dir=spool_dir, fix=fix, now=moment,
        expiry=upload_expiry, grace=grace,
    )
    claimed: set[str] = set()
    for photo in session.exec(select(Photo)).all():
        blobs = photos.photo_blobs(session=session, storage=storage, photo=photo)
        claimed.update(blobs)
        if photo.deleted_at is not None:
            report.unfinished_deletes.append(photo.id)
            if fix:
                photos.purge_photo(session=session, storage=storage, photo=photo)
            continue
        original, *derived = blobs
        if not storage.exists(original):
            report.photos_missing_original.append(photo.id)
            if fix:
                photos.purge_photo(session=session, storage=storage, photo=photo)
            continue
        for key in derived:
            if not storage.exists(key):
                report.renditions_missing.append(key)
                if fix:
                    session.execute(sa.delete(Rendition).where(Rendition.key == key))
                    session.commit()
    for prefix in PREFIXES:
        for key in storage.list(prefix):
            if key in claimed:
                continue
            written = storage.modified(key)
            if written is not None and moment - written < grace:
                continue
            report.unclaimed_objects.append(key)
            if fix:
                storage.delete(key)
    _correct_usage(session, storage, report, fix)
    return report


def _correct_usage(session: Session, storage: Storage, report: ReconcileReport,
                   fix: bool) -> None:
    actual: dict[uuid.UUID, int] = {}
    for photo in session.exec(select(Photo).where(Photo.deleted_at.is_(None))).all():
        blobs = photos.photo_blobs(session=session, storage=storage, photo=photo)
        actual[photo.owner_id] = actual.get(photo.owner_id, 0) + sum(blobs.values())
    for user in session.exec(select(User)).all():
        should_be = actual.get(user.id, 0)
        if user.used_bytes != should_be:
            report.usage_corrections.append((user.email, user.used_bytes, should_be))
            if fix:
                user.used_bytes = should_be
    if fix:
        session.commit()
