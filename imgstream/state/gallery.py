"""The timeline grid: one page of photo cards at a time."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream import presentation
from imgstream.config import get_settings
from imgstream.models import Photo, Rendition, RenditionKind
from imgstream.runtime import db_session, storage
from imgstream.services import photo_urls, renditions, timeline
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class PhotoCard:
    """What the grid shows of one photo."""

    id: str
    filename: str
    thumbnail_url: str
    """Empty when it cannot be signed now: the placeholder stands in for it."""
    taken_label: str
    placeholder: str
    """A data URL of the blurred thumbhash image, shown until the thumbnail has loaded."""
    favorite: bool = False


def _card(photo: Photo, thumb: Rendition | None) -> PhotoCard:
    image = photo_urls.thumbnail(storage=storage(), photo=photo, rendition=thumb)
    return PhotoCard(
        id=str(photo.id),
        filename=photo.filename,
        thumbnail_url=image.url,
        taken_label=presentation.taken_at_local(photo).strftime("%-d %b %Y"),
        placeholder=image.placeholder,
        favorite=photo.favorite,
    )


def load_cards(
    owner_id: uuid.UUID, limit: int, cursor: str = ""
) -> tuple[list[PhotoCard], str]:
    """Cards of one timeline page and the cursor of the next ('' at the end)."""
    after = timeline.PageCursor.decode(cursor) if cursor else None
    with db_session() as session:
        page = timeline.timeline_page(
            session=session, owner_id=owner_id, limit=limit, after=after
        )
        thumbs = renditions.renditions_of(
            session=session, photo_ids=[photo.id for photo in page.photos]
        )
    cards = [_card(photo, thumbs.get((photo.id, RenditionKind.THUMB))) for photo in page.photos]
    return cards, page.next_cursor.encode() if page.next_cursor else ""


class GalleryState(rx.State):
    """The photos on screen, newest date taken first."""

    cards: list[PhotoCard] = []
    loaded: bool = False
    has_more: bool = False
    _next_cursor: str = ""

    def show_first_page(self, cards: list[PhotoCard], next_cursor: str) -> None:
        """Replace what is on screen with the first page."""
        self.cards = cards
        self._next_cursor = next_cursor
        self.has_more = bool(next_cursor)
        self.loaded = True

    async def page_size(self) -> int:
        """Photos per page: the user's preference, else the app's default."""
        return (await self.get_state(SessionState)).page_size or get_settings().default_page_size

    @rx.event
    async def load_first_page(self) -> None:
        """Read the first timeline page from the database (page load, after uploads)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        cards, cursor = await asyncio.to_thread(load_cards, owner_id, await self.page_size())
        self.show_first_page(cards, cursor)

    @rx.event
    async def refresh(self) -> None:
        """Read again as many photos as are on screen (a change made in another tab).

        Not latest-wins: it runs after a "Load more" already asked for, and keeps its photos.
        """
        owner_id = await signed_in_user(self)
        if owner_id is None or not self.loaded:
            return
        limit = max(len(self.cards), await self.page_size())
        cards, cursor = await asyncio.to_thread(load_cards, owner_id, limit)
        self.show_first_page(cards, cursor)

    @rx.event(supersedes=True)
    async def load_more(self) -> None:
        """Append the next timeline page."""
        if not self._next_cursor:
            return
        owner_id = await (await self.get_state(SessionState)).user_id()
        cards, cursor = await asyncio.to_thread(
            load_cards, owner_id, await self.page_size(), self._next_cursor
        )
        self.cards = [*self.cards, *cards]
        self._next_cursor = cursor
        self.has_more = bool(cursor)


def card_of(photo: Photo, thumb: Rendition | None) -> PhotoCard:
    """The grid card of a photo (album pages show the same cards as the timeline)."""
    return _card(photo, thumb)
