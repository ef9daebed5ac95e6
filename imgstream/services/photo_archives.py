"""ZIP downloads of a person's photos: one streamed archive of the originals, as uploaded.

The archive is written while it is sent: each original is read from storage in blocks only when
the archive reaches it, so memory does not grow with the selection. Photos are stored, not
deflated (they are compressed already), and ZIP64 takes over past 4 GB or 65,535 entries.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from zipstream import ZIP_DEFLATED, ZIP_STORED, ZipStream

from imgstream.models import Photo
from imgstream.services.object_keys import original_of
from imgstream.services.storage import Storage

READ_BLOCK_BYTES = 256 * 1024
"""How much of an original is read from storage at a time."""
MAX_ARCHIVE_PHOTOS = 10_000
"""Most photos one archive holds."""
MAX_ARCHIVE_BYTES = 50 * 1000**3
"""Largest selection one archive holds, in bytes of originals."""
COMPRESSED_FORMATS = frozenset({"jpeg", "jpg", "png", "webp", "gif", "heic", "heif", "avif"})
"""Formats whose bytes are compressed already: deflating them again costs time and saves nothing."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


class ArchiveTooBig(Exception):  # noqa: N818
    """The selection is over the archive limits; the message says which one."""


@dataclass(frozen=True)
class ArchiveEntry:
    """One photo in an archive: where its bytes are, and what the archive calls it."""

    key: str
    name: str
    size: int
    compressed: bool


def archive_name(filename: str, taken: set[str]) -> str:
    """A safe, unique name inside a ZIP: no folders, no control characters, no duplicates.

    Args:
        filename: The photo's filename.
        taken: Names already in the archive (case-insensitive); the new name is added.

    Returns:
        The name to store the photo under: the original one, or "name (1).ext" and so on.
    """
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", filename)).strip().lstrip(".")
    name = name or "photo"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = stem[:150], ext[:10]
    candidate, number = name[:170], 1
    while candidate.casefold() in taken:
        candidate = f"{stem} ({number}){'.' + ext if ext else ''}"
        number += 1
    taken.add(candidate.casefold())
    return candidate


def parse_ids(raw: Iterable[str]) -> list[uuid.UUID]:
    """The photo ids among raw strings, in order, without repeats; malformed ones are skipped."""
    ids: dict[uuid.UUID, None] = {}
    for text in raw:
        try:
            ids[uuid.UUID(text.strip())] = None
        except ValueError:
            continue
    return list(ids)


def archive_entries(
    *, session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> list[ArchiveEntry]:
    """The owner's photos among photo_ids (not in the trash), oldest first, named uniquely.

    Someone else's photo ids, trashed photos and unknown ids are left out, as if not asked for.

    Raises:
        ArchiveTooBig: Over MAX_ARCHIVE_PHOTOS photos or MAX_ARCHIVE_BYTES bytes.
    """
    if len(photo_ids) > MAX_ARCHIVE_PHOTOS:
        raise ArchiveTooBig(f"at most {MAX_ARCHIVE_PHOTOS:,} photos fit in one download")
    photos: list[Photo] = []
    for start in range(0, len(photo_ids), 500):
        batch = photo_ids[start:start + 500]
        photos.extend(session.exec(
            select(Photo).where(Photo.owner_id == owner_id, col(Photo.id).in_(batch),
                                col(Photo.deleted_at).is_(None))
        ).all())
    photos.sort(key=lambda photo: (photo.taken_at, str(photo.id)))
    if sum(photo.size_bytes for photo in photos) > MAX_ARCHIVE_BYTES:
        raise ArchiveTooBig(f"at most {MAX_ARCHIVE_BYTES // 1000**3} GB fit in one download")
    taken: set[str] = set()
    return [
        ArchiveEntry(
            key=original_of(photo),
            name=archive_name(photo.filename, taken),
            size=photo.size_bytes,
            compressed=photo.format.lower() in COMPRESSED_FORMATS,
        )
        for photo in photos
    ]


def _blocks(storage: Storage, key: str) -> Iterator[bytes]:
    # Opened only when the archive reaches this entry: one original open at a time.
    with storage.open(key) as handle:
        while block := handle.read(READ_BLOCK_BYTES):
            yield block


def build_archive(*, storage: Storage, entries: list[ArchiveEntry]) -> ZipStream:
    """A ZIP of the entries that reads each original from storage as it is being sent.

    Every entry's size is known, so the archive's length is too (`len(archive)`) when all are
    stored: the browser shows real progress.
    """
    sized = all(entry.compressed for entry in entries)
    archive = ZipStream(compress_type=ZIP_STORED, sized=sized)
    for entry in entries:
        archive.add(
            _blocks(storage, entry.key), entry.name,
            size=entry.size if sized else None,
            compress_type=ZIP_STORED if entry.compressed else ZIP_DEFLATED,
        )
    return archive


def download_filename(count: int, *, today: datetime) -> str:
    """What the browser saves the archive as: "ImgStream 2026-12-03 (12 photos).zip"."""
    noun = "photo" if count == 1 else "photos"
    return f"ImgStream {today:%Y-%m-%d} ({count} {noun}).zip"
