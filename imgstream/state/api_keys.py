"""API keys in settings: make one (its key shown once), list them, revoke."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta

import reflex as rx

from imgstream.models import ApiKey, ApiScope, as_utc, utcnow
from imgstream.runtime import db_session, owner_session
from imgstream.services import api_keys
from imgstream.state.session import signed_in_user

EXPIRY_CHOICES = {"never": "Never expires", "30": "30 days", "90": "90 days", "365": "1 year"}
SCOPE_LABELS = {
    ApiScope.PHOTOS_READ.value: "Read photos",
    ApiScope.PHOTOS_WRITE.value: "Change and delete photos",
    ApiScope.UPLOAD.value: "Upload",
    ApiScope.ALBUMS.value: "Albums",
    ApiScope.SHARES.value: "Share links",
}


@dataclasses.dataclass(frozen=True)
class KeyRow:
    """One key as settings lists it."""

    id: str
    name: str
    scopes_label: str
    created_label: str
    expires_label: str
    used_label: str


def _when(moment: datetime | None) -> str:
    return as_utc(moment).strftime("%-d %b %Y, %H:%M UTC") if moment else ""


def _row(key: ApiKey) -> KeyRow:
    expires = key.expires_at
    return KeyRow(
        id=str(key.id), name=key.name or "Unnamed key",
        scopes_label=", ".join(sorted(scope.value for scope in api_keys.scopes_of(key))),
        created_label=_when(key.created_at),
        expires_label="never expires" if expires is None else (
            ("expired " if as_utc(expires) <= utcnow() else "expires ") + _when(expires)),
        used_label=("last used " + _when(key.last_used_at)) if key.last_used_at
        else "never used",
    )


def _rows(owner_id: uuid.UUID) -> list[KeyRow]:
    with db_session() as session:
        return [_row(key) for key in api_keys.list_keys(session=session, owner_id=owner_id)]


def _create(owner_id: uuid.UUID, name: str, scopes: list[str], days: int | None) -> str:
    with owner_session(owner_id) as (session, owner):
        expires = utcnow() + timedelta(days=days) if days else None
        return api_keys.create_key(session=session, owner=owner, scopes=scopes, name=name,
                                   expires_at=expires).token


def _revoke(owner_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    with db_session() as session:
        return api_keys.revoke_key(session=session, owner_id=owner_id, key_id=key_id)


class ApiKeysState(rx.State):
    """The API keys section of settings."""

    keys: list[KeyRow] = []
    name: str = ""
    scopes: list[str] = [ApiScope.PHOTOS_READ.value]
    expiry: str = "never"
    new_key: str = ""
    """The key just made, shown once; cleared when dismissed or the page is left."""
    error: str = ""

    @rx.event
    async def load_keys(self) -> None:
        """Read the person's keys; a key shown before is not shown again."""
        self.new_key = ""
        user_id = await signed_in_user(self)
        self.keys = [] if user_id is None else await asyncio.to_thread(_rows, user_id)

    @rx.event
    def set_name(self, value: str) -> None:
        """Name the next key."""
        self.name = value[: api_keys.MAX_NAME_LENGTH]

    @rx.event
    def set_scope(self, scope: str, chosen: bool) -> None:
        """Choose whether the next key has a scope."""
        rest = [s for s in self.scopes if s != scope]
        self.scopes = [*rest, scope] if chosen and scope in SCOPE_LABELS else rest

    @rx.event
    def set_expiry(self, value: str) -> None:
        """Choose when the next key expires."""
        self.expiry = value if value in EXPIRY_CHOICES else "never"

    @rx.event
    async def create_key(self) -> None:
        """Make a key with the chosen name, scopes and expiry, and show it once."""
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        days = None if self.expiry == "never" else int(self.expiry)
        try:
            self.new_key = await asyncio.to_thread(_create, user_id, self.name,
                                                   list(self.scopes), days)
        except api_keys.InvalidKeyRequest as invalid:
            self.error = str(invalid).capitalize()
            return
        self.error, self.name = "", ""
        self.keys = await asyncio.to_thread(_rows, user_id)

    @rx.event
    def dismiss_key(self) -> None:
        """Forget the key shown once."""
        self.new_key = ""

    @rx.event
    async def revoke(self, key_id: str) -> None:
        """Revoke one of the person's keys."""
        user_id = await signed_in_user(self)
        try:
            wanted = uuid.UUID(key_id)
        except ValueError:
            return
        if user_id is None:
            return
        await asyncio.to_thread(_revoke, user_id, wanted)
        self.keys = await asyncio.to_thread(_rows, user_id)
