"""Search results and the favourites page: photos grouped by month and day."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import date
from urllib.parse import quote

import reflex as rx

from imgstream import presentation
from imgstream.models import RenditionKind
from imgstream.runtime import read_session
from imgstream.services import renditions, search
from imgstream.services.search import SearchError, SearchFilters
from imgstream.services.timeline import PageCursor
from imgstream.state.gallery import PhotoCard, card_of
from imgstream.state.session import SessionState, signed_in_user

RESULTS_PAGE = 120
ANY = "any"


@dataclasses.dataclass(frozen=True)
class ResultDay:
    """One day of results, with its month's header when it is the month's first day shown."""

    day: str
    day_label: str
    month: str
    month_label: str
    first_of_month: bool
    cards: list[PhotoCard]


@dataclasses.dataclass(frozen=True)
class Results:
    """A page of results grouped by day, and where the next page starts."""

    days: list[ResultDay]
    next_cursor: str
    error: str = ""
    cameras: list[str] = dataclasses.field(default_factory=list)
    formats: list[str] = dataclasses.field(default_factory=list)


def group_by_day(photos_cards: list[tuple[str, PhotoCard]]) -> list[ResultDay]:
    """Cards (with their local day, "2024-07-14") in days, newest first, as the timeline."""
    days: list[ResultDay] = []
    seen_months: set[str] = set()
    for day, card in photos_cards:
        if days and days[-1].day == day:
            days[-1].cards.append(card)
            continue
        when = date.fromisoformat(day)
        month = day[:7]
        days.append(ResultDay(day=day, day_label=when.strftime("%a %-d %b %Y"), month=month,
                              month_label=when.strftime("%B %Y"),
                              first_of_month=month not in seen_months, cards=[card]))
        seen_months.add(month)
    return days


def run_search(owner_id: uuid.UUID, query: str, filters: SearchFilters, cursor: str = "",
               with_choices: bool = False) -> Results:
    """One page of results for the page, or why there is none."""
    after = PageCursor.decode(cursor) if cursor else None
    try:
        with read_session() as session:
            page = search.search_photos(session=session, owner_id=owner_id, query=query,
                                        filters=filters, limit=RESULTS_PAGE, after=after)
            thumbs = renditions.renditions_of(session=session,
                                              photo_ids=[p.id for p in page.photos],
                                              kinds=(RenditionKind.THUMB,))
            cameras = search.camera_choices(session=session, owner_id=owner_id) \
                if with_choices else []
            formats = search.format_choices(session=session, owner_id=owner_id) \
                if with_choices else []
    except SearchError as exc:
        return Results(days=[], next_cursor="", error=str(exc))
    cards = [
        (presentation.taken_at_local(photo).date().isoformat(),
         card_of(photo, thumbs.get((photo.id, RenditionKind.THUMB))))
        for photo in page.photos
    ]
    return Results(days=group_by_day(cards),
                   next_cursor=page.next_cursor.encode() if page.next_cursor else "",
                   cameras=cameras, formats=formats)


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _long_date(text: str) -> str:
    when = _date_or_none(text)
    return when.strftime("%-d %B %Y") if when else ""


def why_empty(query: str, taken_from: str, taken_to: str, favorites: bool, camera: str,
              fmt: str) -> str:
    """Why a search found nothing, in words ("No photos match 'x' between … and …")."""
    subject = "favourites" if favorites else "photos"
    words = query.strip()
    text = f"No {subject} match '{words}'" if words else f"No {subject}"
    start, end = _long_date(taken_from), _long_date(taken_to)
    if start and end:
        text += f" between {start} and {end}"
    elif start:
        text += f" taken on or after {start}"
    elif end:
        text += f" taken on or before {end}"
    if camera and camera != ANY:
        text += f" from the {camera}"
    if fmt and fmt != ANY:
        text += f" in {fmt}"
    if not (words or start or end or (camera and camera != ANY) or (fmt and fmt != ANY)):
        return "No favourites yet. Tap the heart on a photo to add it here." if favorites \
            else "Your library has no photos yet."
    return text + "."


class SearchState(rx.State):
    """The search box, its filters and the results on screen."""

    query: str = ""
    taken_from: str = ""
    taken_to: str = ""
    favorites_only: bool = False
    camera: str = ANY
    format: str = ANY
    days: list[ResultDay] = []
    cameras: list[str] = []
    formats: list[str] = []
    error: str = ""
    loaded: bool = False
    has_more: bool = False
    favorites_page: bool = False
    _next_cursor: str = ""

    @rx.var
    def empty_message(self) -> str:
        """Why nothing was found."""
        return why_empty(self.query, self.taken_from, self.taken_to,
                         self.favorites_only or self.favorites_page, self.camera, self.format)

    @rx.var
    def camera_choices(self) -> list[str]:
        """The camera filter's choices."""
        return [ANY, *self.cameras]

    @rx.var
    def format_choices(self) -> list[str]:
        """The format filter's choices."""
        return [ANY, *self.formats]

    def _filters(self) -> SearchFilters:
        return SearchFilters(
            taken_from=_date_or_none(self.taken_from), taken_to=_date_or_none(self.taken_to),
            favorites_only=self.favorites_only or self.favorites_page,
            camera=None if self.camera == ANY else self.camera,
            format=None if self.format == ANY else self.format,
        )

    async def _search(self, owner_id: uuid.UUID, *, with_choices: bool = False) -> None:
        results = await asyncio.to_thread(run_search, owner_id, self.query, self._filters(),
                                          "", with_choices)
        self.days = results.days
        self.error = results.error
        self._next_cursor = results.next_cursor
        self.has_more = bool(results.next_cursor)
        if with_choices:
            self.cameras, self.formats = results.cameras, results.formats
        self.loaded = True

    @rx.event
    async def load_search(self) -> None:
        """Open the search page with the query in the URL (`/search?q=...`)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        self.favorites_page = False
        self.query = str(self.router.page.params.get("q", "") or "")[:search.MAX_QUERY_LENGTH]
        await self._search(owner_id, with_choices=True)

    @rx.event
    async def load_favorites(self) -> None:
        """Open the favourites page: every favourite, newest first."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        self.favorites_page = True
        self.query, self.taken_from, self.taken_to = "", "", ""
        self.favorites_only, self.camera, self.format = False, ANY, ANY
        await self._search(owner_id)

    @rx.event
    def submit_search(self, form: dict):
        """Search for what was typed in the header's box."""
        query = str(form.get("q", "")).strip()[:search.MAX_QUERY_LENGTH]
        self.query = query
        return rx.redirect(f"/search?q={quote(query)}" if query else "/search")

    @rx.event
    async def set_filter(self, name: str, value: str | bool):
        """Change one filter and search again."""
        if name in ("taken_from", "taken_to", "camera", "format"):
            setattr(self, name, str(value))
        elif name == "favorites_only":
            self.favorites_only = bool(value)
        owner_id = await (await self.get_state(SessionState)).user_id()
        await self._search(owner_id)

    @rx.event
    async def set_query(self, value: str) -> None:
        """Search as the words on the results page change."""
        self.query = value[:search.MAX_QUERY_LENGTH]
        owner_id = await (await self.get_state(SessionState)).user_id()
        await self._search(owner_id)

    @rx.event(supersedes=True)
    async def load_more(self) -> None:
        """Append the next page of results."""
        if not self._next_cursor:
            return
        owner_id = await (await self.get_state(SessionState)).user_id()
        results = await asyncio.to_thread(run_search, owner_id, self.query, self._filters(),
                                          self._next_cursor)
        days = list(self.days)
        new = results.days
        if days and new and days[-1].day == new[0].day:
            days[-1] = dataclasses.replace(days[-1], cards=[*days[-1].cards, *new[0].cards])
            new = new[1:]
        months = {day.month for day in days}
        days += [dataclasses.replace(day, first_of_month=day.first_of_month
                                     and day.month not in months) for day in new]
        self.days = days
        self._next_cursor = results.next_cursor
        self.has_more = bool(results.next_cursor)
