"""Signed, expiring URLs for photo bytes served by the app's own media route."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from urllib.parse import quote, urlencode

# Expiry is rounded up to this window so the same image keeps the same URL for a while and the
# browser cache keeps working across page loads.
EXPIRY_WINDOW_SECONDS = 300


class InvalidSignature(Exception):  # noqa: N818
    """The URL was tampered with or has expired."""


def window_expiry(*, ttl_seconds: int, now: float | None = None) -> int:
    """When a URL minted now should expire: at least ttl_seconds away, on a window boundary.

    Args:
        ttl_seconds: Minimum lifetime of the URL.
        now: The current time (for tests).

    Returns:
        The expiry as a Unix timestamp, a multiple of EXPIRY_WINDOW_SECONDS.
    """
    moment = time.time() if now is None else now
    return math.ceil((moment + ttl_seconds) / EXPIRY_WINDOW_SECONDS) * EXPIRY_WINDOW_SECONDS


def content_disposition(filename: str) -> str:
    """An attachment header safe for any filename (RFC 6266 / RFC 5987)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _mac(secret: bytes, key: str, expires: int, download_name: str) -> str:
    message = f"{key}\n{expires}\n{download_name}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(
    *, secret: bytes, key: str, ttl_seconds: int, download_name: str = "", now: float | None = None
) -> str:
    """Build the path and query of a signed media URL.

    Args:
        secret: The app secret.
        key: The storage key of the object.
        ttl_seconds: Minimum lifetime of the URL.
        download_name: When set, the object is served as an attachment with this filename.
        now: The current time (for tests).

    Returns:
        A path like `/media/thumbnails/...?exp=...&sig=...`.
    """
    expires = window_expiry(ttl_seconds=ttl_seconds, now=now)
    params = {"exp": str(expires)}
    if download_name:
        params["dl"] = download_name
    params["sig"] = _mac(secret, key, expires, download_name)
    return f"/media/{quote(key)}?{urlencode(params, quote_via=quote)}"


_DIGITS = re.compile(r"[0-9]{1,18}")


def verify(
    *, secret: bytes, key: str, expires: str, signature: str, download_name: str = "",
    now: float | None = None,
) -> None:
    """Check a media URL's signature and expiry.

    Raises:
        InvalidSignature: When the signature does not match or the URL has expired.
    """
    # int() also reads other scripts' digits and surrounding spaces: only the spelling the app
    # signs is accepted.
    if not _DIGITS.fullmatch(expires):
        raise InvalidSignature("malformed expiry")
    expires_at = int(expires)
    expected = _mac(secret, key, expires_at, download_name)
    if not hmac.compare_digest(expected, signature):
        raise InvalidSignature("bad signature")
    if expires_at < (time.time() if now is None else now):
        raise InvalidSignature("expired")
