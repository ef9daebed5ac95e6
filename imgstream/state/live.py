"""Live tabs: what another tab or device of the same person changed shows here without reload.

Each open tab runs one background task that follows the person's change counter
(services.live_changes); when it moved, the task runs the refresh handlers the current page
registered with `refresh_on_change`, which reload just that page's data. The counters are in
Redis when workers share state through it, so a change handled by one worker reaches tabs
connected to another. One reader per worker process (`ChangeFeed`) reads the counters of every
person with a tab open there, at once, every POLL_SECONDS, and wakes only the tabs of people
whose counter moved: an idle tab costs neither a read nor a wake-up of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter

import reflex as rx
from reflex.event import Event, EventHandler

from imgstream.services import live_changes
from imgstream.state.session import signed_in_user
from imgstream.state.upload import UploadState

POLL_SECONDS = 0.25
"""How often a worker reads the counters: changes show within about this, plus the refresh."""
RECHECK_SECONDS = 5.0
"""How often an idle tab's task wakes anyway, to end once its tab has gone."""
UPLOADING_REFRESH_SECONDS = 5.0
"""Least time between two refreshes of a tab that is uploading itself."""

_REFRESH: dict[str, list[EventHandler]] = {}


def refresh_on_change(route: str, *handlers: EventHandler) -> None:
    """Run these handlers on a page showing `route` when its person's data changed elsewhere.

    Args:
        route: A page's path ("/trash"), or a prefix ending in "/" for pages with an id in
            their path ("/photo/").
        *handlers: The page's own loading handlers.
    """
    _REFRESH.setdefault(route, []).extend(handlers)


def handlers_for(path: str) -> list[EventHandler]:
    """The refresh handlers of the page at path (exact route, else the longest prefix)."""
    path = path.split("?")[0].rstrip("/") or "/"
    if path in _REFRESH:
        return _REFRESH[path]
    prefixes = [r for r in _REFRESH if r.endswith("/") and r != "/" and path.startswith(r)]
    return _REFRESH[max(prefixes, key=len)] if prefixes else []


_namespace: list = []


def _event_namespace() -> object | None:
    # Looked up once it exists: get_app() touches sys.path on every call.
    if not _namespace:
        from reflex.utils import prerequisites

        app = getattr(prerequisites.get_app(), "app", None)
        namespace = getattr(app, "event_namespace", None)
        if namespace is None:
            return None
        _namespace.append(namespace)
    return _namespace[0]


def _connected(token: str) -> bool:
    namespace = _event_namespace()
    return namespace is None or token in namespace.token_to_sid


class ChangeFeed:
    """The change counters of the people with a tab open in this process, read at once.

    One task per event loop reads them every POLL_SECONDS while anyone follows, and wakes only
    the tasks of the people whose counter moved: an idle tab costs no read and no wake-up.
    """

    def __init__(self) -> None:
        self._following: Counter[uuid.UUID] = Counter()
        self._known: dict[uuid.UUID, int] = {}
        self._moved: dict[uuid.UUID, asyncio.Future] = {}
        self._task: asyncio.Task | None = None

    @contextlib.contextmanager
    def following(self, owner_id: uuid.UUID):  # noqa: ANN201
        """Count the person's counter in the reads while the block runs (one open tab)."""
        self._following[owner_id] += 1
        try:
            yield self
        finally:
            self._following[owner_id] -= 1
            if self._following[owner_id] <= 0:
                del self._following[owner_id]
                self._known.pop(owner_id, None)

    async def change_from(self, owner_id: uuid.UUID, seen: int,
                          timeout: float = RECHECK_SECONDS) -> int:
        """The person's counter once it differs from `seen`, or `seen` after `timeout`."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._moved.clear()
            self._task = loop.create_task(self._run())
        known = self._known.get(owner_id, seen)
        if known != seen:
            return known
        moved = self._moved.get(owner_id)
        if moved is None or moved.done():
            moved = self._moved[owner_id] = loop.create_future()
        # Shielded: one tab's task ending must not cancel the wake-up the others wait for.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(moved), timeout)
        return self._known.get(owner_id, seen)

    async def _run(self) -> None:
        try:
            while self._following:
                await asyncio.sleep(POLL_SECONDS)
                owners = list(self._following)
                versions = await asyncio.to_thread(live_changes.versions, owners)
                for owner, version in versions.items():
                    if owner not in self._following or self._known.get(owner) == version:
                        continue
                    self._known[owner] = version
                    moved = self._moved.pop(owner, None)
                    if moved is not None and not moved.done():
                        moved.set_result(version)
        finally:
            # Whoever still waits looks again rather than wait for a read that will not come.
            for moved in self._moved.values():
                if not moved.done():
                    moved.set_result(None)
            self._moved.clear()


_feed = ChangeFeed()
_newest: dict[str, str] = {}
"""The newest watcher task of each tab connected to this process, by client token."""


class LiveState(rx.State):
    """The tab's watcher of the person's change counter."""

    _watcher: str = ""

    @rx.event(background=True)
    async def watch(self):
        """Follow the person's changes while the tab is open (started by every page)."""
        mine = uuid.uuid4().hex
        async with self:
            # The newest watcher wins: one per tab, also after a reconnect to another worker.
            self._watcher = mine
            token = self.router.session.client_token
            owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        seen = await asyncio.to_thread(live_changes.version, owner_id)
        refreshed = 0.0
        _newest[token] = mine
        try:
            with _feed.following(owner_id):
                # A newer task of the same tab in this process takes over without a read of
                # the tab's state; one on another worker is found in that state on a change.
                while _connected(token) and _newest.get(token) == mine:
                    now = await _feed.change_from(owner_id, seen)
                    if now == seen:
                        continue  # nothing yet: look whether the tab is still open
                    async with self:
                        if self._watcher != mine:
                            return  # a newer task follows this tab
                        path = self.router.url.path
                        # The page the tab shows now: the refresh runs with its address and
                        # parameters, not those of the page this task was started from (an
                        # album's id read by its refresh would else be another page's).
                        router_data = dict(self.router_data)
                        uploading = (await self.get_state(UploadState)).uploading
                    # While this tab uploads, its library follows at a slower pace: refreshing
                    # for each of its files would only keep the page busy.
                    # A change left waiting is shown once that pace allows, or once the upload
                    # has ended (looked at once a second): `seen` stays behind until then.
                    if uploading and time.monotonic() - refreshed < UPLOADING_REFRESH_SECONDS:
                        await asyncio.sleep(1.0)
                        continue
                    refreshed = time.monotonic()
                    seen = now
                    for event in Event.from_event_type(handlers_for(str(path)),
                                                       router_data=router_data):
                        yield event
        finally:
            if _newest.get(token) == mine:
                del _newest[token]
