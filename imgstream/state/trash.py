"""The trash page: photos moved to the trash, restore, delete forever, empty the trash."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from datetime import datetime, timedelta

import reflex as rx

from imgstream import models
from imgstream.config import get_settings
from imgstream.models import Photo, Rendition, RenditionKind, utcnow
from imgstream.presentation import format_bytes
from imgstream.runtime import db_session, storage
from imgstream.services import identity, imaging, renditions, timeline, trash
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class TrashCard:
    """What the trash grid shows of one photo."""

    id: str
    filename: str
    thumbnail_url: str
    placeholder: str
    deleted_label: str
    days_left_label: str
    ending_soon: bool
    """Three days or less before it is deleted forever."""


@dataclasses.dataclass(frozen=True)
class TrashSummary:
    """How much the trash holds, against the user's storage."""

    photo_count: int
    trash_bytes: int
    used_bytes: int
    quota_bytes: int


# Cards of photos this close to being deleted forever are marked.
ENDING_SOON = timedelta(days=3)


def days_left_label(expires_at: datetime, *, now: datetime) -> str:
    """How long until a photo in the trash is deleted forever, for people."""
    left = (expires_at - now).total_seconds()
    if left <= 0:
        return "deleted forever soon"
    if left < 86_400:
        return "less than a day left"
    whole = math.ceil(left / 86_400)
    return f"{whole} day{'s' if whole != 1 else ''} left"


def _card(photo: Photo, thumb: Rendition | None, *, days: int, now: datetime) -> TrashCard:
    deleted = models.as_utc(photo.deleted_at or now)
    expires = trash.trash_expiry(photo, days=days)
    return TrashCard(
        id=str(photo.id),
        filename=photo.filename,
        thumbnail_url=storage().url_for(renditions.thumbnail_of(photo, thumb)),
        placeholder=imaging.placeholder_data_url(photo.thumbhash) if photo.thumbhash else "",
        deleted_label="Deleted " + deleted.strftime("%-d %b %Y"),
        days_left_label=days_left_label(expires, now=now),
        ending_soon=expires - now <= ENDING_SOON,
    )


def load_trash_cards(
    owner_id: uuid.UUID, limit: int, cursor: str = ""
) -> tuple[list[TrashCard], str]:
    """Cards of one page of the owner's trash and the cursor of the next ('' at the end).

    Only here are media URLs minted for photos in the trash.
    """
    after = timeline.PageCursor.decode(cursor) if cursor else None
    with db_session() as session:
        page = trash.trash_page(session=session, owner_id=owner_id, limit=limit, after=after)
        thumbs = renditions.renditions_of(
            session=session, photo_ids=[photo.id for photo in page.photos]
        )
    days, now = get_settings().trash_days, utcnow()
    cards = [
        _card(photo, thumbs.get((photo.id, RenditionKind.THUMB)), days=days, now=now)
        for photo in page.photos
    ]
    return cards, page.next_cursor.encode() if page.next_cursor else ""


def load_summary(owner_id: uuid.UUID) -> TrashSummary:
    """The trash's size and the owner's storage use."""
    with db_session() as session:
        usage = trash.trash_usage(session=session, owner_id=owner_id)
        user = identity.get_user(session=session, user_id=owner_id)
        used, quota = (user.used_bytes, user.quota_bytes) if user else (0, 0)
    return TrashSummary(usage.photo_count, usage.bytes, used, quota)


def restore(owner_id: uuid.UUID, raw_photo_id: str) -> str | None:
    """Take a photo out of the owner's trash; the name it has again, None if it was not there."""
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return None
    with db_session() as session:
        photo = trash.restore_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        return photo.filename if photo else None


def _delete_forever(owner_id: uuid.UUID, raw_photo_id: str) -> trash.PurgeResult:
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return trash.PurgeResult(0, 0)
    with db_session() as session:
        return trash.delete_forever(session=session, storage=storage(), owner_id=owner_id,
                                     photo_id=photo_id)


def _empty_trash(owner_id: uuid.UUID) -> trash.PurgeResult:
    with db_session() as session:
        return trash.empty_trash(session=session, storage=storage(), owner_id=owner_id)


def _photos(count: int) -> str:
    return f"{count} photo{'s' if count != 1 else ''}"


class TrashState(rx.State):
    """The trash on screen, most recently trashed first, and the delete-forever dialog."""

    cards: list[TrashCard] = []
    loaded: bool = False
    has_more: bool = False
    photo_count: int = 0
    trash_label: str = ""
    used_label: str = ""
    quota_label: str = ""
    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    _confirm_photo_id: str = ""
    """The photo the dialog deletes forever; '' when it empties the whole trash."""
    _next_cursor: str = ""

    @rx.var
    def trash_days(self) -> int:
        """Days the trash keeps a photo."""
        return get_settings().trash_days

    async def _owner(self) -> uuid.UUID:
        return await (await self.get_state(SessionState)).user_id()

    async def _page_size(self) -> int:
        return (await self.get_state(SessionState)).page_size or get_settings().default_page_size

    async def _reload(self, owner_id: uuid.UUID) -> None:
        cards, cursor = await asyncio.to_thread(load_trash_cards, owner_id,
                                                await self._page_size())
        summary = await asyncio.to_thread(load_summary, owner_id)
        self.cards, self._next_cursor, self.has_more = cards, cursor, bool(cursor)
        self.photo_count = summary.photo_count
        self.trash_label = format_bytes(summary.trash_bytes)
        self.used_label = format_bytes(summary.used_bytes)
        self.quota_label = format_bytes(summary.quota_bytes)
        self.loaded = True

    @rx.event
    async def load_trash(self) -> None:
        """Read the first page of the trash and its size (page load)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        await self._reload(owner_id)

    @rx.event(supersedes=True)
    async def load_more(self) -> None:
        """Append the next page of the trash."""
        if not self._next_cursor:
            return
        cards, cursor = await asyncio.to_thread(
            load_trash_cards, await self._owner(), await self._page_size(), self._next_cursor
        )
        self.cards = [*self.cards, *cards]
        self._next_cursor = cursor
        self.has_more = bool(cursor)

    @rx.event
    async def restore_photo(self, photo_id: str):
        """Put a photo back in the library."""
        owner_id = await self._owner()
        name = await asyncio.to_thread(restore, owner_id, photo_id)
        await self._reload(owner_id)
        if name is None:
            return rx.toast.warning("That photo is no longer in the trash.")
        return rx.toast.success(f"Restored {name} to your library.")

    @rx.event
    async def ask_delete_forever(self, photo_id: str) -> None:
        """Open the dialog that deletes one photo forever."""
        card = next((c for c in self.cards if c.id == photo_id), None)
        if card is None:
            return
        self._confirm_photo_id = photo_id
        self.confirm_title = f"Delete {card.filename} forever?"
        self.confirm_text = "It is removed from your storage and cannot be restored."
        self.confirm_open = True

    @rx.event
    async def ask_empty_trash(self) -> None:
        """Open the dialog that empties the trash, with what it frees."""
        summary = await asyncio.to_thread(load_summary, await self._owner())
        if summary.photo_count == 0:
            return
        self._confirm_photo_id = ""
        self.confirm_title = f"Delete {_photos(summary.photo_count)} forever?"
        self.confirm_text = (
            f"Emptying the trash frees {format_bytes(summary.trash_bytes)} of storage. "
            "The photos cannot be restored."
        )
        self.confirm_open = True

    @rx.event
    def set_confirm_open(self, open: bool) -> None:  # noqa: A002 - the dialog's own name
        """Open or close the confirmation dialog."""
        self.confirm_open = open

    @rx.event
    async def confirm(self):
        """Do what the dialog asked: delete one photo forever, or empty the trash."""
        self.confirm_open = False
        owner_id = await self._owner()
        photo_id, self._confirm_photo_id = self._confirm_photo_id, ""
        if photo_id:
            result = await asyncio.to_thread(_delete_forever, owner_id, photo_id)
        else:
            result = await asyncio.to_thread(_empty_trash, owner_id)
        await self._reload(owner_id)
        if result.photos == 0:
            return rx.toast.info("Nothing was deleted.")
        return rx.toast.success(
            f"Deleted {_photos(result.photos)} forever, "
            f"{format_bytes(result.freed_bytes)} freed."
        )
