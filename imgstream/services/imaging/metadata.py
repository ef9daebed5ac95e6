"""What an image's EXIF says, read as untrusted input: orientation, date taken, camera, GPS.

A part that cannot be read is left out, never an error; text is made safe to store and show.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO, TypeVar

from PIL import Image

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TAG_ORIENTATION = 0x0112
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_DATETIME = 0x0132
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_EXPOSURE_TIME = 0x829A
TAG_F_NUMBER = 0x829D
TAG_ISO = 0x8827
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME_DIGITIZED = 0x9012
TAG_FOCAL_LENGTH = 0x920A
TAG_LENS_MODEL = 0xA434
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4

MAX_TEXT_LENGTH = 128
"""Longest EXIF text kept (make, model, lens), in characters."""
MAX_PNG_CHUNKS = 100_000
"""Most PNG chunk headers walked looking for EXIF stored after the image data."""
MAX_PNG_EXIF_BYTES = 4 * 2**20
"""Larger eXIf chunks in a PNG are ignored."""


@dataclass(frozen=True, slots=True)
class TakenAt:
    """When a photo was taken, and where that date came from."""

    utc: datetime
    offset_minutes: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Camera:
    """What took the photo and how; every field is optional."""

    make: str | None = None
    model: str | None = None
    lens: str | None = None
    focal_length_mm: float | None = None
    f_number: float | None = None
    exposure_time_s: float | None = None
    iso: int | None = None


@dataclass(frozen=True, slots=True)
class GpsPosition:
    """Where the photo was taken, in decimal degrees (north and east positive)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    """What the EXIF of an image says, sanitised."""

    orientation: int = 1
    taken_at: TakenAt | None = None
    camera: Camera = field(default_factory=Camera)
    gps: GpsPosition | None = None


def png_exif_after_pixels(fh: BinaryIO) -> bytes | None:
    """The eXIf chunk of a PNG that has it after the image data, found from chunk headers only.

    Pillow would decode the whole image looking for it. Gives up (no EXIF) past
    `MAX_PNG_CHUNKS` chunks or an eXIf over `MAX_PNG_EXIF_BYTES`.
    """
    fh.seek(8)
    for _ in range(MAX_PNG_CHUNKS):
        header = fh.read(8)
        if len(header) < 8:
            return None
        length, kind = struct.unpack(">I4s", header)
        if kind == b"eXIf":
            data = fh.read(length) if length <= MAX_PNG_EXIF_BYTES else b""
            return data if data and len(data) == length else None
        if kind == b"IEND":
            return None
        fh.seek(length + 4, io.SEEK_CUR)
    return None


def read_metadata(im: Image.Image) -> PhotoMetadata:
    """Orientation, date taken, camera and GPS from an opened image's EXIF.

    EXIF is untrusted input: a part that cannot be read is left out, never an error, and text
    is sanitised with `clean_text`.

    Args:
        im: An opened (not necessarily loaded) image.

    Returns:
        The metadata; empty when there is no readable EXIF.
    """
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - bad EXIF means no EXIF, not a failed upload
        return PhotoMetadata()
    orientation = _orientation(exif)
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001
        sub = {}
    try:
        gps_ifd = exif.get_ifd(GPS_IFD)
    except Exception:  # noqa: BLE001
        gps_ifd = {}
    return PhotoMetadata(
        orientation=orientation,
        taken_at=_guard(lambda: _taken_at(exif, sub)),
        camera=_guard(lambda: _camera(exif, sub)) or Camera(),
        gps=_guard(lambda: gps_position(gps_ifd)),
    )


def _guard(read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except Exception:  # noqa: BLE001 - one unreadable EXIF field never spoils the others
        log.debug("unreadable EXIF field", exc_info=True)
        return None


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(TAG_ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _taken_at(exif: Image.Exif, sub: dict) -> TakenAt | None:
    return (
        parse_exif_datetime(
            sub.get(TAG_DATETIME_ORIGINAL), sub.get(TAG_OFFSET_TIME_ORIGINAL), "exif_original"
        )
        or parse_exif_datetime(
            sub.get(TAG_DATETIME_DIGITIZED), sub.get(TAG_OFFSET_TIME_DIGITIZED), "exif_digitized"
        )
        or parse_exif_datetime(exif.get(TAG_DATETIME), sub.get(TAG_OFFSET_TIME), "exif_datetime")
    )


def _camera(exif: Image.Exif, sub: dict) -> Camera:
    return Camera(
        make=clean_text(exif.get(TAG_MAKE)),
        model=clean_text(exif.get(TAG_MODEL)),
        lens=clean_text(sub.get(TAG_LENS_MODEL)),
        focal_length_mm=_number(sub.get(TAG_FOCAL_LENGTH), 0.1, 10_000),
        f_number=_number(sub.get(TAG_F_NUMBER), 0.3, 1_000),
        exposure_time_s=_number(sub.get(TAG_EXPOSURE_TIME), 1e-7, 100_000),
        iso=_iso(sub.get(TAG_ISO)),
    )


def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _iso(value: object) -> int | None:
    number = _number(value, 1, 10_000_000)
    return round(number) if number is not None else None


def gps_position(gps: dict) -> GpsPosition | None:
    """Decimal degrees from a GPS IFD's degree/minute/second rationals and N/S/E/W refs.

    Args:
        gps: The GPS IFD, tag number to value.

    Returns:
        The position, or None when it is missing or out of range.
    """
    latitude = _degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF), b"S", 90)
    longitude = _degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF), b"W", 180)
    if latitude is None or longitude is None:
        return None
    return GpsPosition(latitude, longitude)


def _degrees(value: object, ref: object, negative: bytes, limit: float) -> float | None:
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(part, 0, 100_000) for part in value]
    if any(part is None for part in parts):
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts))  # type: ignore[operator]
    if isinstance(ref, str):
        ref = ref.encode("ascii", "ignore")
    if isinstance(ref, bytes) and ref.strip(b"\x00 ").upper() == negative:
        degrees = -degrees
    return round(degrees, 7) if -limit <= degrees <= limit else None


def clean_text(value: object, *, limit: int = MAX_TEXT_LENGTH) -> str | None:
    """EXIF text made safe to store and show.

    Decoded leniently, NFC-normalised, stripped of control, format (bidi overrides, zero-width)
    and other invisible characters, whitespace collapsed and capped at `limit` characters.

    Args:
        value: A raw EXIF value (str or bytes; anything else gives None).
        limit: Most characters kept.

    Returns:
        The text, or None when nothing printable is left.
    """
    if isinstance(value, str):
        # Pillow decodes EXIF ASCII as Latin-1; cameras and phones write UTF-8 there.
        try:
            value = value[: limit * 4].encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = unicodedata.normalize("NFC", value[: limit * 4])
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch.isspace()
    )
    text = " ".join(kept.split())[:limit].strip()
    return text or None


def parse_exif_datetime(value: object, offset: object, source: str) -> TakenAt | None:
    """An EXIF `YYYY:MM:DD HH:MM:SS` with its optional `+HH:MM` offset, as UTC.

    Args:
        value: The date tag's value.
        offset: The matching OffsetTime* tag's value, or None.
        source: Recorded as where the date came from.

    Returns:
        The moment, or None for an empty, malformed or implausible date.
    """
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
    return sign * (hours * 60 + minutes)


# Tags that say where a photo was taken or which device took it: the GPS IFD, the body and
# lens serial numbers (Exif IFD, and IFD0 as DNG writes it), and the maker note, an opaque
# vendor block that often repeats both.
_GPS_IFD_TAG = 0x8825
_EXIF_IFD_TAG = 0x8769
_PRIVATE_EXIF_TAGS = (0xA431, 0xA435, 0x927C)
_PRIVATE_IFD0_TAGS = (0xC62F, _GPS_IFD_TAG)
_ORIENTATION_TAG = 0x0112


def exif_without_location(payload: bytes) -> bytes:
    """An EXIF block (TIFF bytes, with or without the Exif header) without GPS or serials.

    Everything else is kept (dates, camera, exposure, orientation). When the block cannot be
    parsed and written again, only its orientation survives, so the photo still shows upright.

    Args:
        payload: The EXIF block as stored in a JPEG APP1 segment.

    Returns:
        The cleaned EXIF block as TIFF bytes (without the Exif header).
    """
    exif = Image.Exif()
    try:
        exif.load(payload)
        sub = exif.get_ifd(_EXIF_IFD_TAG)
        for tag in _PRIVATE_EXIF_TAGS:
            sub.pop(tag, None)
        for tag in _PRIVATE_IFD0_TAGS:
            exif.pop(tag, None)
        exif._ifds.pop(_GPS_IFD_TAG, None)  # noqa: SLF001 - keeps tobytes from writing it back
        return exif.tobytes()[6:]
    except Exception:  # noqa: BLE001 - any malformed block is replaced by a minimal one
        minimal = Image.Exif()
        orientation = exif.get(_ORIENTATION_TAG) if len(exif) else None
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            minimal[_ORIENTATION_TAG] = orientation
        return minimal.tobytes()[6:]
