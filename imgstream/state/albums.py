"""Albums: the list of albums, one album's photos, and adding photos to albums."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream.models import RenditionKind
from imgstream.runtime import db_session, storage
from imgstream.services import albums, imaging, renditions, timeline
from imgstream.state.gallery import GalleryState, PhotoCard, card_of
from imgstream.state.session import SessionState, signed_in_user


@dataclasses.dataclass(frozen=True)
class AlbumCard:
    """What the list of albums shows of one album."""

    id: str
    name: str
    cover_url: str
    placeholder: str
    count_label: str
    dates_label: str


@dataclasses.dataclass(frozen=True)
class AlbumChoice:
    """An album as the "add to album" dialog lists it."""

    id: str
    name: str
    count_label: str


def _count_label(count: int) -> str:
    return "1 photo" if count == 1 else f"{count} photos"


def _dates_label(summary: albums.AlbumSummary) -> str:
    if summary.first_taken_at is None or summary.last_taken_at is None:
        return ""
    first = summary.first_taken_at.strftime("%b %Y")
    last = summary.last_taken_at.strftime("%b %Y")
    return first if first == last else f"{first} – {last}"


def load_album_cards(owner_id: uuid.UUID) -> list[AlbumCard]:
    """Cards of the owner's albums, most recently changed first."""
    with db_session() as session:
        summaries = albums.list_albums(session=session, owner_id=owner_id)
        covers = [s.cover for s in summaries if s.cover is not None]
        thumbs = renditions.renditions_of(session=session, photo_ids=[c.id for c in covers])
    cards = []
    for summary in summaries:
        cover = summary.cover
        cards.append(AlbumCard(
            id=str(summary.album.id),
            name=summary.album.name,
            cover_url=storage().url_for(renditions.thumbnail_of(
                cover, thumbs.get((cover.id, RenditionKind.THUMB)))) if cover else "",
            placeholder=imaging.placeholder_data_url(cover.thumbhash)
            if cover and cover.thumbhash else "",
            count_label=_count_label(summary.photo_count),
            dates_label=_dates_label(summary),
        ))
    return cards


def _create(owner_id: uuid.UUID, name: str) -> str:
    with db_session() as session:
        return str(albums.create_album(session=session, owner_id=owner_id, name=name).id)


class AlbumsState(rx.State):
    """The list of the signed-in user's albums and the "new album" dialog."""

    cards: list[AlbumCard] = []
    loaded: bool = False
    create_open: bool = False
    new_name: str = ""
    error: str = ""

    @rx.event
    async def load_albums(self) -> None:
        """Read the albums (page load)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        self.cards = await asyncio.to_thread(load_album_cards, owner_id)
        self.loaded = True

    @rx.event
    def set_create_open(self, value: bool) -> None:
        """Open or close the "new album" dialog."""
        self.create_open = value
        self.new_name, self.error = "", ""

    @rx.event
    def set_new_name(self, value: str) -> None:
        """Keep what is typed as the new album's name."""
        self.new_name = value

    @rx.event
    async def create_album(self):
        """Create an album with the typed name and open it."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        try:
            album_id = await asyncio.to_thread(_create, owner_id, self.new_name)
        except albums.InvalidAlbumName as exc:
            self.error = str(exc)
            return None
        self.create_open = False
        return rx.redirect(f"/albums/{album_id}")


@dataclasses.dataclass(frozen=True)
class AlbumView:
    """The album on screen."""

    id: str
    name: str
    description: str
    count_label: str
    dates_label: str


def load_album(
    owner_id: uuid.UUID, raw_id: str, limit: int, cursor: str = ""
) -> tuple[AlbumView, list[PhotoCard], str] | None:
    """An album, one page of its photo cards and the next page's cursor; None if not theirs."""
    album_id = timeline.parse_photo_id(raw_id)
    if album_id is None:
        return None
    after = timeline.PageCursor.decode(cursor) if cursor else None
    with db_session() as session:
        album = albums.get_album(session=session, owner_id=owner_id, album_id=album_id)
        if album is None:
            return None
        [summary] = albums.summarise(session=session, albums=[album])
        page = albums.album_page(session=session, owner_id=owner_id, album_id=album_id,
                                 limit=limit, after=after)
        thumbs = renditions.renditions_of(session=session,
                                          photo_ids=[p.id for p in page.photos])
    view = AlbumView(str(album.id), album.name, album.description,
                     _count_label(summary.photo_count), _dates_label(summary))
    cards = [card_of(p, thumbs.get((p.id, RenditionKind.THUMB))) for p in page.photos]
    return view, cards, page.next_cursor.encode() if page.next_cursor else ""


def _ids(raw_ids: list[str]) -> list[uuid.UUID]:
    return [i for i in (timeline.parse_photo_id(raw) for raw in raw_ids) if i is not None]


class AlbumState(rx.State):
    """One album: its photos, rename, describe, delete, remove photos, choose the cover."""

    album: AlbumView | None = None
    not_found: bool = False
    cards: list[PhotoCard] = []
    has_more: bool = False
    edit_open: bool = False
    edit_name: str = ""
    edit_description: str = ""
    error: str = ""
    delete_open: bool = False
    _next_cursor: str = ""

    def _album_id(self) -> uuid.UUID | None:
        return timeline.parse_photo_id(self.album.id) if self.album else None

    @rx.event
    async def load_album(self) -> None:
        """Read the album named in the URL and its first page of photos."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        raw_id = str(self.router.page.params.get("album_id", ""))
        limit = await (await self.get_state(GalleryState)).page_size()
        loaded = await asyncio.to_thread(load_album, owner_id, raw_id, limit)
        (await self.get_state(SelectionState)).clear_selection()
        if loaded is None:
            self.album, self.cards, self.not_found = None, [], True
            return
        self.album, self.cards, self._next_cursor = loaded
        self.has_more, self.not_found = bool(self._next_cursor), False

    @rx.event
    async def refresh(self) -> None:
        """Read the album on screen again (it changed elsewhere), keeping the selection."""
        if self.album is None:
            return
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        limit = await (await self.get_state(GalleryState)).page_size()
        loaded = await asyncio.to_thread(load_album, owner_id, self.album.id,
                                         max(limit, len(self.cards)))
        if loaded is None:
            self.album, self.cards, self.not_found = None, [], True
            return
        self.album, self.cards, self._next_cursor = loaded
        self.has_more = bool(self._next_cursor)

    @rx.event(supersedes=True)
    async def load_more(self) -> None:
        """Append the next page of the album's photos."""
        if not self._next_cursor or self.album is None:
            return
        owner_id = await (await self.get_state(SessionState)).user_id()
        limit = await (await self.get_state(GalleryState)).page_size()
        loaded = await asyncio.to_thread(load_album, owner_id, self.album.id, limit,
                                         self._next_cursor)
        if loaded is None:
            return
        _view, cards, self._next_cursor = loaded
        self.cards = [*self.cards, *cards]
        self.has_more = bool(self._next_cursor)

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        """Open or close the rename dialog, filled with the album's name and description."""
        self.edit_open = value
        if value and self.album:
            self.edit_name, self.edit_description = self.album.name, self.album.description
        self.error = ""

    @rx.event
    def set_edit_name(self, value: str) -> None:
        """Keep the typed name."""
        self.edit_name = value

    @rx.event
    def set_edit_description(self, value: str) -> None:
        """Keep the typed description."""
        self.edit_description = value

    @rx.event
    async def save_album(self):
        """Rename and describe the album."""
        album_id = self._album_id()
        if album_id is None:
            return None
        owner_id = await (await self.get_state(SessionState)).user_id()

        def update() -> None:
            with db_session() as session:
                albums.update_album(session=session, owner_id=owner_id, album_id=album_id,
                                    name=self.edit_name, description=self.edit_description)

        try:
            await asyncio.to_thread(update)
        except albums.InvalidAlbumName as exc:
            self.error = str(exc)
            return None
        self.edit_open = False
        return AlbumState.load_album

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        """Open or close the "delete album" confirmation."""
        self.delete_open = value

    @rx.event
    async def delete_album(self):
        """Delete the album (its photos stay in the library) and go back to the albums."""
        album_id = self._album_id()
        if album_id is None:
            return None
        owner_id = await (await self.get_state(SessionState)).user_id()

        def delete() -> bool:
            with db_session() as session:
                return albums.delete_album(session=session, owner_id=owner_id,
                                           album_id=album_id)

        await asyncio.to_thread(delete)
        self.delete_open = False
        name = self.album.name if self.album else "the album"
        return [rx.redirect("/albums"),
                rx.toast.success(f"Deleted {name}. Its photos are still in your library.")]

    @rx.event
    async def remove_selected(self):
        """Take the selected photos out of the album."""
        album_id = self._album_id()
        selection = await self.get_state(SelectionState)
        if album_id is None or not selection.selected:
            return None
        owner_id = await (await self.get_state(SessionState)).user_id()
        photo_ids = _ids(selection.selected)

        def remove() -> int:
            with db_session() as session:
                return albums.remove_photos(session=session, owner_id=owner_id,
                                            album_id=album_id, photo_ids=photo_ids)

        removed = await asyncio.to_thread(remove)
        selection.clear_selection()
        return [AlbumState.load_album,
                rx.toast.success(f"Removed {_count_label(removed)} from the album.")]

    @rx.event
    async def use_as_cover(self):
        """Make the one selected photo the album's cover."""
        album_id = self._album_id()
        selection = await self.get_state(SelectionState)
        if album_id is None or len(selection.selected) != 1:
            return rx.toast.info("Select one photo to use as the cover.")
        owner_id = await (await self.get_state(SessionState)).user_id()
        [photo_id] = _ids(selection.selected) or [None]

        def cover() -> bool:
            with db_session() as session:
                return albums.set_cover(session=session, owner_id=owner_id,
                                        album_id=album_id, photo_id=photo_id)

        done = await asyncio.to_thread(cover)
        selection.clear_selection()
        return rx.toast.success("Cover chosen.") if done else None


class SelectionState(rx.State):
    """Photos picked with their checkboxes, and the "add to album" dialog."""

    selected: list[str] = []
    picker_open: bool = False
    choices: list[AlbumChoice] = []
    new_album_name: str = ""
    _picker_photo_ids: list[str] = []

    @rx.var
    def selected_count(self) -> int:
        """How many photos are selected."""
        return len(self.selected)

    @rx.event
    def toggle(self, photo_id: str) -> None:
        """Select or unselect one photo."""
        if photo_id in self.selected:
            self.selected = [i for i in self.selected if i != photo_id]
        elif timeline.parse_photo_id(photo_id) is not None:
            self.selected = [*self.selected, photo_id]

    @rx.event
    def clear_selection(self) -> None:
        """Unselect everything."""
        self.selected = []

    async def _open_picker(self, photo_ids: list[str]) -> None:
        owner_id = await (await self.get_state(SessionState)).user_id()

        def choices() -> list[AlbumChoice]:
            with db_session() as session:
                return [AlbumChoice(str(s.album.id), s.album.name, _count_label(s.photo_count))
                        for s in albums.list_albums(session=session, owner_id=owner_id)]

        self.choices = await asyncio.to_thread(choices)
        self._picker_photo_ids = photo_ids
        self.new_album_name = ""
        self.picker_open = True

    @rx.event
    async def open_picker(self) -> None:
        """Open "add to album" for the selected photos."""
        if self.selected:
            await self._open_picker(list(self.selected))

    @rx.event
    async def open_picker_for(self, photo_id: str) -> None:
        """Open "add to album" for one photo (from its detail view)."""
        await self._open_picker([photo_id])

    @rx.event
    def set_picker_open(self, value: bool) -> None:
        """Open or close the "add to album" dialog."""
        self.picker_open = value

    @rx.event
    def set_new_album_name(self, value: str) -> None:
        """Keep the name typed for a new album."""
        self.new_album_name = value

    @rx.event
    async def add_to_album(self, album_id: str):
        """Add the photos the dialog was opened for to an album ("" makes a new one)."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        photo_ids = _ids(self._picker_photo_ids)
        new_name = self.new_album_name

        def add() -> tuple[str, str, int]:
            with db_session() as session:
                if album_id:
                    target = timeline.parse_photo_id(album_id)
                    album = albums.get_album(session=session, owner_id=owner_id,
                                             album_id=target) if target else None
                else:
                    album = albums.create_album(session=session, owner_id=owner_id,
                                                name=new_name)
                if album is None:
                    return "", "", 0
                added = albums.add_photos(session=session, owner_id=owner_id,
                                          album_id=album.id, photo_ids=photo_ids)
                return str(album.id), album.name, added

        try:
            target_id, name, added = await asyncio.to_thread(add)
        except albums.InvalidAlbumName as exc:
            return rx.toast.error(str(exc))
        self.picker_open = False
        if not target_id:
            return rx.toast.error("That album no longer exists.")
        self.selected = []
        already = len(photo_ids) - added
        more = f" ({already} already there)" if already else ""
        return rx.toast.success(
            f"Added {_count_label(added)} to {name}{more}.",
            action={"label": "Open", "on_click": rx.redirect(f"/albums/{target_id}")},
        )

