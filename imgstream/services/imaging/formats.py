"""The image formats ImgStream accepts, told apart by their bytes, never by names or headers.

No image library is imported here: anything may use these constants without loading one.
"""

from __future__ import annotations

from dataclasses import dataclass


class UnsupportedImage(Exception):  # noqa: N818 - the domain name for "not a supported image"
    """The bytes are not an image ImgStream accepts; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    """An image format ImgStream reads or writes."""

    name: str
    mime: str
    extension: str
    pillow: str
    """The name of Pillow's plugin for it."""
    browser: bool
    """Whether every current browser shows it in an <img>."""


JPEG = ImageFormat("JPEG", "image/jpeg", "jpg", "JPEG", True)
PNG = ImageFormat("PNG", "image/png", "png", "PNG", True)
WEBP = ImageFormat("WEBP", "image/webp", "webp", "WEBP", True)
GIF = ImageFormat("GIF", "image/gif", "gif", "GIF", True)
HEIC = ImageFormat("HEIC", "image/heic", "heic", "HEIF", False)
HEIF = ImageFormat("HEIF", "image/heif", "heif", "HEIF", False)
AVIF = ImageFormat("AVIF", "image/avif", "avif", "AVIF", True)
ACCEPTED_FORMATS = (JPEG, PNG, WEBP, GIF, HEIC, HEIF, AVIF)
ACCEPTED_NAMES = "JPEG, PNG, WebP, GIF, HEIC or AVIF"
"""The accepted formats as people know them (HEIF is HEIC to them)."""
ACCEPTED_DESCRIPTION = f"a {ACCEPTED_NAMES} image"
MIME_BY_EXTENSION = {fmt.extension: fmt.mime for fmt in ACCEPTED_FORMATS}
SELF_PREVIEW_FORMATS = (JPEG, PNG, WEBP)
"""An original in one of these, within the preview size, upright and single-frame, is shown as
its own preview."""

# ISO base media file brands (ftyp box): HEVC-coded HEIF, AV1-coded AVIF, generic HEIF.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}


def format_named(name: str) -> ImageFormat:
    """The accepted format with this name (as stored on a photo)."""
    return next(fmt for fmt in ACCEPTED_FORMATS if fmt.name == name)


def sniff_format(head: bytes) -> ImageFormat | None:
    """Tell the real format from the first bytes of a file, ignoring names and headers.

    Args:
        head: The first bytes of the file (64 are enough for every accepted format).

    Returns:
        The accepted format the bytes are in, or None.
    """
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[4:8] == b"ftyp" and len(head) >= 12:
        box_size = int.from_bytes(head[:4], "big")
        major = head[8:12]
        compatible = {head[i:i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
        brands = {major} | compatible
        if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
            return HEIC
        if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
            return AVIF
        if major in _HEIF_BRANDS:
            return HEIF
    return None
