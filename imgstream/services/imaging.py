"""Everything that looks inside an image: format sniffing, validation, metadata, thumbnails.

This is the only module that imports Pillow.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# A truncated file is an error, never a half-grey thumbnail.
ImageFile.LOAD_TRUNCATED_IMAGES = False

EXIF_IFD = 0x8769
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME = 0x9010


class UnsupportedImage(Exception):  # noqa: N818 - the domain name for "not a supported image"
    """The bytes are not an image ImgStream accepts; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    """An accepted image format."""

    name: str
    mime: str
    extension: str


JPEG = ImageFormat("JPEG", "image/jpeg", "jpg")
PNG = ImageFormat("PNG", "image/png", "png")
WEBP = ImageFormat("WEBP", "image/webp", "webp")
ACCEPTED_FORMATS = (JPEG, PNG, WEBP)
MIME_BY_EXTENSION = {fmt.extension: fmt.mime for fmt in ACCEPTED_FORMATS} | {"webp": WEBP.mime}


def format_named(name: str) -> ImageFormat:
    """The accepted format with this name (as stored on a photo)."""
    return next(fmt for fmt in ACCEPTED_FORMATS if fmt.name == name)


@dataclass(frozen=True, slots=True)
class TakenAt:
    """When a photo was taken, and where that date came from."""

    utc: datetime
    offset_minutes: int | None
    source: str


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    """What one decode of an uploaded image yields."""

    format: ImageFormat
    width: int
    height: int
    taken_at: TakenAt | None
    thumbnail_webp: bytes
    thumbnail_width: int
    thumbnail_height: int


def sniff_format(head: bytes) -> ImageFormat | None:
    """Tell the real format from the first bytes of a file, ignoring names and headers.

    Args:
        head: At least the first 12 bytes of the file.

    Returns:
        The accepted format the bytes are in, or None.
    """
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def analyse(path: Path, *, thumbnail_size: int, max_pixels: int) -> ImageAnalysis:
    """Validate an image file and derive its metadata and thumbnail from one decode.

    Args:
        path: The uploaded file.
        thumbnail_size: Longest edge of the thumbnail, in pixels.
        max_pixels: Images with more pixels than this are refused before decoding.

    Returns:
        The analysis.

    Raises:
        UnsupportedImage: For anything that is not a complete, accepted image.
    """
    with path.open("rb") as fh:
        head = fh.read(16)
        if not head:
            raise UnsupportedImage("the file is empty")
        fmt = sniff_format(head)
        if fmt is None:
            raise UnsupportedImage("the file is not a JPEG, PNG or WebP image")
        fh.seek(0)
        # Pillow's own bomb check runs inside Image.open, before any pixel is decoded.
        Image.MAX_IMAGE_PIXELS = max_pixels
        too_many_pixels = f"the image has more than {max_pixels / 1e6:.0f} megapixels"
        try:
            return _analyse_open(fh, fmt, thumbnail_size=thumbnail_size, max_pixels=max_pixels)
        except UnsupportedImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UnsupportedImage(too_many_pixels) from exc
        except (
            UnidentifiedImageError,
            OSError,
            ValueError,
            SyntaxError,
            EOFError,
            struct.error,
            IndexError,
            KeyError,
            TypeError,
            ZeroDivisionError,
            MemoryError,
        ) as exc:
            raise UnsupportedImage(_reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if "truncated" in text or isinstance(exc, EOFError):
        return "the file is incomplete (truncated)"
    return "the image data is damaged or unreadable"


def _analyse_open(
    fh: io.BufferedReader, fmt: ImageFormat, *, thumbnail_size: int, max_pixels: int
) -> ImageAnalysis:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fh, formats=[fmt.name]) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise Image.DecompressionBombError(f"{width}x{height}")
            exif = im.getexif()
            orientation = exif.get(0x0112, 1)
            taken_at = _taken_at(exif)
            if fmt is JPEG:
                # DCT scaling: decode at the smallest scale whose long edge is still at least
                # twice the thumbnail's, so the final resize has detail to work with.
                scale = min(1.0, 2 * thumbnail_size / max(width, height))
                im.draft("RGB", (math.ceil(im.width * scale), math.ceil(im.height * scale)))
            im.load()
            upright = ImageOps.exif_transpose(im)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            thumb = _to_display_mode(upright)
            thumb.thumbnail((thumbnail_size, thumbnail_size), Image.Resampling.LANCZOS,
                            reducing_gap=3.0)
            out = io.BytesIO()
            thumb.save(out, "WEBP", quality=82, method=4)
            return ImageAnalysis(
                format=fmt,
                width=width,
                height=height,
                taken_at=taken_at,
                thumbnail_webp=out.getvalue(),
                thumbnail_width=thumb.width,
                thumbnail_height=thumb.height,
            )


def _to_display_mode(im: Image.Image) -> Image.Image:
    """An 8-bit RGB or RGBA copy, scaling 16-bit values instead of clipping them."""
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return im.point(lambda v: v / 257).convert("L").convert("RGB")
    if im.mode in ("P", "LA", "PA") or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")


def _taken_at(exif: Image.Exif) -> TakenAt | None:
    sub = exif.get_ifd(EXIF_IFD)
    return _parse_exif_datetime(
        sub.get(TAG_DATETIME_ORIGINAL), sub.get(TAG_OFFSET_TIME_ORIGINAL), "exif_original"
    ) or _parse_exif_datetime(exif.get(TAG_DATETIME), sub.get(TAG_OFFSET_TIME), "exif_datetime")


def _parse_exif_datetime(value: object, offset: object, source: str) -> TakenAt | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    try:
        local = datetime.strptime(value[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if local.year < 1826:  # before the first photograph: a camera with an unset clock
        return None
    minutes = _parse_offset(offset)
    if minutes is None:
        # No offset recorded: keep the wall-clock time as it was shown on the camera.
        return TakenAt(utc=local.replace(tzinfo=UTC), offset_minutes=None, source=source)
    aware = local.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    return TakenAt(utc=aware.astimezone(UTC), offset_minutes=minutes, source=source)


def _parse_offset(value: object) -> int | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    if len(value) != 6 or value[0] not in "+-" or value[3] != ":":
        return None
    try:
        hours, minutes = int(value[1:3]), int(value[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if value[0] == "-" else 1
    return sign * (hours * 60 + minutes)
