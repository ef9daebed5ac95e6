"""Renditions: the thumbnail and preview rows of a photo, its objects, and making missing ones."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, Rendition, RenditionKind, User, utcnow
from imgstream.services import imaging
from imgstream.services.object_keys import original_of, preview_key, thumbnail_key
from imgstream.services.photo_metadata import apply_metadata
from imgstream.services.storage import ObjectMissing, Storage, delete_quietly

log = logging.getLogger(__name__)


def rendition_rows(
    photo: Photo, analysis: imaging.ImageAnalysis, *, original: str, original_bytes: int,
    edit: str = "",
) -> list[tuple[Rendition, bytes | None]]:
    """Rows for a photo's thumbnail and preview, with the bytes each still needs written.

    The bytes are None for a preview that is the original itself. `edit` goes into the keys
    of renditions remade after an edit, so they never overwrite the ones being replaced.
    """
    thumb = analysis.thumbnail
    rows: list[tuple[Rendition, bytes | None]] = [
        (
            Rendition(
                photo_id=photo.id, kind=RenditionKind.THUMB,
                key=thumbnail_key(photo.owner_id, photo.id, photo.revision, edit),
                width=thumb.width,
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
                                photo.revision, edit),
                width=preview.width, height=preview.height, format=preview.format.name,
                size_bytes=len(preview.data),
            ),
            preview.data,
        ))
    return rows


def renditions_of(
    *, session: Session, photo_ids: list[uuid.UUID], kinds: tuple[str, ...] = ()
) -> dict[tuple[uuid.UUID, str], Rendition]:
    """The recorded renditions of some photos, by (photo id, kind); only `kinds` when given."""
    if not photo_ids:
        return {}
    query = select(Rendition).where(Rendition.photo_id.in_(photo_ids))
    if kinds:
        query = query.where(Rendition.kind.in_(kinds))
    return {(row.photo_id, row.kind): row for row in session.exec(query)}


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


def photo_blobs(*, session: Session, storage: Storage, photo: Photo) -> dict[str, int]:
    """Every stored object of a photo (original first) with the bytes it takes."""
    renditions = session.exec(select(Rendition).where(Rendition.photo_id == photo.id)).all()
    blobs = blob_sizes(photo, renditions)
    if not renditions:
        # Stored before renditions were recorded: the thumbnail is all there is.
        key = thumbnail_key(photo.owner_id, photo.id, photo.revision)
        blobs[key] = storage.size(key)
    return blobs


def blob_sizes(photo: Photo, renditions: list[Rendition]) -> dict[str, int]:
    """The bytes each object of a photo takes, original first, from its rows."""
    original = original_of(photo)
    blobs = {original: photo.size_bytes}
    blobs.update({r.key: r.size_bytes for r in renditions if r.key != original})
    return blobs


@dataclass(frozen=True, slots=True)
class RegenerationReport:
    """What a pass over photos without renditions did."""

    photos: int
    written: int
    failed: int
    hashed: int = 0
    """Older photos given their perceptual hash."""


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
    hashed = backfill_perceptual_hashes(session=session, storage=storage)
    return RegenerationReport(photos=len(todo), written=written, failed=failed, hashed=hashed)


def backfill_perceptual_hashes(*, session: Session, storage: Storage, batch: int = 200) -> int:
    """Give photos stored before perceptual hashes existed theirs, from their thumbnails.

    Idempotent; a photo whose thumbnail cannot be read is logged and left without a hash.

    Args:
        session: Database session.
        storage: Where the thumbnails are.
        batch: Photos committed together.

    Returns:
        How many photos got a hash.
    """
    hashed = 0
    failed: set[uuid.UUID] = set()
    while True:
        todo = list(session.exec(
            select(Photo).where(Photo.phash.is_(None), Photo.id.not_in(failed) if failed
                                else sa.true()).order_by(Photo.id).limit(batch)))
        if not todo:
            return hashed
        rows = renditions_of(session=session, photo_ids=[photo.id for photo in todo])
        for photo in todo:
            key = thumbnail_of(photo, rows.get((photo.id, RenditionKind.THUMB.value)))
            try:
                with storage.open(key) as fh:
                    photo.phash = imaging.perceptual_hash(fh.read())
            except (ObjectMissing, OSError, *imaging.DECODE_ERRORS):
                log.warning("no perceptual hash for photo %s: its thumbnail cannot be read",
                            photo.id, exc_info=True)
                failed.add(photo.id)
                continue
            session.add(photo)
            hashed += 1
        session.commit()


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
        analysis = imaging.analyse(copy, quarter_turns=photo.rotation // 90, **sizes)
    finally:
        copy.unlink(missing_ok=True)
    if photo.thumbhash is None:
        apply_metadata(photo, analysis)
        photo.updated_at = utcnow()
        session.add(photo)
    written: list[str] = []
    new_bytes = 0
    try:
        for rendition, data in rendition_rows(photo, analysis, original=key,
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
        delete_quietly(storage, written)
        raise
    return len(written)

