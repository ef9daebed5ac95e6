"""Search: one query over a photo's words, with filters, newest date taken first.

The words are the filename, title, description, camera make and model, and lens. Each word of
the query must start a word of the photo (`bea` finds `beach.jpg`); on PostgreSQL a word of
three or more letters also matches inside words (`1234` finds `IMG1234.JPG`). SQLite answers
from an FTS5 index and PostgreSQL from a full-text and a trigram index (see
`imgstream.indexes.SEARCH_INDEX_DDL`), both kept in step with the photos by the database
itself, so every ingest, edit and deletion is searchable at once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session, select

from imgstream.models import Photo
from imgstream.services import imaging
from imgstream.services.timeline import PageCursor, keyset_page

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
RARE_MATCHES = 1000
"""Below this many matches (of any owner, on SQLite), a search reads its matches through the
search indexes and sorts them; above, it walks the timeline in date order."""
_WORD = re.compile(r"[^\W_]+")


def _literal(text: str) -> sa.BindParameter:
    return sa.bindparam(None, text, type_=sa.Text(), literal_execute=True)


class SearchError(ValueError):
    """A search that cannot be run as asked; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What narrows a search besides its words.

    Dates are compared with the date taken as the clock showed where the photo was taken,
    as the timeline groups photos; both ends are included.
    """

    taken_from: date | None = None
    taken_to: date | None = None
    favorites_only: bool = False
    camera: str | None = None
    """A camera label from `camera_choices` (the model, or the make without a model)."""
    format: str | None = None
    """A format name (`JPEG`, `HEIC`, …)."""

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.taken_from or self.taken_to or self.favorites_only or self.camera
                    or self.format)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, newest date taken first."""

    photos: list[Photo]
    next_cursor: PageCursor | None
    words: list[str] = field(default_factory=list)
    """The words searched for, as understood."""


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, as the index splits text (punctuation separates).

    Raises:
        SearchError: For a query over MAX_QUERY_LENGTH characters or with more than MAX_WORDS
            words.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchError(f"A search can be at most {MAX_QUERY_LENGTH} characters long.")
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(query)))
    if len(words) > MAX_WORDS:
        raise SearchError(f"A search can have at most {MAX_WORDS} words.")
    return words


def check_filters(filters: SearchFilters) -> SearchFilters:
    """The filters, checked.

    Raises:
        SearchError: When the start date is after the end date or the format is unknown.
    """
    if filters.taken_from and filters.taken_to and filters.taken_from > filters.taken_to:
        raise SearchError("The start date is after the end date.")
    if filters.format:
        try:
            imaging.format_named(filters.format)
        except StopIteration as exc:
            raise SearchError(f"Unknown format {filters.format!r}.") from exc
    return filters


def search_photos(
    *, session: Session, owner_id: uuid.UUID, query: str,
    filters: SearchFilters | None = None, limit: int = 60, after: PageCursor | None = None,
) -> SearchPage:
    """The owner's photos (not in the trash) matching the query and filters.

    An empty query with no filter lists the whole library, as the timeline does.

    Args:
        session: Database session.
        owner_id: Whose library.
        query: What the person typed.
        filters: What narrows the search.
        limit: Page size.
        after: Continue after this cursor; None for the first page.

    Returns:
        A page of photos, newest date taken first, with the next page's cursor.

    Raises:
        SearchError: For a query or filters that cannot be searched.
    """
    words = query_words(query)
    filters = check_filters(filters or SearchFilters())
    statement = select(Photo).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None))
    narrowing = _filter_conditions(filters)
    if words:
        statement = statement.where(_matches(session, owner_id, words, narrowing))
    statement = statement.where(*narrowing)
    photos, cursor = keyset_page(session, statement, Photo.taken_at, limit, after)
    return SearchPage(photos=photos, next_cursor=cursor, words=words)


def _matches(session: Session, owner_id: uuid.UUID, words: list[str],
             narrowing: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        # Words are letters and digits only (no LIKE or tsquery syntax), and go into the SQL
        # as literals so the planner matches them against the GIN indexes; bound parameters
        # leave it guessing and scanning in date order.
        document = sa.literal_column("photo.search_text")
        vector = sa.literal_column("photo.search_words")
        simple = sa.literal_column("'simple'::regconfig")
        prefixes = sa.func.to_tsquery(simple, _literal(" & ".join(f"{w}:*" for w in words)))
        conditions = [vector.op("@@")(prefixes)]
        if all(len(word) >= 3 for word in words):
            conditions.append(sa.and_(*(document.like(_literal(f"%{word}%"))
                                        for word in words)))
        condition = sa.or_(*conditions)
        # The planner cannot tell a rare word from a common one. A common word is best found
        # by walking the timeline in date order until a page is full; a rare one that way
        # means reading every photo. So the matches are first counted through the search
        # indexes alone (with the filters), up to RARE_MATCHES: fewer than that, and the page
        # is picked from them.
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        try:
            found = session.exec(
                select(Photo.id).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None),
                                       condition, *narrowing).limit(RARE_MATCHES)
            ).all()
        finally:
            session.execute(sa.text("SET LOCAL enable_seqscan = on"))
        return Photo.id.in_(found) if len(found) < RARE_MATCHES else condition
    match = " AND ".join(f'"{word}"*' for word in words)
    hits = sa.text("SELECT rowid FROM photo_search WHERE photo_search MATCH :match")
    # As on PostgreSQL: a rare word is best found through the index and its matches sorted; a
    # common one without filters by walking the timeline in date order until a page is full
    # ("+" keeps SQLite from reading every match and sorting them all).
    found = session.execute(
        sa.text("SELECT count(*) FROM (SELECT rowid FROM photo_search"
                " WHERE photo_search MATCH :match LIMIT :limit)"),
        {"match": match, "limit": RARE_MATCHES},
    ).scalar_one()
    # With filters, the matches are narrowed first: the page comes from the few left.
    rowid = "+photo.rowid" if found >= RARE_MATCHES and not narrowing else "photo.rowid"
    return sa.literal_column(rowid).in_(hits.bindparams(match=match))


def _filter_conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    # taken_day is the local day as text ("2024-07-14"), so text order is date order.
    if filters.taken_from:
        conditions.append(Photo.taken_day >= filters.taken_from.isoformat())
    if filters.taken_to:
        conditions.append(Photo.taken_day <= filters.taken_to.isoformat())
    if filters.favorites_only:
        conditions.append(Photo.favorite.is_(True))
    if filters.camera:
        conditions.append(sa.or_(
            Photo.camera_model == filters.camera,
            sa.and_(Photo.camera_model.is_(None), Photo.camera_make == filters.camera),
        ))
    if filters.format:
        conditions.append(Photo.format == imaging.format_named(filters.format).name)
    return conditions


def camera_choices(*, session: Session, owner_id: uuid.UUID) -> list[str]:
    """The cameras of the owner's library, as the camera filter takes them, sorted."""
    label = sa.func.coalesce(Photo.camera_model, Photo.camera_make)
    rows = session.exec(
        select(label).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None),
                            label.is_not(None)).distinct()
    ).all()
    return sorted({row for row in rows if row}, key=str.casefold)


def format_choices(*, session: Session, owner_id: uuid.UUID) -> list[str]:
    """The formats of the owner's library, sorted."""
    rows = session.exec(
        select(Photo.format).where(Photo.owner_id == owner_id, Photo.deleted_at.is_(None))
        .distinct()
    ).all()
    return sorted(rows)


def rebuild_index(*, session: Session) -> None:
    """Build the SQLite search index again from the photos (PostgreSQL needs nothing).

    Needed only after something bypassed its triggers, such as a migration that rebuilt the
    photo table.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("INSERT INTO photo_search(photo_search) VALUES ('rebuild')"))
        session.commit()
