"""What is read from an image, copied onto its photo row."""

from __future__ import annotations

from imgstream.models import Photo
from imgstream.services import imaging


def apply_metadata(photo: Photo, analysis: imaging.ImageAnalysis) -> None:
    """Copy what was read from the image onto its row (date taken falls back to upload time).

    Args:
        photo: The row; its `uploaded_at` must be set.
        analysis: The image's analysis.
    """
    meta = analysis.metadata
    taken = meta.taken_at
    photo.taken_at = taken.utc if taken else photo.uploaded_at
    photo.taken_at_offset_minutes = taken.offset_minutes if taken else None
    photo.taken_at_source = taken.source if taken else "upload_time"
    photo.thumbhash = analysis.thumbhash
    photo.phash = imaging.perceptual_hash(analysis.thumbnail.data)
    photo.camera_make = meta.camera.make
    photo.camera_model = meta.camera.model
    photo.lens = meta.camera.lens
    photo.focal_length_mm = meta.camera.focal_length_mm
    photo.f_number = meta.camera.f_number
    photo.exposure_time_s = meta.camera.exposure_time_s
    photo.iso = meta.camera.iso
    photo.gps_latitude = meta.gps.latitude if meta.gps else None
    photo.gps_longitude = meta.gps.longitude if meta.gps else None


def metadata_values(staged: Photo, analysis: imaging.ImageAnalysis) -> dict[str, object]:
    """The columns `apply_metadata` sets, by name, for an UPDATE (applied to `staged` too)."""
    apply_metadata(staged, analysis)
    fields = ("taken_at", "taken_at_offset_minutes", "taken_at_source", "thumbhash", "phash",
              "camera_make", "camera_model", "lens", "focal_length_mm", "f_number",
              "exposure_time_s", "iso", "gps_latitude", "gps_longitude")
    return {name: getattr(staged, name) for name in fields}

