"""The timeline: someone's photos by date taken.

Photos are grouped by the month and day they were taken, as the clock showed where they were
taken (`Photo.taken_month`, `Photo.taken_day`). A client first asks for the months with their
counts (`TimelineMonthCount`, kept exact by the database), then for the day counts of the months
it nears, then for the tiles of the stretches of a month on screen (an index-only query). Lists
that page (the trash, albums) use keyset pages.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import (
    Photo,
    Rendition,
    RenditionKind,
    TimelineDayCount,
    TimelineMonthCount,
    as_utc,
)
from imgstream.services.object_keys import thumbnail_key


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page of a keyset-paged list starts: after this (moment, photo id).

    The moment is the date taken for the timeline, the date deleted for the trash.
    """

    moment: datetime
    photo_id: uuid.UUID

    def encode(self) -> str:
        """An opaque string for the client."""
        raw = json.dumps([as_utc(self.moment).isoformat(), str(self.photo_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> PageCursor | None:
        """Parse a cursor string; None for anything malformed."""
        try:
            moment, pid = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(datetime.fromisoformat(moment), uuid.UUID(pid))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class MonthBucket:
    """One month of someone's timeline: how many photos, on how many days."""

    month: str
    """"2024-07"."""
    count: int
    days: int


@dataclass(frozen=True, slots=True)
class TimelineDay:
    """The photos of one day, newest first."""

    day: str
    """"2024-07-14"."""
    photos: list[Photo]


def _in_timeline(owner_id: uuid.UUID):  # noqa: ANN202
    return sa.and_(Photo.owner_id == owner_id, Photo.deleted_at.is_(None))


def timeline_order() -> tuple:
    """ORDER BY of the timeline: newest day first, newest moment first within a day.

    A day is as the clock showed where each photo was taken.
    """
    return (Photo.taken_month.desc(), Photo.taken_day.desc(), Photo.taken_at.desc(),
            Photo.id.desc())


def timeline_position(photo: Photo) -> tuple:
    """Where a photo stands in timeline_order, as a value to compare with timeline_key()."""
    return (photo.taken_day, photo.taken_at, photo.id)


def timeline_key() -> sa.Tuple:
    """The columns of timeline_position, to find the photos between two positions."""
    return sa.tuple_(Photo.taken_day, Photo.taken_at, Photo.id)


def month_buckets_query(owner_id: uuid.UUID) -> sa.Select:
    """The statement behind `month_buckets` (benchmarks time it as it runs)."""
    count = TimelineMonthCount
    return (sa.select(count.taken_month, count.photos, count.days)
            .where(count.owner_id == owner_id).order_by(count.taken_month.desc()))


def month_buckets(*, session: Session, owner_id: uuid.UUID) -> list[MonthBucket]:
    """Every month of the owner's timeline with its photo and day counts, newest first.

    Args:
        session: Database session.
        owner_id: Whose library.

    Returns:
        One bucket per month that has photos.
    """
    rows = session.execute(month_buckets_query(owner_id))
    return [MonthBucket(month, count, days) for month, count, days in rows]


@dataclass(frozen=True, slots=True)
class DayCount:
    """How many photos one day of the timeline holds."""

    day: str
    count: int


def month_days(*, session: Session, owner_id: uuid.UUID, month: str) -> list[DayCount]:
    """The days of one month of the owner's timeline with their photo counts, newest first.

    Args:
        session: Database session.
        owner_id: Whose library.
        month: "YYYY-MM".

    Returns:
        One count per day that has photos (none for a malformed month).
    """
    count = TimelineDayCount
    rows = session.execute(
        sa.select(count.taken_day, count.photos)
        .where(count.owner_id == owner_id, count.taken_month == month)
        .order_by(count.taken_day.desc())
    )
    return [DayCount(day, photos) for day, photos in rows]


@dataclass(frozen=True, slots=True)
class TimelineTile:
    """What the timeline's grid needs of one photo."""

    id: uuid.UUID
    day: str
    filename: str
    width: int
    height: int
    favorite: bool
    thumbhash: str | None
    thumbnail_key: str


def month_tiles_query(owner_id: uuid.UUID, month: str, offset: int = 0,
                      limit: int | None = None) -> sa.Select:
    """The statement behind `month_tiles`: photo columns all in the timeline's index."""
    thumb = Rendition
    query = (
        sa.select(Photo.id, Photo.taken_day, Photo.filename, Photo.width, Photo.height,
                  Photo.favorite, Photo.thumbhash, Photo.revision, thumb.key)
        .select_from(Photo)
        .outerjoin(thumb, sa.and_(thumb.photo_id == Photo.id,
                                  thumb.kind == RenditionKind.THUMB))
        .where(_in_timeline(owner_id), Photo.taken_month == month)
        .order_by(*timeline_order())
    )
    if offset:
        query = query.offset(offset)
    return query if limit is None else query.limit(limit)


def month_tiles(*, session: Session, owner_id: uuid.UUID, month: str, offset: int = 0,
                limit: int | None = None) -> list[TimelineTile]:
    """Tiles of one month in timeline order, from `offset`, at most `limit` of them.

    Args:
        session: Database session.
        owner_id: Whose library.
        month: "YYYY-MM".
        offset: How many of the month's photos (in timeline order) come before the first.
        limit: How many at most; None for the rest of the month.

    Returns:
        The tiles (none for a month without photos or a malformed month).
    """
    rows = session.execute(month_tiles_query(owner_id, month, offset, limit))
    return [
        TimelineTile(photo_id, day, filename, width, height, favorite, thumbhash,
                     key or thumbnail_key(owner_id, photo_id, revision))
        for photo_id, day, filename, width, height, favorite, thumbhash, revision, key in rows
    ]


def recount(*, session: Session) -> None:
    """Count every timeline's months and days anew from the photos.

    Needed only after something bypassed the counting triggers, such as a migration that
    rebuilt the photo table on SQLite.
    """
    day, month = TimelineDayCount.__table__, TimelineMonthCount.__table__
    session.execute(sa.delete(month))
    session.execute(sa.delete(day))
    session.execute(day.insert().from_select(
        ["owner_id", "taken_day", "taken_month", "photos"],
        sa.select(Photo.owner_id, Photo.taken_day, Photo.taken_month, sa.func.count())
        .where(Photo.deleted_at.is_(None))
        .group_by(Photo.owner_id, Photo.taken_day, Photo.taken_month),
    ))
    session.execute(month.insert().from_select(
        ["owner_id", "taken_month", "photos", "days"],
        sa.select(day.c.owner_id, day.c.taken_month, sa.func.sum(day.c.photos), sa.func.count())
        .group_by(day.c.owner_id, day.c.taken_month),
    ))
    session.commit()


def month_photos(*, session: Session, owner_id: uuid.UUID, month: str) -> list[Photo]:
    """The owner's photos of one month in timeline order: newest day first, newest first.

    Args:
        session: Database session.
        owner_id: Whose library.
        month: "YYYY-MM".

    Returns:
        The photos (none for a month without photos or a malformed month).
    """
    query = select(Photo).where(_in_timeline(owner_id), Photo.taken_month == month)
    return list(session.exec(query.order_by(*timeline_order())))


def by_day(photos: list[Photo]) -> list[TimelineDay]:
    """Photos in timeline order, grouped by the day they were taken."""
    days: list[TimelineDay] = []
    for photo in photos:
        if not days or days[-1].day != photo.taken_day:
            days.append(TimelineDay(photo.taken_day, []))
        days[-1].photos.append(photo)
    return days


def neighbours(
    *, session: Session, owner_id: uuid.UUID, photo: Photo
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The photos before and after one in the timeline: (newer, older); None at either end.

    Args:
        session: Database session.
        owner_id: Whose library.
        photo: A photo of that library.

    Returns:
        The ids of the newer and the older neighbour.
    """
    key = sa.tuple_(Photo.taken_month, Photo.taken_day, Photo.taken_at, Photo.id)
    here = sa.tuple_(sa.literal(photo.taken_month), sa.literal(photo.taken_day),
                     sa.literal(photo.taken_at, Photo.taken_at.type), sa.literal(photo.id))
    base = sa.select(Photo.id).where(_in_timeline(owner_id))
    older = session.execute(base.where(key < here).order_by(*timeline_order()).limit(1))
    newer = session.execute(
        base.where(key > here)
        .order_by(Photo.taken_month, Photo.taken_day, Photo.taken_at, Photo.id).limit(1)
    )
    return newer.scalar(), older.scalar()


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of the timeline, newest date taken first."""

    photos: list[Photo]
    next_cursor: PageCursor | None


def timeline_page(
    *, session: Session, owner_id: uuid.UUID, limit: int, after: PageCursor | None = None
) -> TimelinePage:
    """A page of the owner's photos by date taken, newest first (keyset pagination).

    Args:
        session: Database session.
        owner_id: Whose library.
        limit: Page size.
        after: Continue after this cursor; None for the first page.

    Returns:
        The page, with the cursor of the next one when there is more.
    """
    query = select(Photo).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None))
    return TimelinePage(*keyset_page(session, query, Photo.taken_at, limit, after))


def keyset_page(
    session: Session, query, moment, limit: int, after: PageCursor | None  # noqa: ANN001
) -> tuple[list[Photo], PageCursor | None]:
    """Rows of `query` newest `moment` first, after the cursor; the next page's cursor."""
    if after is not None:
        query = query.where(
            sa.or_(moment < after.moment,
                   sa.and_(moment == after.moment, Photo.id < after.photo_id))
        )
    rows = list(session.exec(query.order_by(moment.desc(), Photo.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, PageCursor(as_utc(getattr(rows[-1], moment.key)), rows[-1].id)


def get_photo(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> Photo | None:
    """The owner's photo with this id; None when missing or someone else's."""
    return session.exec(
        select(Photo).where(
            Photo.id == photo_id, Photo.owner_id == owner_id, Photo.deleted_at.is_(None)
        )
    ).first()


def parse_photo_id(raw: str) -> uuid.UUID | None:
    """A photo id from a URL or request; None if it is not one."""
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None

