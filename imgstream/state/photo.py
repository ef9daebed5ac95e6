"""The viewer: one photo over the whole window, with its neighbours and details."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import reflex as rx

from imgstream import presentation
from imgstream.config import get_settings
from imgstream.models import RenditionKind
from imgstream.runtime import db_session, read_session, storage
from imgstream.services import albums, photo_urls, renditions, timeline, trash
from imgstream.state import trash as trash_state
from imgstream.state.albums import AlbumState
from imgstream.state.gallery import GalleryState
from imgstream.state.session import SessionState, signed_in_user
from imgstream.state.similar_photos import SimilarPhotosState


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
    map_url: str
    """An OpenStreetMap link to where the photo was taken; "" without a location."""
    full_url: str
    """The photo at full resolution, loaded when zooming in."""
    newer_id: str
    """The photo before it in the timeline; "" at the start."""
    older_id: str
    """The photo after it in the timeline; "" at the end."""
    month: str
    width: int


def _map_url(photo) -> str:  # noqa: ANN001
    if photo.gps_latitude is None or photo.gps_longitude is None:
        return ""
    lat, lon = f"{photo.gps_latitude:.5f}", f"{photo.gps_longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


_DATE_SOURCES = {
    "exif_original": "",
    "exif_digitized": "date digitised",
    "exif_datetime": "date the file was written",
    "upload_time": "upload time, the photo has no date",
    "edited": "set by hand",
}


def load_detail(
    owner_id: uuid.UUID, raw_photo_id: str, album_id: str = ""
) -> PhotoDetail | None:
    """The owner's photo for the detail view; None when it is missing or not theirs.

    Args:
        owner_id: The signed-in user.
        raw_photo_id: The photo's id.
        album_id: The album the viewer walks through (previous and next are its photos), or ""
            for the timeline.
    """
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return None
    album = timeline.parse_photo_id(album_id) if album_id else None
    with read_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return None
        preview = renditions.renditions_of(session=session, photo_ids=[photo.id]).get(
            (photo.id, RenditionKind.PREVIEW)
        )
        if album is not None:
            newer, older = albums.neighbours(session=session, owner_id=owner_id,
                                             album_id=album, photo=photo)
        else:
            newer, older = timeline.neighbours(session=session, owner_id=owner_id, photo=photo)
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
        map_url=_map_url(photo),
        full_url=photo_urls.full_resolution(storage=store, photo=photo, preview_url=image.url),
        newer_id=str(newer) if newer else "",
        older_id=str(older) if older else "",
        month=photo.taken_month,
        width=photo.width,
    )


def _without_signatures(detail: PhotoDetail) -> PhotoDetail:
    # Signed URLs may change at every signing while naming the same image.
    return dataclasses.replace(detail, **{name: getattr(detail, name).split("?")[0]
                                          for name in ("image_url", "download_url", "full_url")})


def _move_to_trash(owner_id: uuid.UUID, raw_photo_id: str) -> bool:
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return False
    with db_session() as session:
        return trash.move_to_trash(session=session, owner_id=owner_id, photo_id=photo_id)


def _photo_id_in(path: str) -> str:
    """The photo id of a /photo/{id} path."""
    return path.rstrip("/").rsplit("/", 1)[-1] if "/photo/" in path else ""


def _viewer(function: str, photo_id: str = "", album_id: str = "") -> rx.event.EventSpec:
    # The address a photo open in the viewer gets: its own, or the album's with the photo.
    url = f"/albums/{album_id}?photo={photo_id}" if album_id and photo_id else (
        f"/photo/{photo_id}" if photo_id else "")
    return rx.call_script(f"window.imgstreamViewer.{function}({json.dumps(url)})")


def _follow(photo_id: str) -> list[rx.event.EventSpec]:
    """What else shows the photo on screen: its edit fields and its similar photos."""
    from imgstream.state.photo_edits import PhotoEditState

    return [PhotoEditState.load_for(photo_id), SimilarPhotosState.show_for(photo_id)]


class PhotoState(rx.State):
    """The photo in the viewer, over the timeline."""

    detail: PhotoDetail | None = None
    not_found: bool = False
    open: bool = False
    show_info: bool = False
    album_id: str = ""
    """The album the viewer was opened from (previous and next walk it); "" for the timeline."""

    @rx.var
    def trash_days(self) -> int:
        """Days the trash keeps a photo."""
        return get_settings().trash_days

    async def _show(self, raw_id: str) -> bool:
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return False
        detail = await asyncio.to_thread(load_detail, owner_id, raw_id, self.album_id)
        self.detail, self.not_found, self.open = detail, detail is None, True
        return detail is not None

    @rx.event
    async def load_photo(self):
        """Open the viewer on the photo named in the URL (/photo/{id}), with its details."""
        self.detail, self.show_info, self.album_id = None, True, ""
        await self._show(_photo_id_in(self.router.url.path))
        return _viewer("reset")

    @rx.event
    async def load_album_photo(self):
        """On an album's page, open the viewer on the photo its URL names (?photo=), if any."""
        photo_id = str(self.router.page.params.get("photo", "") or "")
        album_id = str(self.router.page.params.get("album_id", "") or "")
        if not photo_id or not album_id:
            self.dismiss()
            return None
        self.detail, self.show_info, self.album_id = None, True, album_id
        await self._show(photo_id)
        return [_viewer("reset"), *_follow(photo_id)]

    @rx.event
    async def reload(self) -> None:
        """Read the photo on screen again (its date or rotation changed)."""
        if self.detail is not None:
            await self._show(self.detail.id)

    @rx.event
    async def follow_changes(self):
        """Show what changed elsewhere (another tab, the API) of the photo in the viewer.

        The image keeps its address when only its signature changed, so it is not loaded again.
        """
        if not self.open or self.detail is None:
            return None
        before = self.detail
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        detail = await asyncio.to_thread(load_detail, owner_id, before.id, self.album_id)
        if detail is None:
            self.detail, self.not_found = None, True
            return None
        if _without_signatures(detail) != _without_signatures(before):
            self.detail = detail
        from imgstream.state.photo_edits import PhotoEditState

        return PhotoEditState.follow(before.id)

    @rx.event
    async def open_photo(self, photo_id: str):
        """Open the viewer over the timeline on a photo of it (a card was clicked)."""
        self.detail, self.album_id = None, ""
        if await self._show(photo_id):
            return [_viewer("opened", photo_id), *_follow(photo_id)]
        return None

    @rx.event
    async def open_in_album(self, photo_id: str, album_id: str):
        """Open the viewer over an album on one of its photos: previous and next stay in it."""
        self.detail, self.album_id = None, album_id
        if await self._show(photo_id):
            return [_viewer("opened", photo_id, album_id), *_follow(photo_id)]
        return None

    @rx.event
    async def show(self, photo_id: str):
        """Show another photo in the open viewer (previous, next, a similar one)."""
        if not photo_id:
            return None
        if await self._show(photo_id):
            return [_viewer("shown", photo_id, self.album_id), *_follow(photo_id)]
        return None

    @rx.event
    def close(self):
        """Close the viewer: the timeline is where it was."""
        self.open, self.detail, self.not_found = False, None, False
        return _viewer("closed")

    @rx.event
    def dismiss(self) -> None:
        """Forget an open photo when the library page opens (nothing to take back)."""
        self.open, self.detail, self.not_found, self.album_id = False, None, False, ""

    @rx.event
    def toggle_info(self):
        """Show or hide the photo's details beside it."""
        self.show_info = not self.show_info

    @rx.event
    async def move_to_trash(self):
        """Move the photo on screen to the trash and close the viewer, with an undo."""
        if self.detail is None:
            return None
        detail = self.detail
        owner_id = await (await self.get_state(SessionState)).user_id()
        moved = await asyncio.to_thread(_move_to_trash, owner_id, detail.id)
        self.open, self.detail = False, None
        events = [_viewer("closed"), GalleryState.refresh]
        if self.album_id:
            events.append(AlbumState.load_album)
        if not moved:
            return events
        return [
            *events,
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
        return [GalleryState.refresh, rx.toast.success(f"Restored {name}.")]
