"""The detail view of one photo."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream.models import RenditionKind
from imgstream.runtime import db_session, storage
from imgstream.services import imaging, photos
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class PhotoDetail:
    """What the detail view shows of one photo."""

    id: str
    filename: str
    image_url: str
    image_aspect: str
    """CSS aspect-ratio of the preview ("1440 / 960")."""
    image_frame_width: str
    """CSS width that fits the preview in the column and in 80% of the window height."""
    placeholder: str
    download_url: str
    taken_label: str
    taken_source: str
    dimensions: str
    size_label: str
    format: str
    camera: str
    lens: str
    exposure: str
    location: str


_DATE_SOURCES = {
    "exif_original": "",
    "exif_digitized": "date digitised",
    "exif_datetime": "date the file was written",
    "upload_time": "upload time, the photo has no date",
}


def load_detail(owner_id: uuid.UUID, raw_photo_id: str) -> PhotoDetail | None:
    """The owner's photo for the detail view; None when it is missing or not theirs."""
    photo_id = photos.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return None
    with db_session() as session:
        photo = photos.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return None
        preview = photos.renditions_of(session=session, photo_ids=[photo.id]).get(
            (photo.id, RenditionKind.PREVIEW)
        )
    store = storage()
    original = photos.original_of(photo)
    taken = photos.taken_at_local(photo)
    offset = photos.utc_offset_label(photo)
    return PhotoDetail(
        id=str(photo.id),
        filename=photo.filename,
        image_url=store.url_for(photos.preview_of(photo, preview)),
        image_aspect=f"{photo.width} / {photo.height}",
        image_frame_width=f"min(100%, calc(80vh * {photo.width / photo.height:.5f}))",
        placeholder=imaging.placeholder_data_url(photo.thumbhash) if photo.thumbhash else "",
        download_url=store.url_for(original, download_name=photo.filename),
        taken_label=taken.strftime("%-d %B %Y, %H:%M") + (f" ({offset})" if offset else ""),
        taken_source=_DATE_SOURCES.get(photo.taken_at_source, ""),
        dimensions=f"{photo.width} × {photo.height}",
        size_label=photos.describe_size(photo),
        format=photo.format,
        camera=photos.camera_label(photo),
        lens=photo.lens or "",
        exposure=photos.exposure_label(photo),
        location=photos.location_label(photo),
    )


def _delete(owner_id: uuid.UUID, raw_photo_id: str) -> bool:
    photo_id = photos.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return False
    with db_session() as session:
        return photos.delete_photo(session=session, storage=storage(), owner_id=owner_id,
                                   photo_id=photo_id)


class PhotoState(rx.State):
    """The photo being viewed."""

    detail: PhotoDetail | None = None
    not_found: bool = False

    @rx.event
    async def load_photo(self) -> None:
        """Read the photo named in the URL."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        raw_id = self.router.page.params.get("photo_id", "")
        self.detail = await asyncio.to_thread(load_detail, owner_id, str(raw_id))
        self.not_found = self.detail is None

    @rx.event
    async def delete_photo(self):
        """Delete the photo on screen and go back to the library."""
        if self.detail is None:
            return None
        owner_id = await (await self.get_state(SessionState)).user_id()
        await asyncio.to_thread(_delete, owner_id, self.detail.id)
        self.detail = None
        return rx.redirect("/")
