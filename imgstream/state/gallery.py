"""The timeline on the library page: its months, and the photos of the stretches on screen.

The months (with their counts) are page state. The days of a month (with their counts) and the
photos of a segment of a month go to the browser's timeline store (components/timeline.js) as
the answer to the event that asked for them, so an answer carries only what was asked; the
store knows what it holds and asks again after a change.
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
from imgstream.runtime import read_session, storage
from imgstream.services import photo_urls, timeline
from imgstream.state.session import SessionState, signed_in_user

MAX_MONTHS_PER_EVENT = 60
MAX_SEGMENTS_PER_EVENT = 4
MAX_SEGMENT_PHOTOS = 200
OPENING_PHOTOS = 120
"""Photos sent with the months on opening: as many as the script's first segment holds at most."""
OPENING_MONTHS = 6


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
    """A day (or the rest of a long day) of a loaded segment, as the browser's store holds it."""

    day: str
    label: str
    """Empty where a long day goes on from the segment before."""
    cards: list[PhotoCard]
    key: str
    flex: str
    """Its width in its row of days: as many tiles as it has photos, or the whole row."""


@dataclasses.dataclass(frozen=True)
class TimelineSegment:
    """A stretch of a month's days, drawn once its photos are near the viewport."""

    key: str
    """"2024-07/120/120": the month, how many of its photos come before, how many it holds."""
    height: str
    """The height its photos will take (CSS), while they are not loaded."""


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
    with read_session() as session:
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


def days_payload(owner_id: uuid.UUID, months: list[str]) -> list[dict]:
    """The days of some months with their photo counts, as the browser's timeline store takes them.

    The store cuts each month into segments from these counts.
    """
    with read_session() as session:
        return [
            {"month": month, "days": [
                {"day": day.day, "label": _day_label(day.day), "count": day.count}
                for day in timeline.month_days(session=session, owner_id=owner_id, month=month)
            ]}
            for month in months
        ]


def parse_segment(key: object) -> tuple[str, int, int] | None:
    """(month, offset, limit) of a segment key "2024-07/120/120"; None for anything else."""
    try:
        month, offset, limit = str(key).split("/")
        first, size = int(offset), int(limit)
    except ValueError:
        return None
    if len(month) != 7 or first < 0 or not 0 < size <= MAX_SEGMENT_PHOTOS:
        return None
    return month, first, size


def segment_payload(owner_id: uuid.UUID, keys: list[str]) -> list[dict]:
    """The photos of some segments of months, by day, as the browser's timeline store takes them.

    Each card carries the raw thumbhash: the browser draws the placeholder from it.
    """
    store = storage()
    payload = []
    with read_session() as session:
        for key in keys:
            month, offset, limit = parse_segment(key) or ("", 0, 0)
            tiles = timeline.month_tiles(session=session, owner_id=owner_id, month=month,
                                         offset=offset, limit=limit) if limit else []
            days: list[dict] = []
            for tile in tiles:
                if not days or days[-1]["day"] != tile.day:
                    days.append({"day": tile.day, "label": _day_label(tile.day), "cards": []})
                url = photo_urls.url_or_none(storage=store, key=tile.thumbnail_key)
                days[-1]["cards"].append({
                    "id": str(tile.id), "filename": tile.filename, "thumbnail_url": url or "",
                    "thumbhash": tile.thumbhash or "", "favorite": tile.favorite,
                    "width": tile.width, "height": tile.height})
            payload.append({"key": key, "days": days})
    return payload


def opening_segments(months: list[MonthRow]) -> list[str]:
    """Segment keys from the start of the newest months, OPENING_PHOTOS photos in all at most."""
    keys, photos = [], 0
    for row in months[:OPENING_MONTHS]:
        take = min(row.count, OPENING_PHOTOS)
        if keys and photos + take > OPENING_PHOTOS:
            break
        keys.append(f"{row.month}/0/{take}")
        photos += take
    return keys


def opening_payload(owner_id: uuid.UUID, months: list[MonthRow]) -> tuple[list[dict], list[dict]]:
    """What the top of the timeline shows, sent with the months so it draws without asking.

    The days of the newest months, and the first photos of the newest of them (as segment
    payloads from the start of their month): the script fits each to its month's first segment.
    """
    return (days_payload(owner_id, [row.month for row in months[:OPENING_MONTHS]]),
            segment_payload(owner_id, opening_segments(months)))


def card_changed(photo_id: str, **changes: object) -> rx.event.EventSpec:
    """Show a change of one photo on its timeline card (favourite), without reloading months."""
    return _store_call("patch", photo_id, changes)


def _store_call(function: str, *args: object) -> rx.event.EventSpec:
    text = ", ".join(json.dumps(arg, separators=(",", ":")) for arg in args)
    return rx.call_script(f"window.imgstreamTimeline.{function}({text})")


def _connect_call() -> rx.event.EventSpec:
    """Let the page's timeline script ask GalleryState for days and photos."""
    report = format_queue_events(GalleryState.report, args_spec=lambda event: [event])
    return rx.call_script(f"window.imgstreamTimeline.connect({report._js_expr})")


class GalleryState(rx.State):
    """The months of the signed-in user's timeline."""

    months: list[MonthRow] = []
    total: int = 0
    loaded: bool = False

    @rx.var
    def total_label(self) -> str:
        """The number of photos in the library, for people."""
        return _count_label(self.total)

    async def page_size(self) -> int:
        """Photos per page in paged lists: the user's preference, else the app's default."""
        return (await self.get_state(SessionState)).page_size or get_settings().default_page_size

    @rx.event
    def connect(self):
        """Let the page's timeline script ask this state for days and photos (timeline mount)."""
        return _connect_call()

    @rx.event
    async def open_timeline(self):
        """Read the months (page load); a new tab starts with none of their photos."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        first = not self.loaded
        await self._read_months(owner_id)
        days, photos = await asyncio.to_thread(opening_payload, owner_id, self.months)
        calls = [_store_call("reset" if first else "refresh")]
        if days:
            calls.append(_store_call("putOpening", days, photos))
        return [*calls, _connect_call()]

    @rx.event
    async def refresh(self):
        """Read the months again (after uploads, trash, edits).

        The browser then asks anew for the days and photos it holds.
        """
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        await self._read_months(owner_id)
        return _store_call("refresh")

    async def _read_months(self, owner_id: uuid.UUID) -> None:
        self.months = await asyncio.to_thread(month_rows, owner_id)
        self.total = sum(row.count for row in self.months)
        self.loaded = True

    @rx.event
    async def report(self, event: dict):
        """Take what the timeline script asks: the days of months, the photos of segments."""
        kind = event.get("kind") if isinstance(event, dict) else None
        owner_id = await (await self.get_state(SessionState)).user_id()
        if owner_id is None:
            return None
        if kind == "days":
            known = {row.month for row in self.months}
            months = [str(m) for m in event.get("months") or [] if str(m) in known]
            months = months[:MAX_MONTHS_PER_EVENT]
            return _store_call("putDays", await asyncio.to_thread(days_payload, owner_id,
                                                                  months)) if months else None
        if kind == "photos":
            keys = [str(key) for key in event.get("segments") or [] if parse_segment(key)]
            keys = keys[:MAX_SEGMENTS_PER_EVENT]
            return _store_call("putPhotos", await asyncio.to_thread(
                segment_payload, owner_id, keys)) if keys else None
        return None
