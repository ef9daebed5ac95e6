"""The settings page: account, storage used, preferences."""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx

from imgstream.presentation import format_bytes
from imgstream.runtime import NoSuchUser, db_session, owner_session
from imgstream.services import collisions, identity, quota, trash
from imgstream.state.session import Account, SessionState, signed_in_user


def _usage(user_id: uuid.UUID) -> tuple[quota.LibraryUsage, trash.TrashUsage] | None:
    try:
        with owner_session(user_id) as (session, user):
            return (quota.library_usage(session=session, owner=user),
                    trash.trash_usage(session=session, owner_id=user_id))
    except NoSuchUser:
        return None


def _save(user_id: uuid.UUID, **preferences) -> Account:
    with db_session() as session:
        user = identity.save_preferences(session=session, user_id=user_id, **preferences)
        return Account(user.email, user.display_name, user.page_size, user.theme,
                       user.collision_choice)


def _collision_stats(user_id: uuid.UUID) -> collisions.CollisionStats:
    with db_session() as session:
        return collisions.collision_stats(session=session, owner_id=user_id)


class AccountState(rx.State):
    """Storage use, collision statistics and preferences of the signed-in user."""

    photo_count: int = 0
    used_label: str = ""
    quota_label: str = ""
    used_percent: int = 0
    collisions_detected: int = 0
    collisions_skipped: int = 0
    collisions_replaced: int = 0
    collisions_kept_both: int = 0
    decision_time_label: str = ""
    trash_count: int = 0
    trash_label: str = ""

    @rx.event
    async def load_usage(self) -> None:
        """Read the numbers for the page."""
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        found = await asyncio.to_thread(_usage, user_id)
        if found is None:
            return
        usage, in_trash = found
        self.trash_count = in_trash.photo_count
        self.trash_label = format_bytes(in_trash.bytes)
        self.photo_count = usage.photo_count
        self.used_label = format_bytes(usage.used_bytes)
        self.quota_label = format_bytes(usage.quota_bytes)
        self.used_percent = min(100, round(100 * usage.used_bytes / max(1, usage.quota_bytes)))
        stats = await asyncio.to_thread(_collision_stats, user_id)
        self.collisions_detected, self.collisions_skipped = stats.detected, stats.skipped
        self.collisions_replaced, self.collisions_kept_both = stats.replaced, stats.kept_both
        median = stats.median_decision_seconds
        self.decision_time_label = "" if median is None else f"{median:.1f} s"

    @rx.event
    async def save_page_size(self, value: str) -> None:
        """Store the photos-per-page preference."""
        session = await self.get_state(SessionState)
        session.show_account(
            await asyncio.to_thread(_save, await session.user_id(), page_size=int(value))
        )

    @rx.event
    async def save_theme(self, value: str | list[str]) -> None:
        """Store the theme preference."""
        session = await self.get_state(SessionState)
        theme = value if isinstance(value, str) else value[0]
        session.show_account(await asyncio.to_thread(_save, await session.user_id(), theme=theme))

    @rx.event
    async def save_collision_choice(self, value: str) -> None:
        """Store what happens by default to an upload whose name is taken."""
        session = await self.get_state(SessionState)
        session.show_account(
            await asyncio.to_thread(_save, await session.user_id(), collision_choice=value)
        )
