"""Near-duplicates: photos of someone's library that look like an image, by perceptual hash.

Each photo keeps a 64-bit perceptual hash (`Photo.phash`, set at ingest, backfilled by
`regenerate_renditions`). Two images whose hashes differ in at most `MAX_DISTANCE` bits look
the same to a person: resized, recompressed, lightly edited or re-exported copies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo
from imgstream.services import imaging

MAX_DISTANCE = 6
"""Bits (of 64) two hashes may differ in for their images to count as near-duplicates."""
MAX_RESULTS = 12


@dataclass(frozen=True, slots=True)
class SimilarPhoto:
    """A photo that looks like the image, and how far apart their hashes are (0 to 64)."""

    photo: Photo
    distance: int


def similar_photos(
    *, session: Session, owner_id: uuid.UUID, phash: str, exclude: uuid.UUID | None = None,
    max_distance: int = MAX_DISTANCE, limit: int = MAX_RESULTS,
) -> list[SimilarPhoto]:
    """The owner's photos (not in the trash) that look like an image, closest first.

    The owner's distinct hashes are read in one query and compared in one pass (a 64-bit XOR
    and bit count each); only the photos of close hashes are loaded (`bench/similar_photos.py`
    measures it).

    Args:
        session: Database session.
        owner_id: Whose library.
        phash: The image's perceptual hash (16 hex digits).
        exclude: A photo to leave out (the one being looked at).
        max_distance: Largest distance that counts.
        limit: Most photos answered.

    Returns:
        The near-duplicates, closest first.
    """
    wanted = int(phash, 16)
    # Only the hashes travel (no ids, no row objects); the few close ones are looked up after.
    hashes = session.connection().execute(library_hashes(owner_id)).scalars()
    close = {other: (wanted ^ int(other, 16)).bit_count() for other in hashes}
    close = {other: bits for other, bits in close.items() if bits <= max_distance}
    if not close:
        return []
    photos = session.exec(select(Photo).where(
        Photo.owner_id == owner_id, Photo.deleted_at.is_(None),
        Photo.phash.in_(list(close)))).all()
    found = sorted((SimilarPhoto(photo, close[photo.phash]) for photo in photos
                    if photo.id != exclude), key=lambda s: (s.distance, str(s.photo.id)))
    return found[:limit]


def library_hashes(owner_id: uuid.UUID) -> sa.Select:
    """The distinct perceptual hashes of someone's library (not the trash).

    Read from `ix_photo_owner_phash` alone, already in order: no table row and no sort.
    """
    return sa.select(Photo.phash).where(
        Photo.owner_id == owner_id, Photo.deleted_at.is_(None), Photo.phash.is_not(None)
    ).distinct()


def similar_to_photo(
    *, session: Session, owner_id: uuid.UUID, photo: Photo, limit: int = MAX_RESULTS,
) -> list[SimilarPhoto]:
    """The owner's other photos that look like one of theirs (none before it has a hash)."""
    if not photo.phash:
        return []
    return similar_photos(session=session, owner_id=owner_id, phash=photo.phash,
                          exclude=photo.id, limit=limit)


def distance(a: str, b: str) -> int:
    """Bits two perceptual hashes differ in."""
    return imaging.hash_distance(a, b)
