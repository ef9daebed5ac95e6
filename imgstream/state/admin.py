"""The development admin page: what reconcile finds, and repairing it."""

from __future__ import annotations

import asyncio

import reflex as rx

from imgstream.config import SignIn, get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import reconcile
from imgstream.state.session import signed_in_user


def _reconcile(fix: bool) -> list[str]:
    with db_session() as session:
        report = reconcile.reconcile(session=session, storage=storage(), fix=fix)
    return reconcile.describe(report)


class AdminState(rx.State):
    """The last reconcile pass shown on the page."""

    findings: list[str] = []
    checked: bool = False
    fixed: bool = False
    working: bool = False

    @rx.event(background=True)
    async def run_reconcile(self, fix: bool = False):
        """Compare the database with storage; with `fix`, repair what differs."""
        async with self:
            # The page exists only with development sign-in; its handler refuses elsewhere too.
            if get_settings().sign_in is not SignIn.DEVELOPMENT or self.working:
                return
            if await signed_in_user(self) is None:
                return
            self.working = True
        try:
            findings = await asyncio.to_thread(_reconcile, fix)
        finally:
            async with self:
                self.working = False
        async with self:
            self.findings, self.checked, self.fixed = findings, True, fix
