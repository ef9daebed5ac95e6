"""Database helpers shared by the suites."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session


def sessions_like(session: Session) -> Callable[[], Session]:
    """Opens new sessions on the engine of `session`, configured as the app's are."""
    return lambda: Session(session.get_bind(), expire_on_commit=False)
