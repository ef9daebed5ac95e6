"""The detail view of one photo."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream import presentation
from imgstream.config import get_settings
from imgstream.models import RenditionKind
from imgstream.runtime import db_session, storage
from imgstream.services import photo_urls, renditions, timeline, trash
from imgstream.state import trash as trash_state
from imgstream.state.gallery import GalleryState
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class PhotoDetail:
    """What the detail view shows of one photo."""

    id: str
    filename: str
    image_url: str
    """Empty when it cannot be signed now: the view says the image cannot be shown."""
    image_aspect: str
    """CSS aspect-ratio of the preview ("1440 / 960")."""
    image_frame_width: str
    """CSS width that fits the preview in the column and in 80% of the window height."""
    placeholder: str
    download_url: str
    """Empty when it cannot be signed now."""
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
    "edited": "set by hand",
}


def load_detail(owner_id: uuid.UUID, raw_photo_id: str) -> PhotoDetail | None:
    """The owner's photo for the detail view; None when it is missing or not theirs."""
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return None
    with db_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return None
        preview = renditions.renditions_of(session=session, photo_ids=[photo.id]).get(
            (photo.id, RenditionKind.PREVIEW)
        )
    store = storage()
    image = photo_urls.preview(storage=store, photo=photo, rendition=preview)
    taken = presentation.taken_at_local(photo)
    offset = presentation.utc_offset_label(photo)
    return PhotoDetail(
        id=str(photo.id),
        filename=photo.filename,
        image_url=image.url,
        image_aspect=f"{photo.width} / {photo.height}",
        image_frame_width=f"min(100%, calc(80vh * {photo.width / photo.height:.5f}))",
        placeholder=image.placeholder,
        download_url=photo_urls.download_url(storage=store, photo=photo),
        taken_label=taken.strftime("%-d %B %Y, %H:%M") + (f" ({offset})" if offset else ""),
        taken_source=_DATE_SOURCES.get(photo.taken_at_source, ""),
        dimensions=f"{photo.width} × {photo.height}",
        size_label=presentation.describe_size(photo),
        format=photo.format,
        camera=presentation.camera_label(photo),
        lens=photo.lens or "",
        exposure=presentation.exposure_label(photo),
        location=presentation.location_label(photo),
    )


def _move_to_trash(owner_id: uuid.UUID, raw_photo_id: str) -> bool:
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return False
    with db_session() as session:
        return trash.move_to_trash(session=session, owner_id=owner_id, photo_id=photo_id)


class PhotoState(rx.State):
    """The photo being viewed."""

    detail: PhotoDetail | None = None
    not_found: bool = False

    @rx.var
    def trash_days(self) -> int:
        """Days the trash keeps a photo."""
        return get_settings().trash_days

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
    async def move_to_trash(self):
        """Move the photo on screen to the trash and go back to the library, with an undo."""
        if self.detail is None:
            return None
        detail = self.detail
        owner_id = await (await self.get_state(SessionState)).user_id()
        moved = await asyncio.to_thread(_move_to_trash, owner_id, detail.id)
        self.detail = None
        if not moved:
            return rx.redirect("/")
        return [
            rx.redirect("/"),
            rx.toast.success(
                f"Moved {detail.filename} to the trash.",
                action={"label": "Undo", "on_click": PhotoState.undo_move_to_trash(detail.id)},
                duration=10_000,
                close_button=True,
            ),
        ]

    @rx.event
    async def undo_move_to_trash(self, photo_id: str):
        """Take a photo just moved to the trash back out, and show it in the library again."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        name = await asyncio.to_thread(trash_state.restore, owner_id, photo_id)
        if name is None:
            return rx.toast.warning("That photo is no longer in the trash.")
        return [GalleryState.load_first_page, rx.toast.success(f"Restored {name}.")]
