"""A change counter per person, so every open tab of theirs can show what changed elsewhere.

Any committed database change to a person's photos or albums, made by any code path (pages,
REST API, CLI, background sweeps) through an ORM session, raises that person's counter once per
commit. Open tabs compare the counter with the one they last saw and refresh what they show
when it moved. The counters live in Redis when the app runs with Redis (several workers or
instances see the same numbers), else in the process (one worker).

Only the person's own counter is ever read for a tab, and a counter carries no data: a change
of one person can make nothing of theirs appear in another person's tab.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import visitors

from imgstream.models import Album, Photo

log = logging.getLogger(__name__)

KEY_PREFIX = "imgstream:changes:"
EVERYONE = "*"
"""Raised when a bulk statement's owner cannot be told: every tab refreshes (nothing leaks)."""
WATCHED = (Photo, Album)
"""Tables whose rows belong to one person and are shown in their tabs."""
_PENDING = "imgstream_changed_owners"


class ChangeCounters(Protocol):
    """Counters of changes per person."""

    def bump(self, owners: Iterable[str]) -> None:
        """Raise the counters of these people (owner ids, or EVERYONE)."""

    def version(self, owner_id: uuid.UUID) -> int:
        """The person's counter plus the everyone-counter: it moves on any change of theirs."""

    def versions(self, owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """`version` of each of these people, read at once."""


class MemoryCounters:
    """Counters in this process: right for a single worker without Redis."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def bump(self, owners: Iterable[str]) -> None:
        """Raise the counters of these people."""
        with self._lock:
            for owner in owners:
                self._counts[owner] = self._counts.get(owner, 0) + 1

    def version(self, owner_id: uuid.UUID) -> int:
        """The person's counter plus the everyone-counter."""
        return self.versions([owner_id])[owner_id]

    def versions(self, owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """`version` of each of these people."""
        with self._lock:
            everyone = self._counts.get(EVERYONE, 0)
            return {owner: self._counts.get(str(owner), 0) + everyone for owner in owner_ids}


class RedisCounters:
    """Counters in Redis, shared by every worker and instance using it."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def bump(self, owners: Iterable[str]) -> None:
        """Raise the counters of these people (one round trip)."""
        pipe = self._redis.pipeline(transaction=False)
        for owner in owners:
            pipe.incr(KEY_PREFIX + owner)
        pipe.execute()

    def version(self, owner_id: uuid.UUID) -> int:
        """The person's counter plus the everyone-counter."""
        return self.versions([owner_id])[owner_id]

    def versions(self, owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """`version` of each of these people (one round trip)."""
        *own, everyone = self._redis.mget(*(KEY_PREFIX + str(owner) for owner in owner_ids),
                                          KEY_PREFIX + EVERYONE)
        return {owner: int(count or 0) + int(everyone or 0)
                for owner, count in zip(owner_ids, own, strict=True)}


@lru_cache(maxsize=1)
def counters() -> ChangeCounters:
    """The process's counters: Redis when the app shares state through it, else memory."""
    url = os.environ.get("REFLEX_REDIS_URL", "")
    return RedisCounters(url) if url else MemoryCounters()


def version(owner_id: uuid.UUID) -> int:
    """The person's change counter now (0 when it cannot be read: tabs then just wait)."""
    try:
        return counters().version(owner_id)
    except Exception:  # noqa: BLE001 - a counter outage must not break the page
        log.warning("change counter unavailable", exc_info=True)
        return 0


def versions(owner_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """`version` of each of these people, read at once (0 for all when they cannot be read)."""
    if not owner_ids:
        return {}
    try:
        return counters().versions(owner_ids)
    except Exception:  # noqa: BLE001 - a counter outage must not break the page
        log.warning("change counter unavailable", exc_info=True)
        return dict.fromkeys(owner_ids, 0)


def changed(owners: Iterable[uuid.UUID | str]) -> None:
    """Tell these people's tabs that something of theirs changed (also for non-ORM writes)."""
    names = {str(owner) for owner in owners}
    if not names:
        return
    try:
        counters().bump(sorted(names))
    except Exception:  # noqa: BLE001 - the change is committed; tabs catch up on reload
        log.warning("change counter unavailable", exc_info=True)


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def _after_flush(session: Session, _context: object) -> None:
    pending = _pending(session)
    # Rows only touched (an attribute set to the value it had) changed nothing.
    dirty = [row for row in session.dirty if session.is_modified(row)]
    for row in (*session.new, *dirty, *session.deleted):
        if isinstance(row, WATCHED) and row.owner_id is not None:
            pending.add(str(row.owner_id))


def _owner_in(where: sa.ColumnElement | None) -> str | None:
    # `... WHERE photo.owner_id = :owner AND ...`: the bound owner of a bulk statement.
    if where is None:
        return None
    for element in visitors.iterate(where):
        if not isinstance(element, sa.BinaryExpression):
            continue
        left, right = element.left, element.right
        if isinstance(right, sa.Column) and isinstance(left, sa.BindParameter):
            left, right = right, left
        if (isinstance(left, sa.Column) and left.name == "owner_id"
                and left.table.name in {m.__tablename__ for m in WATCHED}
                and isinstance(right, sa.BindParameter)
                and element.operator is sa.sql.operators.eq):
            return str(right.effective_value)
    return None


def _do_orm_execute(state: ORMExecuteState) -> sa.Result | None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name not in {m.__tablename__ for m in WATCHED}:
        return
    owner = _owner_in(state.statement.whereclause)
    result = state.invoke_statement()
    # A statement that matched no row changed nothing (a sweep with nothing to sweep): no tab
    # need refresh. An unknown count (-1) counts as a change.
    if getattr(result, "rowcount", -1) != 0:
        _pending(state.session).add(owner or EVERYONE)
    return result


def _after_commit(session: Session) -> None:
    owners = session.info.pop(_PENDING, None)
    if owners:
        changed(owners)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def watch_sessions() -> None:
    """Raise the owners' counters after every commit that changed their photos or albums."""
    if event.contains(Session, "after_commit", _after_commit):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", lambda session, _tx: _after_rollback(session))
