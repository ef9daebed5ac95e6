"""Share links: an album or a selection of photos shown to people without an account.

A link's token carries 192 random bits. The database keeps its SHA-256 for lookups and a copy
sealed with a key derived from the app secret (so the owner can copy the link again); a leaked
table opens no link. Passwords are kept as scrypt hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from enum import StrEnum

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from imgstream.models import Album, AlbumPhoto, Photo, SharedPhoto, ShareLink, as_utc, utcnow
from imgstream.services import albums

TOKEN_BYTES = 24
MAX_PASSWORD_LENGTH = 256
MAX_SELECTION = 5000
ACCESS_COOKIE = "imgstream_share"
ACCESS_COOKIE_SECONDS = 12 * 3600
# scrypt with n=2**15, r=8: about 32 MiB and 50-100 ms per check on one core.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


class Expiry(StrEnum):
    """How long a new link works."""

    NEVER = "never"
    DAY = "1d"
    WEEK = "7d"
    MONTH = "30d"
    DATE = "date"


_EXPIRY_DAYS = {Expiry.DAY: 1, Expiry.WEEK: 7, Expiry.MONTH: 30}


class ShareNotFound(Exception):  # noqa: N818
    """No working link has this token (unknown or revoked): answered as 404."""


class ShareExpired(Exception):  # noqa: N818
    """The link existed but its time is over: answered as 410."""


class InvalidShare(ValueError):
    """A link that cannot be made as asked (nothing to share, a date in the past...)."""


class ShareStatus(StrEnum):
    """Whether a link still works."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def hash_token(token: str) -> str:
    """The SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _seal_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"imgstream share token seal", hashlib.sha256).digest()


def seal_token(*, secret: bytes, token: str) -> str:
    """The token encrypted (AES-GCM) with a key derived from the app secret."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_seal_key(secret)).encrypt(nonce, token.encode(), b"share")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def reveal_token(*, secret: bytes, share: ShareLink) -> str | None:
    """The token of one of the owner's links, to copy the link again.

    Returns:
        The token, or None when it was sealed under another app secret (the link still works;
        only copying it again is no longer possible).
    """
    raw = base64.urlsafe_b64decode(share.token_sealed.encode())
    try:
        return AESGCM(_seal_key(secret)).decrypt(raw[:12], raw[12:], b"share").decode()
    except InvalidTag:
        return None


def hash_password(password: str) -> str:
    """A slow, salted hash of a link's password (scrypt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}$" \
           f"{b64(salt).decode()}${b64(digest).decode()}"


def check_password(*, share: ShareLink, password: str) -> bool:
    """Whether a password opens a link (always False for links without one)."""
    if not share.password_hash or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        _name, n, r, p, salt, digest = share.password_hash.split("$")
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt),
                                n=int(n), r=int(r), p=int(p), maxmem=_SCRYPT["maxmem"],
                                dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def expiry_moment(
    choice: Expiry, *, on: date | None = None, now: datetime | None = None
) -> datetime | None:
    """When a link made now with this choice stops working (None: never).

    A chosen date means the link works through the whole of that day (UTC).

    Raises:
        InvalidShare: When a date is chosen but missing or already past.
    """
    now = now or utcnow()
    if choice is Expiry.NEVER:
        return None
    if choice is Expiry.DATE:
        if on is None:
            raise InvalidShare("Choose the date the link stops working.")
        moment = datetime.combine(on + timedelta(days=1), clock_time(), UTC)
        if moment <= now:
            raise InvalidShare("That date has passed; choose a later one.")
        return moment
    return now + timedelta(days=_EXPIRY_DAYS[choice])


@dataclass(frozen=True, slots=True)
class NewShare:
    """A link just made: its row, and its token (shown in the link, never stored as is)."""

    share: ShareLink
    token: str


def create_share(
    *, session: Session, secret: bytes, owner_id: uuid.UUID, album_id: uuid.UUID | None = None,
    photo_ids: list[uuid.UUID] | None = None, expires_at: datetime | None = None,
    password: str = "", allow_download: bool = True, show_location: bool = False,
    title: str = "", now: datetime | None = None,
) -> NewShare:
    """Make a link to one of the owner's albums or to a selection of their photos.

    Args:
        session: Database session.
        secret: The app secret (seals the token).
        owner_id: The signed-in user.
        album_id: The album to share, or None to share photo_ids.
        photo_ids: The photos to share; ids that are not the owner's are ignored.
        expires_at: When the link stops working (see expiry_moment); None for never.
        password: An optional password visitors must type.
        allow_download: Whether visitors may download originals and the ZIP.
        show_location: Whether visitors see where photos were taken (and get GPS in files).
        title: What the visitor sees as heading; the album's name by default.
        now: The current time (for tests).

    Returns:
        The new link with its token.

    Raises:
        InvalidShare: When the album is not the owner's or no photo is left to share.
    """
    now = now or utcnow()
    if album_id is not None:
        album = albums.get_album(session=session, owner_id=owner_id, album_id=album_id)
        if album is None:
            raise InvalidShare("There is no such album.")
        selected: list[uuid.UUID] = []
        title = title or album.name
    else:
        wanted = list(dict.fromkeys(photo_ids or []))[:MAX_SELECTION]
        selected = list(session.exec(
            select(Photo.id).where(Photo.owner_id == owner_id, Photo.id.in_(wanted),
                                   Photo.deleted_at.is_(None))
        )) if wanted else []
        if not selected:
            raise InvalidShare("Select at least one photo to share.")
        title = title or ("1 photo" if len(selected) == 1 else f"{len(selected)} photos")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidShare(f"A password has at most {MAX_PASSWORD_LENGTH} characters.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share = ShareLink(
        owner_id=owner_id, token_hash=hash_token(token),
        token_sealed=seal_token(secret=secret, token=token), album_id=album_id,
        title=" ".join(title.split())[:200], created_at=now, expires_at=expires_at,
        password_hash=hash_password(password) if password else None,
        allow_download=allow_download, show_location=show_location,
    )
    session.add(share)
    session.flush()
    for photo_id in selected:
        session.add(SharedPhoto(share_id=share.id, photo_id=photo_id))
    session.commit()
    return NewShare(share, token)


def status_of(share: ShareLink, *, now: datetime | None = None) -> ShareStatus:
    """Whether a link works, has expired or was revoked."""
    if share.revoked_at is not None:
        return ShareStatus.REVOKED
    if share.expires_at is not None and as_utc(share.expires_at) <= (now or utcnow()):
        return ShareStatus.EXPIRED
    return ShareStatus.ACTIVE


def open_share(*, session: Session, token: str, now: datetime | None = None) -> ShareLink:
    """The working link a visitor's token names.

    Unknown and revoked tokens take the same path (one indexed lookup of the hash), so their
    answers cannot be told apart by timing.

    Raises:
        ShareNotFound: For an unknown or revoked token.
        ShareExpired: For a link whose expiry has passed.
    """
    share = session.exec(
        select(ShareLink).where(ShareLink.token_hash == hash_token(token))
    ).first()
    status = status_of(share, now=now) if share is not None else ShareStatus.REVOKED
    if status is ShareStatus.REVOKED:
        raise ShareNotFound
    if status is ShareStatus.EXPIRED:
        raise ShareExpired
    return share


def record_view(*, session: Session, share_id: uuid.UUID, now: datetime | None = None) -> None:
    """Count one visit of a link's page."""
    session.execute(
        sa.update(ShareLink).where(ShareLink.id == share_id)
        .values(view_count=ShareLink.view_count + 1, last_viewed_at=now or utcnow())
    )
    session.commit()


def _shared_query(share: ShareLink):  # noqa: ANN202
    query = select(Photo).where(Photo.owner_id == share.owner_id, Photo.deleted_at.is_(None))
    if share.album_id is not None:
        return query.join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id).where(
            AlbumPhoto.album_id == share.album_id)
    return query.join(SharedPhoto, SharedPhoto.photo_id == Photo.id).where(
        SharedPhoto.share_id == share.id)


def shared_photos(*, session: Session, share: ShareLink) -> list[Photo]:
    """The photos a link shows, by date taken, oldest first (none in the trash)."""
    return list(session.exec(_shared_query(share).order_by(Photo.taken_at, Photo.id)))


def shared_photo(
    *, session: Session, share: ShareLink, photo_id: uuid.UUID
) -> Photo | None:
    """One photo of a link; None when the link does not show it."""
    return session.exec(_shared_query(share).where(Photo.id == photo_id)).first()


def revoke_share(*, session: Session, owner_id: uuid.UUID, share_id: uuid.UUID) -> bool:
    """Stop one of the owner's links at once.

    Returns:
        Whether a working link was revoked.
    """
    revoked = session.execute(
        sa.update(ShareLink)
        .where(ShareLink.id == share_id, ShareLink.owner_id == owner_id,
               ShareLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()
    return revoked.rowcount == 1


@dataclass(frozen=True, slots=True)
class ShareSummary:
    """What the list of someone's links shows of one link."""

    share: ShareLink
    status: ShareStatus
    photo_count: int
    album_name: str | None


def list_shares(
    *, session: Session, owner_id: uuid.UUID, now: datetime | None = None
) -> list[ShareSummary]:
    """The owner's links, newest first, revoked ones included."""
    links = list(session.exec(
        select(ShareLink).where(ShareLink.owner_id == owner_id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id)
    ))
    album_ids = [link.album_id for link in links if link.album_id]
    names = dict(session.execute(
        select(Album.id, Album.name).where(Album.id.in_(album_ids))
    ).all()) if album_ids else {}
    summaries = albums.summarise(session=session, albums=list(session.exec(
        select(Album).where(Album.id.in_(album_ids))))) if album_ids else []
    album_counts = {summary.album.id: summary.photo_count for summary in summaries}
    selection_counts = dict(session.execute(
        select(SharedPhoto.share_id, sa.func.count())
        .join(Photo, Photo.id == SharedPhoto.photo_id)
        .where(SharedPhoto.share_id.in_([link.id for link in links]),
               Photo.deleted_at.is_(None))
        .group_by(SharedPhoto.share_id)
    ).all()) if links else {}
    return [
        ShareSummary(
            share=link, status=status_of(link, now=now),
            photo_count=(album_counts.get(link.album_id, 0) if link.album_id
                         else selection_counts.get(link.id, 0)),
            album_name=names.get(link.album_id) if link.album_id else None,
        )
        for link in links
    ]


def access_cookie(*, secret: bytes, share: ShareLink, now: float | None = None) -> str:
    """The cookie value a right password earns: it opens this link, with this password, only."""
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_access_mac(secret, share, issued)}"


def _access_mac(secret: bytes, share: ShareLink, issued: int) -> str:
    message = f"{share.id}\n{share.password_hash}\n{issued}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def has_access(
    *, secret: bytes, share: ShareLink, cookie: str, now: float | None = None
) -> bool:
    """Whether a visitor may see a link: no password, or a valid cookie from a right one."""
    if not share.password_hash:
        return True
    issued_raw, _, mac = cookie.partition(".")
    try:
        issued = int(issued_raw)
    except ValueError:
        return False
    current = now if now is not None else time.time()
    if not 0 <= current - issued <= ACCESS_COOKIE_SECONDS:
        return False
    return hmac.compare_digest(mac, _access_mac(secret, share, issued))


class PasswordThrottle:
    """Wrong passwords allowed per link and per client address within a sliding window.

    Kept in the process: every instance allows its own quota, which bounds a guesser to a few
    hundred tries an hour against passwords hashed with scrypt.
    """

    def __init__(self, *, per_link: int = 20, per_client: int = 10, window_seconds: int = 900):
        """Set the limits.

        Args:
            per_link: Wrong passwords a link accepts from everyone within the window.
            per_client: Wrong passwords one address may send within the window, all links.
            window_seconds: Length of the sliding window.
        """
        self._limits = {"link": per_link, "client": per_client}
        self._window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def retry_after(self, *, link: str, client: str, now: float | None = None) -> int:
        """Seconds until a password may be tried again for this link from this client; 0: now."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in (("link", link), ("client", client)):
                failures = self._recent(key, now)
                if len(failures) >= self._limits[key[0]]:
                    wait = max(wait, failures[0] + self._window - now)
        return int(wait) + 1 if wait else 0

    def failed(self, *, link: str, client: str, now: float | None = None) -> None:
        """Record a wrong password."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for key in (("link", link), ("client", client)):
                self._recent(key, now).append(now)
