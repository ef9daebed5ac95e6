"""Who is signed in, as resolved for this connection by the identity middleware."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream.config import SignIn, get_settings
from imgstream.runtime import NoSuchUser, owner_session
from imgstream.services import identity
from imgstream.services.identity import USER_HEADER


class NotSignedIn(Exception):  # noqa: N818
    """This connection has no signed-in user."""


@dataclasses.dataclass(frozen=True)
class Account:
    """The signed-in user as the header menu shows them."""

    email: str
    display_name: str
    page_size: int
    theme: str
    collision_choice: str


def _load_account(user_id: uuid.UUID) -> Account | None:
    try:
        with owner_session(user_id) as (_session, user):
            return Account(user.email, user.display_name, user.page_size, user.theme,
                           user.collision_choice)
    except NoSuchUser:
        return None


class SessionState(rx.State):
    """The signed-in user of this connection."""

    _user_id: str = ""
    user_email: str = ""
    user_name: str = ""
    page_size: int = 0
    theme: str = ""
    collision_choice: str = ""

    @rx.var
    def page_size_options(self) -> list[str]:
        """The page sizes offered, with the user's own when it is not one of them."""
        sizes = set(identity.PAGE_SIZES) | ({self.page_size} if self.page_size > 0 else set())
        return [str(size) for size in sorted(sizes)]

    @rx.var
    def iap_sign_in(self) -> bool:
        """Whether people sign in through IAP (else development sign-in)."""
        return get_settings().sign_in is SignIn.IAP

    async def user_id(self) -> uuid.UUID:
        """The user this connection was verified as.

        Read from the connection, never from anything the browser sends in an event.

        Raises:
            NotSignedIn: When the connection carries no user.
        """
        raw = self.router.headers.raw_headers.get(USER_HEADER, "")
        if not raw:
            raise NotSignedIn
        if raw != self._user_id:
            account = await asyncio.to_thread(_load_account, uuid.UUID(raw))
            if account is None:
                raise NotSignedIn
            self._user_id = raw
            self.show_account(account)
        return uuid.UUID(raw)

    def show_account(self, account: Account) -> None:
        """Show the user's details and apply their preferences."""
        self.user_email, self.user_name = account.email, account.display_name
        self.page_size, self.theme = account.page_size, account.theme
        self.collision_choice = account.collision_choice

    @rx.event
    async def require_sign_in(self):
        """Send people without a user to the sign-in page (page load)."""
        try:
            await self.user_id()
        except NotSignedIn:
            return rx.redirect("/signin")


async def signed_in_user(state: rx.State) -> uuid.UUID | None:
    """The user of the connection a state belongs to; None before anyone signed in."""
    try:
        return await (await state.get_state(SessionState)).user_id()
    except NotSignedIn:
        return None
