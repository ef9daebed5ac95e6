"""Making the database and photo storage agree again after a crash or an outage.

An ingest writes its objects before it commits the row, and a purge (delete forever) removes
the objects, original first, before it deletes the row; a process killed in between leaves
objects no photo refers to, or a photo whose original is gone. This pass finds those, missing
renditions, storage use that no longer matches what is stored, and what unfinished chunked
uploads left behind, and with `fix` repairs them. Photos in the trash are kept (they still count
toward storage use) until they have been there longer than the trash keeps them; then `fix`
deletes them forever.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, Rendition, User, utcnow
from imgstream.services import chunked_uploads, renditions, trash
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
    usage_corrections: list[tuple[str, int, int]] = field(default_factory=list)
    expired_trash: list[uuid.UUID] = field(default_factory=list)
    """Photos in the trash for longer than it keeps them: routine clean-up, not a disagreement."""
    uploads: chunked_uploads.SweepReport = field(default_factory=chunked_uploads.SweepReport)
    fixed: bool = False

    @property
    def clean(self) -> bool:
        """Whether the database and storage agree (expired trash is not a disagreement)."""
        return not (self.unclaimed_objects or self.photos_missing_original
                    or self.renditions_missing or self.usage_corrections
                    or not self.uploads.clean)


def reconcile(
    *, session: Session, storage: Storage, fix: bool, now: datetime | None = None,
    grace: timedelta = UNCLAIMED_GRACE, trash_days: int | None = None,
    spool_dir: Path | None = None, upload_expiry: timedelta = chunked_uploads.UPLOAD_EXPIRY,
) -> ReconcileReport:
    """Compare rows with stored objects and storage use; repair what differs when `fix`.

    Repairs: photos in the trash for more than `trash_days` days are deleted forever;
    unclaimed objects older than `grace` are removed; photos whose original is gone (in the
    library, in the trash, or half purged) are removed with their renditions (nothing can show
    them); a missing rendition's row is dropped so `regenerate-renditions` makes it again; each
    user's `used_bytes` is set to what their photos take, those in the trash included.

    Args:
        session: Database session.
        storage: Where photo bytes are.
        fix: Repair, rather than only report.
        now: The current time (for tests).
        grace: Age below which an unclaimed object is left alone.
        trash_days: How long the trash keeps photos; None leaves the trash alone.
        spool_dir: Where uploads are spooled; None to leave spool files alone.
        upload_expiry: Age of the last chunk after which an upload is abandoned.

    Returns:
        The report.
    """
    report = ReconcileReport(fixed=fix)
    moment = now or utcnow()
    if trash_days is not None:
        expired = trash.expired_trash(session=session, days=trash_days, now=moment)
        report.expired_trash = [photo.id for photo in expired]
        if fix:
            trash.empty_expired_trash(session=session, storage=storage, days=trash_days,
                                       now=moment)
    report.uploads = chunked_uploads.sweep(
        session=session, storage=storage, spool_dir=spool_dir, fix=fix, now=moment,
        expiry=upload_expiry, grace=grace,
    )
    claimed: set[str] = set()
    for photo in session.exec(select(Photo)).all():
        blobs = renditions.photo_blobs(session=session, storage=storage, photo=photo)
        claimed.update(blobs)
        original, *derived = blobs
        if not storage.exists(original):
            report.photos_missing_original.append(photo.id)
            if fix:
                trash.purge_photo(session=session, storage=storage, photo=photo)
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
    for photo in session.exec(select(Photo)).all():
        blobs = renditions.photo_blobs(session=session, storage=storage, photo=photo)
        actual[photo.owner_id] = actual.get(photo.owner_id, 0) + sum(blobs.values())
    for user in session.exec(select(User)).all():
        should_be = actual.get(user.id, 0)
        if user.used_bytes != should_be:
            report.usage_corrections.append((user.email, user.used_bytes, should_be))
            if fix:
                user.used_bytes = should_be
    if fix:
        session.commit()


def describe(report: ReconcileReport) -> list[str]:
    """One line per finding, for people (the command line and the development admin page)."""
    fix = report.fixed
    verb = "removed" if fix else "found"
    lines = [f"object no photo refers to ({verb}): {key}" for key in report.unclaimed_objects]
    lines += [f"photo whose original is missing ({verb}): {photo_id}"
              for photo_id in report.photos_missing_original]
    lines += [f"missing rendition ({'forgotten, to be made again' if fix else 'found'}): {key}"
              for key in report.renditions_missing]
    lines += [f"in the trash for too long ({'deleted forever' if fix else 'found'}): {photo_id}"
              for photo_id in report.expired_trash]
    lines += [f"storage used by {email}: recorded {recorded}, actual {actual}"
              f"{' (corrected)' if fix else ''}"
              for email, recorded, actual in report.usage_corrections]
    lines += [f"abandoned upload ({verb}): {upload_id}"
              for upload_id in report.uploads.stale_uploads]
    lines += [f"chunk of no upload ({verb}): {key}" for key in report.uploads.orphan_chunks]
    lines += [f"left-over spool file ({verb}): {path}"
              for path in report.uploads.stale_spool_files]
    return lines
