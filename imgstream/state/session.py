"""Who is signed in, kept in backend-only state."""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from imgstream.config import get_settings
from imgstream.runtime import db_session
from imgstream.services import identity


def _sign_in_development_user() -> tuple[str, str]:
    with db_session() as session:
        user = identity.provision_user(session=session, email=get_settings().dev_user_email)
        return str(user.id), user.email


class SessionState(rx.State):
    """The signed-in user."""

    _user_id: str = ""
    user_email: str = ""

    async def user_id(self) -> uuid.UUID:
        """The signed-in user's id, signing in the development user on first use."""
        if not self._user_id:
            self._user_id, self.user_email = await asyncio.to_thread(_sign_in_development_user)
        return uuid.UUID(self._user_id)

    @rx.event
    async def sign_in(self) -> None:
        """Make sure someone is signed in (page load)."""
        await self.user_id()
