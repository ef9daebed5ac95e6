"""The development sign-in page: the addresses this browser signed in as before."""

from __future__ import annotations

import reflex as rx

from imgstream.config import get_settings
from imgstream.services import identity


class SignInState(rx.State):
    """What the development sign-in page offers this browser."""

    known_emails: list[str] = []
    default_email: str = ""

    @rx.event
    def load_known_emails(self) -> None:
        """Offer the addresses this browser signed in as, read from its own signed cookie.

        Other people's addresses are never listed: the page is open to anyone who reaches it.
        """
        settings = get_settings()
        cookie = identity.cookie_value(self.router.headers.raw_headers.get("cookie", ""),
                                       identity.KNOWN_EMAILS_COOKIE)
        self.known_emails = identity.verify_known_emails(secret=settings.signing_key(),
                                                         cookie=cookie)
        self.default_email = (self.known_emails[0] if self.known_emails
                              else settings.dev_user_email)
