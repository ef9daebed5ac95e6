"""The timeline on the library page: its months, and the photos of the months on screen.

The months (with their counts) are page state. The photos of a month go to the browser's
timeline store (components/timeline.js) as the answer to the event that asked for them, so an
answer carries that month only; this state remembers which months the browser holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import date

import reflex as rx
from reflex_base.utils.format import format_queue_events

from imgstream import presentation
from imgstream.config import get_settings
from imgstream.models import Photo, Rendition
from imgstream.runtime import db_session, storage
from imgstream.services import photo_urls, renditions, timeline
from imgstream.state.session import SessionState, signed_in_user

MAX_MONTHS_PER_EVENT = 6


@dataclasses.dataclass(frozen=True)
class PhotoCard:
    """What a grid shows of one photo."""

    id: str
    filename: str
    thumbnail_url: str
    """Empty when it cannot be signed now: the placeholder stands in for it."""
    taken_label: str
    placeholder: str
    """A data URL of the blurred thumbhash image, shown until the thumbnail has loaded."""
    favorite: bool = False
    width: int = 0
    height: int = 0


@dataclasses.dataclass(frozen=True)
class TimelineDayView:
    """A day of a loaded month, as the browser's timeline store holds it."""

    day: str
    label: str
    cards: list[PhotoCard]


@dataclasses.dataclass(frozen=True)
class MonthRow:
    """A month of the timeline before its photos are loaded: enough to size its place."""

    month: str
    label: str
    count: int
    days: int
    year: str
    count_label: str
    year_start: bool
    """Whether it is the newest month of its year (the scrubber labels the year there)."""


def _card(photo: Photo, thumb: Rendition | None) -> PhotoCard:
    image = photo_urls.thumbnail(storage=storage(), photo=photo, rendition=thumb)
    return PhotoCard(
        id=str(photo.id),
        filename=photo.filename,
        thumbnail_url=image.url,
        taken_label=presentation.taken_at_local(photo).strftime("%-d %b %Y"),
        placeholder=image.placeholder,
        favorite=photo.favorite,
        width=photo.width,
        height=photo.height,
    )


def card_of(photo: Photo, thumb: Rendition | None) -> PhotoCard:
    """The grid card of a photo (album pages show the same cards as the timeline)."""
    return _card(photo, thumb)


def _count_label(count: int) -> str:
    return "1 photo" if count == 1 else f"{count:,} photos"


def month_rows(owner_id: uuid.UUID) -> list[MonthRow]:
    """The owner's months, newest first."""
    with db_session() as session:
        buckets = timeline.month_buckets(session=session, owner_id=owner_id)
    rows: list[MonthRow] = []
    for bucket in buckets:
        first = date.fromisoformat(bucket.month + "-01")
        year = bucket.month[:4]
        rows.append(MonthRow(bucket.month, first.strftime("%B %Y"), bucket.count, bucket.days,
                             year, _count_label(bucket.count),
                             year_start=not rows or rows[-1].year != year))
    return rows


def _day_label(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%a %-d %b")
    except ValueError:
        return day


def month_payload(owner_id: uuid.UUID, months: list[str]) -> list[dict]:
    """The photos of some months, by day, as the browser's timeline store takes them.

    Each card carries the raw thumbhash: the browser draws the placeholder from it.
    """
    store = storage()
    payload = []
    with db_session() as session:
        for month in months:
            photos = timeline.month_photos(session=session, owner_id=owner_id, month=month)
            thumbs = renditions.thumbnail_keys(session=session,
                                               photo_ids=[photo.id for photo in photos])
            days = []
            for day in timeline.by_day(photos):
                cards = []
                for photo in day.photos:
                    url = photo_urls.url_or_none(
                        storage=store, key=renditions.thumbnail_key_of(photo, thumbs))
                    cards.append({"id": str(photo.id), "filename": photo.filename,
                                  "thumbnail_url": url or "", "thumbhash": photo.thumbhash or "",
                                  "favorite": photo.favorite, "width": photo.width,
                                  "height": photo.height})
                days.append({"day": day.day, "label": _day_label(day.day), "cards": cards})
            payload.append({"month": month, "days": days})
    return payload


def card_changed(photo_id: str, **changes: object) -> rx.event.EventSpec:
    """Show a change of one photo on its timeline card (favourite), without reloading months."""
    return _store_call("patch", photo_id, changes)


def _store_call(function: str, *args: object) -> rx.event.EventSpec:
    text = ", ".join(json.dumps(arg, separators=(",", ":")) for arg in args)
    return rx.call_script(f"window.imgstreamTimeline.{function}({text})")


class GalleryState(rx.State):
    """The months of the signed-in user's timeline, and which the browser holds."""

    months: list[MonthRow] = []
    total: int = 0
    loaded: bool = False
    _held: list[str] = []
    """Months whose photos this browser tab holds."""

    @rx.var
    def total_label(self) -> str:
        """The number of photos in the library, for people."""
        return _count_label(self.total)

    async def page_size(self) -> int:
        """Photos per page in paged lists: the user's preference, else the app's default."""
        return (await self.get_state(SessionState)).page_size or get_settings().default_page_size

    @rx.event
    def connect(self):
        """Let the page's timeline script ask this state for months (timeline mount)."""
        report = format_queue_events(GalleryState.report, args_spec=lambda event: [event])
        return rx.call_script(f"window.imgstreamTimeline.connect({report._js_expr})")

    @rx.event
    async def open_timeline(self):
        """Read the months (page load); a new tab starts with none of their photos."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        if not self.loaded:
            self._held = []
            self.months = await asyncio.to_thread(month_rows, owner_id)
            self.total = sum(row.count for row in self.months)
            self.loaded = True
            return _store_call("reset")
        return await self._refresh(owner_id)

    @rx.event
    async def refresh(self):
        """Read the months again and send the held months anew (after uploads, trash, edits)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        return await self._refresh(owner_id)

    async def _refresh(self, owner_id: uuid.UUID) -> list[rx.event.EventSpec]:
        rows = await asyncio.to_thread(month_rows, owner_id)
        present = {row.month for row in rows}
        gone = [month for month in self._held if month not in present]
        held = [month for month in self._held if month in present]
        self.months, self.total, self.loaded = rows, sum(row.count for row in rows), True
        self._held = held
        events = []
        if gone:
            events.append(_store_call("forget", gone))
        if held:
            events.append(_store_call("put", await asyncio.to_thread(month_payload, owner_id,
                                                                     held)))
        return events

    @rx.event
    async def report(self, event: dict):
        """Take what the timeline script asks: months to load, months it dropped."""
        kind = event.get("kind")
        known = {row.month for row in self.months}
        months = [str(m) for m in event.get("months") or [] if str(m) in known]
        if kind == "dropped":
            self._held = [month for month in self._held if month not in months]
            return None
        if kind != "need" or not months:
            return None
        months = months[:MAX_MONTHS_PER_EVENT]
        owner_id = await (await self.get_state(SessionState)).user_id()
        payload = await asyncio.to_thread(month_payload, owner_id, months)
        self._held = [*[m for m in self._held if m not in months], *months]
        return _store_call("put", payload)
