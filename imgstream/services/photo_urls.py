"""URLs of a photo's images for the browser, and what a page shows when none can be signed.

The one place where a URL that cannot be signed (no signing identity, IAM refused) becomes a
placeholder: a page never fails because of it, and the log says once what is missing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from imgstream.models import Photo, Rendition
from imgstream.services import imaging
from imgstream.services.object_keys import original_of, thumbnail_key
from imgstream.services.renditions import preview_of, thumbnail_of
from imgstream.services.storage import Storage, UrlUnavailable

log = logging.getLogger(__name__)

# A key of the shape the app makes, for the health probe: signing needs no object behind it.
_PROBE_KEY = thumbnail_key(uuid.UUID(int=0), uuid.UUID(int=0))

_reported: set[str] = set()
_reported_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ShownImage:
    """An image of a photo, as a page shows it."""

    url: str
    """Where the browser fetches it; "" when no URL can be signed now."""
    placeholder: str
    """A data URL of the photo's blurred thumbhash image; "" when it has none (a neutral tile)."""


def url_or_none(*, storage: Storage, key: str, download_name: str = "") -> str | None:
    """A URL the browser can fetch an object from, or None when none can be signed now.

    Args:
        storage: The store.
        key: Storage key of the object.
        download_name: When set, the object downloads as an attachment with this filename.

    Returns:
        The URL, or None (what is missing is logged once per process).
    """
    try:
        return storage.url_for(key, download_name=download_name)
    except UrlUnavailable as exc:
        _report(exc)
        return None


def placeholder(photo: Photo) -> str:
    """The data URL of a photo's blurred thumbhash image; "" when it has none."""
    return imaging.placeholder_data_url(photo.thumbhash) if photo.thumbhash else ""


def thumbnail(*, storage: Storage, photo: Photo, rendition: Rendition | None) -> ShownImage:
    """The image a grid shows for a photo.

    Args:
        storage: The store.
        photo: The photo.
        rendition: Its thumbnail's row, when recorded.

    Returns:
        The thumbnail's URL ("" when it cannot be signed) and the photo's placeholder.
    """
    url = url_or_none(storage=storage, key=thumbnail_of(photo, rendition))
    return ShownImage(url=url or "", placeholder=placeholder(photo))


def preview(*, storage: Storage, photo: Photo, rendition: Rendition | None) -> ShownImage:
    """The image the detail view shows for a photo.

    Args:
        storage: The store.
        photo: The photo.
        rendition: Its preview's row, when recorded.

    Returns:
        The preview's URL ("" when it cannot be signed) and the photo's placeholder.
    """
    url = url_or_none(storage=storage, key=preview_of(photo, rendition))
    return ShownImage(url=url or "", placeholder=placeholder(photo))


BROWSER_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "AVIF"})
"""Formats every browser draws: their originals are shown as they are when zoomed in."""


def full_resolution(*, storage: Storage, photo: Photo, preview_url: str) -> str:
    """The URL of the photo at full resolution, for zooming in.

    Its original when browsers draw its format, else its preview; "" when none can be signed.
    """
    if photo.format.upper() not in BROWSER_FORMATS:
        return preview_url
    return url_or_none(storage=storage, key=original_of(photo)) or preview_url


def download_url(*, storage: Storage, photo: Photo) -> str:
    """A URL that downloads a photo's original under its filename; "" when none can be signed."""
    return url_or_none(storage=storage, key=original_of(photo), download_name=photo.filename) or ""


def check_signing(*, storage: Storage) -> None:
    """Sign a URL as the pages do, for /health.

    Args:
        storage: The store.

    Raises:
        UrlUnavailable: No URL can be signed now (what is missing is logged once per process).
    """
    try:
        storage.url_for(_PROBE_KEY)
    except UrlUnavailable as exc:
        _report(exc)
        raise


def _report(exc: UrlUnavailable) -> None:
    reason = str(exc)
    with _reported_lock:
        if reason in _reported:
            return
        _reported.add(reason)
    log.error("Photos show placeholders because their URLs cannot be signed: %s", reason)
