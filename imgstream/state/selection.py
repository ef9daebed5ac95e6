"""What the selection bar does: pick (shift for a range), favourite, shift dates, trash, undo."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import reflex as rx
import sqlalchemy as sa
from sqlmodel import col, select

from imgstream.models import Photo
from imgstream.runtime import db_session
from imgstream.services import photo_archives, photo_edits, timeline, trash
from imgstream.state.albums import AlbumState, SelectionState
from imgstream.state.live import handlers_for
from imgstream.state.session import signed_in_user


def pick(selected: list[str], order: list[str], photo_id: str, anchor: str,
         *, extend: bool) -> list[str]:
    """The selection after clicking a photo's check.

    Args:
        selected: The ids selected now.
        order: The ids in the order they are shown.
        photo_id: The photo clicked.
        anchor: The photo clicked before (where a range starts).
        extend: Shift was held: select every photo between the anchor and this one.

    Returns:
        The new selection: the range added, or the photo toggled.
    """
    if extend and anchor and anchor != photo_id and anchor in order and photo_id in order:
        start, end = sorted((order.index(anchor), order.index(photo_id)))
        return list(dict.fromkeys([*selected, *order[start:end + 1]]))
    if photo_id in selected:
        return [i for i in selected if i != photo_id]
    return [*selected, photo_id]


def pick_day(selected: list[str], day: list[str]) -> list[str]:
    """The selection after clicking a day's check.

    Args:
        selected: The ids selected now.
        day: The ids of the day's photos, in the order they are shown.

    Returns:
        The selection without the day's photos when all of them were selected, else with
        every photo of the day added after those selected before.
    """
    if day and all(photo_id in selected for photo_id in day):
        gone = set(day)
        return [i for i in selected if i not in gone]
    return list(dict.fromkeys([*selected, *day]))


def _day_photos(owner_id: uuid.UUID, day: str) -> list[str]:
    # Every photo of the day in timeline order, also those of a long day not loaded here yet.
    with db_session() as session:
        rows = session.exec(
            select(Photo.id).where(Photo.owner_id == owner_id, col(Photo.deleted_at).is_(None),
                                   Photo.taken_day == day)
            .order_by(*timeline.timeline_order())
        ).all()
    return [str(i) for i in rows]


def _between(owner_id: uuid.UUID, first: str, last: str) -> list[str]:
    # The timeline's photos from one to the other, newest first as the timeline shows them.
    ids = photo_archives.parse_ids([first, last])
    if len(ids) != 2:
        return []
    with db_session() as session:
        ends = session.exec(select(Photo).where(col(Photo.id).in_(ids),
                                                Photo.owner_id == owner_id)).all()
        if len(ends) != 2:
            return []
        low, high = sorted(timeline.timeline_position(photo) for photo in ends)
        key = timeline.timeline_key()
        rows = session.exec(
            select(Photo.id).where(Photo.owner_id == owner_id, col(Photo.deleted_at).is_(None),
                                   key >= sa.tuple_(*low), key <= sa.tuple_(*high))
            .order_by(*timeline.timeline_order())
        ).all()
    return [str(i) for i in rows]


def _trash(owner_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    with db_session() as session:
        return trash.move_many_to_trash(session=session, owner_id=owner_id, photo_ids=photo_ids)


def _restore(owner_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> int:
    with db_session() as session:
        return trash.restore_many(session=session, owner_id=owner_id, photo_ids=photo_ids)


def _favorite(owner_id: uuid.UUID, photo_ids: list[uuid.UUID], favorite: bool) -> int:
    with db_session() as session:
        return photo_edits.set_favorite(session=session, owner_id=owner_id, photo_ids=photo_ids,
                                        favorite=favorite)


def _shift(owner_id: uuid.UUID, photo_ids: list[uuid.UUID], by: timedelta) -> int:
    with db_session() as session:
        return photo_edits.shift_taken_at(session=session, owner_id=owner_id,
                                          photo_ids=photo_ids, by=by)


def shift_of(days: str, hours: str, minutes: str) -> timedelta:
    """The shift typed in the bar's fields (each may be empty or negative).

    Raises:
        ValueError: A field is not a whole number.
    """
    def number(text: str) -> int:
        text = text.strip()
        return int(text) if text else 0

    return timedelta(days=number(days), hours=number(hours), minutes=number(minutes))


class SelectionActionsState(rx.State):
    """Picking with shift, and the undo of the last "move to trash"."""

    shift_days: str = ""
    shift_hours: str = ""
    shift_minutes: str = ""
    shift_error: str = ""
    shift_open: bool = False
    undo_count: int = 0
    """How many photos the last "move to trash" moved (0: nothing to undo)."""
    _undo_ids: list[str] = []
    _anchor: str = ""

    async def _order(self, photo_id: str) -> list[str]:
        album = await self.get_state(AlbumState)
        album_ids = [card.id for card in album.cards]
        if self._anchor in album_ids and photo_id in album_ids:
            return album_ids
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return []
        return await asyncio.to_thread(_between, owner_id, self._anchor, photo_id)

    @rx.event
    async def pick(self, photo_id: str, info: dict) -> None:
        """A photo's check was clicked: toggle it, or with shift select the range up to it."""
        selection = await self.get_state(SelectionState)
        extend = bool(info.get("shift_key")) if isinstance(info, dict) else False
        order = await self._order(photo_id) if extend and self._anchor else []
        selection.selected = pick(list(selection.selected), order, photo_id, self._anchor,
                                  extend=extend)
        self._anchor = photo_id

    @rx.event
    async def pick_day(self, day: str, photo_ids: list[str]) -> None:
        """A day's check was clicked: select every photo of the day, or unselect them all.

        Args:
            day: The day ("2023-07-14"): all of its photos, those of a long day that this
                page has not loaded yet too.
            photo_ids: The day's photos the page shows (when the day cannot be read).
        """
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        shown = [str(i) for i in (photo_ids if isinstance(photo_ids, list) else [])
                 if timeline.parse_photo_id(str(i)) is not None]
        day = await asyncio.to_thread(_day_photos, owner_id, str(day)) or shown
        if not day:
            return
        selection = await self.get_state(SelectionState)
        selection.selected = pick_day(list(selection.selected), day)
        # A shift-click after it ranges from the day's last photo.
        self._anchor = day[-1] if day[-1] in selection.selected else ""

    async def _refresh(self):
        return handlers_for(str(self.router.url.path))

    @rx.event
    async def trash_selected(self):
        """Move the selected photos to the trash; the bar offers to undo it."""
        selection = await self.get_state(SelectionState)
        owner_id = await signed_in_user(self)
        ids = photo_archives.parse_ids(selection.selected)
        if owner_id is None or not ids:
            return
        moved = await asyncio.to_thread(_trash, owner_id, ids)
        self._undo_ids = [str(i) for i in moved]
        self.undo_count = len(moved)
        selection.selected = []
        self._anchor = ""
        for handler in await self._refresh():
            yield handler

    @rx.event
    async def undo_trash(self):
        """Put the photos of the last "move to trash" back in the library."""
        owner_id = await signed_in_user(self)
        ids = photo_archives.parse_ids(self._undo_ids)
        self._undo_ids, self.undo_count = [], 0
        if owner_id is None or not ids:
            return
        await asyncio.to_thread(_restore, owner_id, ids)
        for handler in await self._refresh():
            yield handler

    async def _selected_ids(self) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
        selection = await self.get_state(SelectionState)
        return await signed_in_user(self), photo_archives.parse_ids(selection.selected)

    @rx.event
    async def favorite_selected(self, favorite: bool):
        """Mark the selected photos as favourites, or not."""
        owner_id, ids = await self._selected_ids()
        if owner_id is None or not ids:
            return
        changed = await asyncio.to_thread(_favorite, owner_id, ids, bool(favorite))
        noun = "photo" if changed == 1 else "photos"
        yield rx.toast(f"{changed} {noun} {'added to' if favorite else 'removed from'} "
                       "favourites")
        for handler in await self._refresh():
            yield handler

    @rx.event
    def set_shift_open(self, value: bool) -> None:
        """Open or close the date shift form."""
        self.shift_open = bool(value)
        self.shift_error = ""

    @rx.event
    def set_shift_days(self, value: str) -> None:
        """Keep the days typed."""
        self.shift_days = value

    @rx.event
    def set_shift_hours(self, value: str) -> None:
        """Keep the hours typed."""
        self.shift_hours = value

    @rx.event
    def set_shift_minutes(self, value: str) -> None:
        """Keep the minutes typed."""
        self.shift_minutes = value

    @rx.event
    async def shift_selected(self):
        """Move the date taken of the selected photos by the typed amount."""
        owner_id, ids = await self._selected_ids()
        if owner_id is None or not ids:
            return
        try:
            by = shift_of(self.shift_days, self.shift_hours, self.shift_minutes)
            if not by:
                raise photo_edits.PhotoEditError("Type how far to move the dates.")
            moved = await asyncio.to_thread(_shift, owner_id, ids, by)
        except ValueError as exc:
            self.shift_error = (str(exc) if isinstance(exc, photo_edits.PhotoEditError)
                                else "Days, hours and minutes are whole numbers.")
            return
        self.shift_open, self.shift_error = False, ""
        self.shift_days = self.shift_hours = self.shift_minutes = ""
        yield rx.toast(f"Moved the date of {moved} {'photo' if moved == 1 else 'photos'}")
        for handler in await self._refresh():
            yield handler

    @rx.event
    def dismiss_undo(self) -> None:
        """Forget the last "move to trash" (the undo bar was closed)."""
        self._undo_ids, self.undo_count = [], 0

    @rx.event
    def forget_anchor(self) -> None:
        """The selection was cleared: the next shift-click starts no range."""
        self._anchor = ""
