"""Share links: the dialog that makes one, and the list of the user's links in settings."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import date, datetime

import reflex as rx

from imgstream.config import get_settings
from imgstream.models import as_utc, utcnow
from imgstream.runtime import db_session
from imgstream.services import shares, timeline
from imgstream.state.albums import AlbumState, SelectionState
from imgstream.state.session import SessionState, signed_in_user

EXPIRY_LABELS = {
    shares.Expiry.NEVER: "Never",
    shares.Expiry.DAY: "After 1 day",
    shares.Expiry.WEEK: "After 7 days",
    shares.Expiry.MONTH: "After 30 days",
    shares.Expiry.DATE: "On a date",
}


@dataclasses.dataclass(frozen=True)
class ShareRow:
    """One of the user's links as the sharing list shows it."""

    id: str
    title: str
    what: str
    path: str
    created_label: str
    expires_label: str
    views_label: str
    status: str
    protected: bool


def _when(moment: datetime | None, *, empty: str) -> str:
    return as_utc(moment).strftime("%-d %b %Y, %H:%M UTC") if moment else empty


def _row(summary: shares.ShareSummary, secret: bytes) -> ShareRow:
    share = summary.share
    count = "1 photo" if summary.photo_count == 1 else f"{summary.photo_count} photos"
    what = f"Album {summary.album_name} ({count})" if summary.album_name else f"{count} selected"
    if share.expires_at is None:
        expires = "never expires"
    elif as_utc(share.expires_at) <= utcnow():
        expires = "expired " + _when(share.expires_at, empty="")
    else:
        expires = "expires " + _when(share.expires_at, empty="")
    token = None if summary.status is shares.ShareStatus.REVOKED else shares.reveal_token(
        secret=secret, share=share)
    views = share.view_count
    seen = (" · last viewed " + _when(share.last_viewed_at, empty="")
            if share.last_viewed_at else " · never viewed")
    return ShareRow(
        id=str(share.id), title=share.title, what=what,
        path=f"/s/{token}" if token else "",
        created_label=_when(share.created_at, empty=""),
        expires_label=expires,
        views_label=("1 view" if views == 1 else f"{views} views") + seen,
        status=summary.status.value, protected=bool(share.password_hash),
    )


def load_rows(owner_id: uuid.UUID) -> list[ShareRow]:
    """The owner's links, newest first."""
    secret = get_settings().signing_key()
    with db_session() as session:
        return [_row(s, secret) for s in shares.list_shares(session=session, owner_id=owner_id)]


class SharingState(rx.State):
    """The "share" dialog and the list of links."""

    dialog_open: bool = False
    target_label: str = ""
    expiry: str = shares.Expiry.WEEK.value
    expiry_date: str = ""
    password: str = ""
    allow_download: bool = True
    show_location: bool = False
    error: str = ""
    created_path: str = ""
    links: list[ShareRow] = []
    links_loaded: bool = False
    _album_id: str = ""
    _photo_ids: list[str] = []

    @rx.var
    def expiry_options(self) -> dict[str, str]:
        """Expiry choices by value."""
        return {choice.value: label for choice, label in EXPIRY_LABELS.items()}

    @rx.var
    def today(self) -> str:
        """The first date a link may expire on (ISO)."""
        return utcnow().date().isoformat()

    def _reset_form(self, label: str) -> None:
        self.target_label, self.error, self.created_path = label, "", ""
        self.expiry, self.expiry_date, self.password = shares.Expiry.WEEK.value, "", ""
        self.allow_download, self.show_location = True, False
        self.dialog_open = True

    @rx.event
    async def open_for_album(self) -> None:
        """Open the dialog to share the album on screen."""
        album = (await self.get_state(AlbumState)).album
        if album is None:
            return
        self._album_id, self._photo_ids = album.id, []
        self._reset_form(f"the album {album.name}")

    @rx.event
    async def open_for_selection(self) -> None:
        """Open the dialog to share the selected photos."""
        selected = list((await self.get_state(SelectionState)).selected)
        if not selected:
            return
        self._album_id, self._photo_ids = "", selected
        self._reset_form("1 photo" if len(selected) == 1 else f"{len(selected)} photos")

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        """Open or close the dialog."""
        self.dialog_open = value

    @rx.event
    def set_expiry(self, value: str) -> None:
        """Choose when the link stops working."""
        self.expiry = value

    @rx.event
    def set_expiry_date(self, value: str) -> None:
        """Choose the date the link stops working."""
        self.expiry_date = value

    @rx.event
    def set_password(self, value: str) -> None:
        """Keep the typed password."""
        self.password = value

    @rx.event
    def set_allow_download(self, value: bool) -> None:
        """Let visitors download or not."""
        self.allow_download = value

    @rx.event
    def set_show_location(self, value: bool) -> None:
        """Show visitors where photos were taken, or not."""
        self.show_location = value

    @rx.event
    async def create_link(self):
        """Make the link with the chosen options and show it."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        try:
            choice = shares.Expiry(self.expiry)
            on = date.fromisoformat(self.expiry_date) if (
                choice is shares.Expiry.DATE and self.expiry_date) else None
            expires_at = shares.expiry_moment(choice, on=on)
        except ValueError as exc:
            self.error = str(exc) if isinstance(exc, shares.InvalidShare) else "Choose a date."
            return None
        album_id = timeline.parse_photo_id(self._album_id) if self._album_id else None
        photo_ids = [i for i in map(timeline.parse_photo_id, self._photo_ids) if i]
        options = {"expires_at": expires_at, "password": self.password,
                   "allow_download": self.allow_download, "show_location": self.show_location}

        def create() -> str:
            with db_session() as session:
                new = shares.create_share(
                    session=session, secret=get_settings().signing_key(), owner_id=owner_id,
                    album_id=album_id, photo_ids=photo_ids, **options)
            return f"/s/{new.token}"

        try:
            self.created_path = await asyncio.to_thread(create)
        except shares.InvalidShare as exc:
            self.error = str(exc)
            return None
        self.error, self.password = "", ""
        (await self.get_state(SelectionState)).clear_selection()
        return SharingState.load_links

    @rx.event
    async def load_links(self) -> None:
        """Read the user's links (settings page)."""
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        self.links = await asyncio.to_thread(load_rows, owner_id)
        self.links_loaded = True

    @rx.event
    async def revoke(self, share_id: str):
        """Stop one of the user's links at once."""
        owner_id = await (await self.get_state(SessionState)).user_id()
        parsed = timeline.parse_photo_id(share_id)
        if parsed is None:
            return None

        def revoke() -> bool:
            with db_session() as session:
                return shares.revoke_share(session=session, owner_id=owner_id,
                                           share_id=parsed)

        revoked = await asyncio.to_thread(revoke)
        self.links = await asyncio.to_thread(load_rows, owner_id)
        return rx.toast.success("The link no longer works.") if revoked else None
