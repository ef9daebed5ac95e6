"""/api/v1/analyze: what an image is, and which photos of the caller's library look like it.

The image is the request body; it is spooled while it arrives (within the size limit and the
body deadline), analysed in an ingest slot, and removed before the answer: nothing is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from imgstream.api.v1 import rate_limits
from imgstream.api.v1.callers import Reader
from imgstream.api.v1.photos import Exposure, Location
from imgstream.api.v1.problems import ProblemError, problems
from imgstream.api.v1.uploads import within_deadline
from imgstream.config import get_settings
from imgstream.runtime import db_session
from imgstream.services import image_report, imaging, ingest_slots
from imgstream.services.spooling import FileTooLarge, IncomingFile

router = APIRouter(tags=["analysis"])
MAX_ANALYSIS_BYTES = 32 * 1024 * 1024
"""Cloud Run refuses larger HTTP/1 requests anyway."""


class Camera(BaseModel):
    """What took the photo."""

    make: str | None
    model: str | None
    lens: str | None


class DominantColour(BaseModel):
    """One of the image's main colours and the share of the image it covers."""

    hex: str = Field(description="#rrggbb")
    share: float


class SimilarPhotoOut(BaseModel):
    """A photo of the caller's library that looks like the image."""

    id: uuid.UUID
    filename: str
    distance: int = Field(description="Bits (of 64) the perceptual hashes differ in.")


class Analysis(BaseModel):
    """What the image is. Nothing of it was stored."""

    format: str
    mime: str
    width: int = Field(description="After the EXIF orientation.")
    height: int
    orientation: int
    taken_at: datetime | None = Field(description="With the offset where it was taken, when "
                                      "the EXIF says; else UTC.")
    taken_at_offset_minutes: int | None
    taken_at_source: str | None
    camera: Camera
    exposure: Exposure
    location: Location | None
    dominant_colours: list[DominantColour]
    perceptual_hash: str = Field(description="64-bit difference hash, 16 hex digits.")
    similar: list[SimilarPhotoOut] = Field(
        description="Near-duplicates in the caller's library, closest first.")
    labels: list[str] = Field(
        default_factory=list,
        description="Always empty: no scene classifier ships inside a Python package.")


_BODY = {"requestBody": {"required": True, "content": {
    "image/*": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}}}


def _out(report: image_report.ImageReport) -> Analysis:
    camera = report.camera
    return Analysis(
        format=report.format, mime=report.mime, width=report.width, height=report.height,
        orientation=report.orientation, taken_at=report.taken_at,
        taken_at_offset_minutes=report.taken_at_offset_minutes,
        taken_at_source=report.taken_at_source,
        camera=Camera(make=camera.make, model=camera.model, lens=camera.lens),
        exposure=Exposure(focal_length_mm=camera.focal_length_mm, f_number=camera.f_number,
                          exposure_time_s=camera.exposure_time_s, iso=camera.iso),
        location=Location(latitude=report.gps.latitude, longitude=report.gps.longitude)
        if report.gps else None,
        dominant_colours=[DominantColour(hex=c.hex, share=c.share) for c in report.colours],
        perceptual_hash=report.phash,
        similar=[SimilarPhotoOut(id=s.photo.id, filename=s.photo.filename, distance=s.distance)
                 for s in report.similar],
    )


@router.post("/analyze", response_model=Analysis, summary="Analyse an image",
             responses=problems(400, 401, 403, 408, 413, 415, 422, 429), openapi_extra=_BODY)
async def analyze(request: Request, caller: Reader) -> Analysis:
    """Analyse the image in the body; nothing is stored.

    Answers format, dimensions, EXIF, dominant colours, perceptual hash and the near-duplicates
    in the caller's library.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and not (media_type.startswith("image/")
                           or media_type == "application/octet-stream"):
        raise ProblemError(415, "send the image itself as the body (Content-Type: image/...)")
    settings = get_settings()
    limit = min(settings.max_upload_bytes, MAX_ANALYSIS_BYTES)
    announced = request.headers.get("content-length", "")
    if announced.isascii() and announced.isdigit() and len(announced) < 19:
        await rate_limits.count_upload_bytes(user_id=caller.user_id, size=int(announced))
    incoming = IncomingFile(filename="analysed", spool_dir=settings.incoming_dir,
                            max_bytes=limit)
    try:
        try:
            async for data in within_deadline(request):
                incoming.write(data)
        except FileTooLarge as too_large:
            raise ProblemError(413, f"the image is {too_large}") from None
        incoming.finish()
        if incoming.size == 0:
            raise ProblemError(400, "the body is empty: send the image")

        def analyse() -> image_report.ImageReport:
            with db_session() as session:
                return image_report.analyse_image(
                    session=session, owner_id=caller.user_id, path=incoming.path,
                    thumbnail_size=settings.thumbnail_size, preview_size=settings.preview_size,
                    max_pixels=settings.max_image_pixels)

        try:
            report = await ingest_slots.run_ingest(analyse)
        except imaging.UnsupportedImage as unsupported:
            raise ProblemError(422, f"not an image that can be analysed: {unsupported}") from None
    finally:
        incoming.discard()
    return _out(report)
