"""The timeline: someone's photos by date taken, one keyset page at a time."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, as_utc


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

