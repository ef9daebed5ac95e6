"""Storage keys of a photo's objects: made from ids, never from user filenames."""

from __future__ import annotations

import uuid

from imgstream.models import Photo
from imgstream.services import imaging


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


def thumbnail_key(
    owner_id: uuid.UUID, photo_id: uuid.UUID, revision: int = 0, edit: str = ""
) -> str:
    """Storage key of a photo's thumbnail; `edit` tells renditions remade after an edit."""
    return f"thumbnails/{owner_id}/{_revised(photo_id, revision)}{edit}_thumb.webp"


def preview_key(
    owner_id: uuid.UUID, photo_id: uuid.UUID, extension: str, revision: int = 0,
    edit: str = "",
) -> str:
    """Storage key of a photo's preview (the detail view's image)."""
    return f"previews/{owner_id}/{_revised(photo_id, revision)}{edit}_preview.{extension}"

