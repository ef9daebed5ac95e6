"""Editing one photo: favourite, title, description, date taken with its time zone, rotation."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime

import reflex as rx

from imgstream import presentation
from imgstream.config import get_settings
from imgstream.runtime import db_session, read_session, storage
from imgstream.services import imaging, photo_edits, timeline
from imgstream.state.gallery import GalleryState, card_changed
from imgstream.state.photo import PhotoState
from imgstream.state.search import SearchState
from imgstream.state.session import SessionState, signed_in_user

UTC_OFFSETS = [m * 15 for m in range(-12 * 4, 14 * 4 + 1)]


def offset_label(minutes: int) -> str:
    """A UTC offset for people ("UTC+05:30")."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


OFFSET_CHOICES = [offset_label(m) for m in UTC_OFFSETS]


def parse_offset(label: str) -> int:
    """Minutes of an offset label made by `offset_label`."""
    sign = -1 if label[3] == "-" else 1
    hours, minutes = label[4:].split(":")
    return sign * (int(hours) * 60 + int(minutes))


def _fields(owner_id: uuid.UUID, raw_id: str) -> dict | None:
    photo_id = timeline.parse_photo_id(raw_id)
    if photo_id is None:
        return None
    with read_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return None
        local = presentation.taken_at_local(photo)
        return {
            "photo_id": str(photo.id), "favorite": photo.favorite, "title": photo.title,
            "description": photo.description,
            "taken_local": local.strftime("%Y-%m-%dT%H:%M"),
            "taken_offset": offset_label(photo.taken_at_offset_minutes or 0),
        }


def _run(owner_id: uuid.UUID, action: str, photo_id: str, **kwargs: object) -> str:
    """Apply one edit; '' when done, else what went wrong, for people."""
    pid = timeline.parse_photo_id(photo_id)
    if pid is None:
        return "This photo does not exist."
    settings = get_settings()
    try:
        with db_session() as session:
            if action == "favorite":
                photo_edits.set_favorite(session=session, owner_id=owner_id, photo_ids=[pid],
                                         **kwargs)
            elif action == "title":
                photo_edits.set_title(session=session, owner_id=owner_id, photo_id=pid,
                                      **kwargs)
            elif action == "description":
                photo_edits.set_description(session=session, owner_id=owner_id, photo_id=pid,
                                            **kwargs)
            elif action == "taken":
                photo_edits.set_taken_at(session=session, owner_id=owner_id, photo_id=pid,
                                         **kwargs)
            elif action == "rotate":
                photo_edits.rotate(
                    session=session, storage=storage(), owner_id=owner_id, photo_id=pid,
                    spool_dir=settings.incoming_dir,
                    thumbnail_size=settings.thumbnail_size, preview_size=settings.preview_size,
                    max_pixels=settings.max_image_pixels, **kwargs,
                )
    except photo_edits.PhotoNotFound:
        return "This photo is no longer in your library."
    except photo_edits.PhotoEditError as exc:
        return str(exc)
    except imaging.UnsupportedImage as exc:
        return f"The photo can't be turned: {exc}."
    return ""


def _group(field: str) -> str:
    """The field of the form a value belongs to (the date and its time zone are one)."""
    return "taken" if field.startswith("taken_") else field


class PhotoEditState(rx.State):
    """The editable fields of the photo on screen."""

    photo_id: str = ""
    favorite: bool = False
    title: str = ""
    description: str = ""
    taken_local: str = ""
    """The date taken for a datetime-local input ("2024-07-14T09:30")."""
    taken_offset: str = "UTC+00:00"
    error: str = ""
    rotating: bool = False
    _focused: str = ""
    """The field the person is in ("title", "description", "taken"), or ""."""
    _loaded: dict[str, str | bool] = {}
    """The fields as last read or saved: a field that differs was typed and not yet saved."""

    @rx.var
    def offset_choices(self) -> list[str]:
        """The UTC offsets a date can be given in."""
        return OFFSET_CHOICES

    @rx.event
    async def load(self) -> None:
        """Read the fields of the photo named in the URL (/photo/{id})."""
        path = self.router.url.path
        await self.load_for(path.rstrip("/").rsplit("/", 1)[-1] if "/photo/" in path else "")

    @rx.event
    async def load_for(self, raw_id: str) -> None:
        """Read the fields of a photo (the viewer shows another photo)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        fields = await asyncio.to_thread(_fields, owner_id, raw_id)
        self.error = ""
        if fields is None:
            self.photo_id = ""
            return
        for name, value in fields.items():
            setattr(self, name, value)
        self._loaded = fields

    @rx.event
    async def follow(self, raw_id: str) -> None:
        """Show the photo's fields as changed elsewhere, except one being edited here.

        A field the person is in, or has typed in without saving, keeps what they typed.
        """
        owner_id = await signed_in_user(self)
        if owner_id is None or not raw_id or raw_id != self.photo_id:
            return
        fields = await asyncio.to_thread(_fields, owner_id, raw_id)
        if fields is None:
            return
        loaded = dict(self._loaded)
        for name, value in fields.items():
            if _group(name) == self._focused or getattr(self, name) != loaded.get(name):
                continue
            setattr(self, name, value)
            loaded[name] = value
        self._loaded = loaded

    @rx.event
    def focus(self, field: str) -> None:
        """The person went into a field: changes from elsewhere leave it alone."""
        self._focused = field

    @rx.event
    def blur(self, field: str) -> None:
        """The person left a field."""
        if self._focused == field:
            self._focused = ""

    def _saved(self, *names: str) -> None:
        self._loaded = {**self._loaded, **{name: getattr(self, name) for name in names}}

    async def _apply(self, action: str, **kwargs: object) -> bool:
        owner_id = await (await self.get_state(SessionState)).user_id()
        self.error = await asyncio.to_thread(_run, owner_id, action, self.photo_id, **kwargs)
        return not self.error

    @rx.event
    async def toggle_favorite(self):
        """Make the photo a favourite, or not."""
        wanted = not self.favorite
        if await self._apply("favorite", favorite=wanted):
            self.favorite = wanted
            self._saved("favorite")

    @rx.event
    def set_title(self, value: str) -> None:
        """Keep the title being typed."""
        self.title = value

    @rx.event
    def set_description(self, value: str) -> None:
        """Keep the description being typed."""
        self.description = value

    @rx.event
    def set_taken_local(self, value: str) -> None:
        """Keep the date taken being typed."""
        self.taken_local = value

    @rx.event
    def set_taken_offset(self, value: str) -> None:
        """Keep the chosen time zone."""
        self.taken_offset = value

    @rx.event
    async def save_title(self, _value: str = ""):
        """Save the title (when the field loses focus or Enter is pressed)."""
        self.blur("title")
        if await self._apply("title", title=self.title):
            self._saved("title")
            return rx.toast.success("Title saved.", duration=2000)
        return None

    @rx.event
    async def save_description(self, _value: str = ""):
        """Save the description."""
        self.blur("description")
        if await self._apply("description", description=self.description):
            self._saved("description")
            return rx.toast.success("Description saved.", duration=2000)
        return None

    @rx.event
    async def save_taken(self):
        """Save the date taken in the chosen time zone, and show the photo's new date."""
        try:
            local = datetime.fromisoformat(self.taken_local)
        except ValueError:
            self.error = "Give the date and time the photo was taken."
            return None
        offset = parse_offset(self.taken_offset)
        if await self._apply("taken", local=local, offset_minutes=offset):
            self._saved("taken_local", "taken_offset")
            return [PhotoState.reload, GalleryState.refresh,
                    rx.toast.success("Date taken saved.", duration=2000)]
        return None

    @rx.event
    async def rotate(self, quarter_turns: int = 1):
        """Turn the photo a quarter clockwise (-1: counter-clockwise) and show it turned."""
        self.rotating = True
        yield
        try:
            done = await self._apply("rotate", quarter_turns=quarter_turns)
        finally:
            self.rotating = False
        if done:
            yield [PhotoState.reload, GalleryState.refresh]



class CardFavoriteState(rx.State):
    """The heart on a photo card."""

    @rx.event
    async def toggle(self, photo_id: str, favorite: bool):
        """Make the card's photo a favourite (or not) and show it on every card list."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        error = await asyncio.to_thread(_run, owner_id, "favorite", photo_id,
                                        favorite=not favorite)
        if error:
            return rx.toast.error(error)
        results = await self.get_state(SearchState)
        results.days = [
            dataclasses.replace(day, cards=[
                dataclasses.replace(card, favorite=not favorite) if card.id == photo_id
                else card for card in day.cards])
            for day in results.days
        ]
        return card_changed(photo_id, favorite=not favorite)
