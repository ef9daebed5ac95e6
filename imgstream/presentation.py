"""Display labels for people: dates, sizes, camera, exposure and location of photos."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from imgstream.models import Photo, as_utc


def taken_at_local(photo: Photo) -> datetime:
    """When the photo was taken, as the clock showed where it was taken."""
    moment = as_utc(photo.taken_at)
    if photo.taken_at_offset_minutes is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(timezone(timedelta(minutes=photo.taken_at_offset_minutes)))


def utc_offset_label(photo: Photo) -> str:
    """The UTC offset where the photo was taken ("UTC+02:00"), or "" when unknown."""
    minutes = photo.taken_at_offset_minutes
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def describe_size(photo: Photo) -> str:
    """The file size for people."""
    return format_bytes(photo.size_bytes)


def camera_label(photo: Photo) -> str:
    """Make and model for people ("Apple iPhone 15 Pro"), without the make said twice."""
    make, model = photo.camera_make or "", photo.camera_model or ""
    if make and model.casefold().startswith(make.split()[0].casefold()):
        return model
    return " ".join(part for part in (make, model) if part)


def exposure_label(photo: Photo) -> str:
    """Aperture, shutter speed, focal length and ISO, those that are known."""
    parts = []
    if photo.f_number:
        parts.append(f"ƒ/{photo.f_number:.3g}")
    if photo.exposure_time_s:
        seconds = photo.exposure_time_s
        if seconds < 0.5:
            parts.append(f"1/{round(1 / seconds)} s")
        else:
            parts.append(f"{seconds:.3g} s")
    if photo.focal_length_mm:
        parts.append(f"{photo.focal_length_mm:.3g} mm")
    if photo.iso:
        parts.append(f"ISO {photo.iso}")
    return " · ".join(parts)


def location_label(photo: Photo) -> str:
    """GPS position in degrees with hemispheres, or "" when the photo has none."""
    if photo.gps_latitude is None or photo.gps_longitude is None:
        return ""
    lat, lon = photo.gps_latitude, photo.gps_longitude
    return (
        f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, "
        f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
    )



def format_bytes(size: int) -> str:
    """A size for people, in decimal units (100 MB means 100,000,000 bytes)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return "1 byte" if size == 1 else f"{size} bytes"
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1000
    raise AssertionError("unreachable")

