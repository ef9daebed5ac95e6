"""The detail view of one photo."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream.runtime import db_session, storage
from imgstream.services import photos
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class PhotoDetail:
    """What the detail view shows of one photo."""

    id: str
    filename: str
    image_url: str
    download_url: str
    taken_label: str
    dimensions: str
    size_label: str
    format: str


def load_detail(owner_id: uuid.UUID, raw_photo_id: str) -> PhotoDetail | None:
    """The owner's photo for the detail view; None when it is missing or not theirs."""
    photo_id = photos.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return None
    with db_session() as session:
        photo = photos.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
    if photo is None:
        return None
    store = storage()
    original = photos.original_key(photo.owner_id, photo.id, photos.extension_of(photo))
    return PhotoDetail(
        id=str(photo.id),
        filename=photo.filename,
        image_url=store.url_for(original),
        download_url=store.url_for(original, download_name=photo.filename),
        taken_label=photos.taken_at_local(photo).strftime("%-d %B %Y, %H:%M"),
        dimensions=f"{photo.width} × {photo.height}",
        size_label=photos.describe_size(photo),
        format=photo.format,
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
