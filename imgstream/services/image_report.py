"""What an image is, without keeping it: format, size, EXIF, colours, hash, near-duplicates.

`POST /api/v1/analyze` answers this for an image a program sends; nothing of the image is
stored, and the spooled copy is removed before the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlmodel import Session

from imgstream.services import imaging
from imgstream.services.similar_photos import SimilarPhoto, similar_photos


@dataclass(frozen=True, slots=True)
class ImageReport:
    """An analysed image."""

    format: str
    mime: str
    width: int
    height: int
    """After the EXIF orientation is applied."""
    taken_at: datetime | None
    """When it was taken, with the UTC offset where it was taken when known (else UTC)."""
    taken_at_offset_minutes: int | None
    taken_at_source: str | None
    camera: imaging.Camera
    gps: imaging.GpsPosition | None
    orientation: int
    colours: list[imaging.Colour]
    phash: str
    similar: list[SimilarPhoto]


def _local(taken: imaging.TakenAt | None) -> datetime | None:
    if taken is None:
        return None
    if taken.offset_minutes is None:
        return taken.utc
    return taken.utc.astimezone(timezone(timedelta(minutes=taken.offset_minutes)))


def analyse_image(
    *, session: Session, owner_id: uuid.UUID, path: Path, thumbnail_size: int,
    preview_size: int, max_pixels: int,
) -> ImageReport:
    """Analyse an image file and find its near-duplicates in the owner's library.

    The image goes through the same validation and decode as an upload (allow-listed formats,
    pixel cap), and its hash is made from its thumbnail as for stored photos.

    Args:
        session: Database session.
        owner_id: Whose library to compare with.
        path: The image (the caller removes it).
        thumbnail_size: Longest thumbnail edge (as at ingest, so hashes compare).
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        The report.

    Raises:
        UnsupportedImage: For anything that is not a complete, accepted image.
    """
    analysis = imaging.analyse(path, thumbnail_size=thumbnail_size, preview_size=preview_size,
                               max_pixels=max_pixels)
    meta = analysis.metadata
    phash = imaging.perceptual_hash(analysis.thumbnail.data)
    return ImageReport(
        format=analysis.format.name, mime=analysis.format.mime,
        width=analysis.width, height=analysis.height,
        taken_at=_local(meta.taken_at),
        taken_at_offset_minutes=meta.taken_at.offset_minutes if meta.taken_at else None,
        taken_at_source=meta.taken_at.source if meta.taken_at else None,
        camera=meta.camera, gps=meta.gps, orientation=meta.orientation,
        colours=imaging.dominant_colours(analysis.thumbnail.data), phash=phash,
        similar=similar_photos(session=session, owner_id=owner_id, phash=phash),
    )
