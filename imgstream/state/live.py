"""Live tabs: what another tab or device of the same person changed shows here without reload.

Each open tab runs one background task that reads the person's change counter
(services.live_changes) every POLL_SECONDS; when it moved, the task runs the refresh handlers
the current page registered with `refresh_on_change`, which reload just that page's data. The
counter is in Redis when workers share state through it, so a change handled by one worker
reaches tabs connected to another.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import reflex as rx
from reflex.event import EventHandler

from imgstream.services import live_changes
from imgstream.state.session import signed_in_user
from imgstream.state.upload import UploadState

POLL_SECONDS = 1.0
"""How often a tab's task reads the counter: changes show within about this, plus the refresh."""
UPLOADING_REFRESH_SECONDS = 2.0
"""Least time between two refreshes of a tab that is uploading itself."""
CHECK_TAKEOVER_EVERY = 10
"""Polls between checks that this task is still the tab's watcher (a newer one took over)."""

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
        polls, refreshed, was_uploading = 0, 0.0, False
        while _connected(token):
            await asyncio.sleep(POLL_SECONDS)
            polls += 1
            now = await asyncio.to_thread(live_changes.version, owner_id)
            if now == seen and polls % CHECK_TAKEOVER_EVERY:
                continue
            async with self:
                if self._watcher != mine:
                    return
                path = self.router.url.path
                uploading = (await self.get_state(UploadState)).uploading
            # While this tab uploads, its library follows at a slower pace: refreshing for each
            # of its files would only keep the page busy.
            if uploading and time.monotonic() - refreshed < UPLOADING_REFRESH_SECONDS:
                was_uploading = True
                continue
            if was_uploading and not uploading:
                # The batch has just ended here, and its end refreshed the page already.
                was_uploading, seen = False, now
                continue
            was_uploading = uploading
            if now != seen:
                refreshed = time.monotonic()
                seen = now
                for handler in handlers_for(str(path)):
                    yield handler
