"""API keys: what lets a program call the REST API as a person, with the scopes it was given.

A key reads `isk_<id>_<secret>`: the id (32 hex digits) finds its row, the secret (256 random
bits, base64url) proves it. The secret is shown once, when the key is made; only its SHA-256 is
kept. Settings, the REST API (for a signed-in person, never for a key) and `imgstream admin keys`
create keys through `create_key`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from imgstream.models import ApiKey, ApiScope, User, as_utc, utcnow
from imgstream.services import identity

PREFIX = identity.API_KEY_PREFIX
SECRET_BYTES = 32
MAX_NAME_LENGTH = 100
MAX_KEYS_PER_PERSON = 100
LAST_USED_PRECISION = timedelta(minutes=1)
"""`last_used_at` is written at most this often per key, not on every request."""
_KEY = re.compile(r"isk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


class InvalidKeyRequest(ValueError):
    """A key cannot be made as asked (unknown scope, no scope, expiry in the past...)."""


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: `token` is shown once and never again."""

    key: ApiKey
    token: str


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who a verified key speaks for, and what it may do."""

    key_id: uuid.UUID
    owner_id: uuid.UUID
    scopes: frozenset[ApiScope]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(raw: Iterable[str]) -> frozenset[ApiScope]:
    """Scopes from their names.

    Args:
        raw: Scope names, e.g. `photos:read`; blanks are ignored.

    Returns:
        The scopes.

    Raises:
        InvalidKeyRequest: For an unknown name, or when none is given.
    """
    scopes: set[ApiScope] = set()
    for name in raw:
        name = name.strip()
        if not name:
            continue
        try:
            scopes.add(ApiScope(name))
        except ValueError:
            known = ", ".join(scope.value for scope in ApiScope)
            raise InvalidKeyRequest(f"unknown scope {name!r}; the scopes are {known}") from None
    if not scopes:
        raise InvalidKeyRequest("a key needs at least one scope")
    return frozenset(scopes)


def scopes_of(key: ApiKey) -> frozenset[ApiScope]:
    """The scopes a key row carries (names no longer known are dropped)."""
    return frozenset(ApiScope(name) for name in key.scopes.split()
                     if name in ApiScope._value2member_map_)


def create_key(
    *,
    session: Session,
    owner: User,
    scopes: Iterable[str],
    name: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> NewKey:
    """Make a key for a person.

    Args:
        session: Database session.
        owner: The person the key acts for.
        scopes: Scope names (see `ApiScope`).
        name: What the person calls it ("laptop backup").
        expires_at: When it stops working; None for never.
        now: The current time (tests).

    Returns:
        The key's row and the token to show once.

    Raises:
        InvalidKeyRequest: For unknown or no scopes, a past expiry, or too many keys.
    """
    chosen = parse_scopes(scopes)
    now = now or utcnow()
    if expires_at is not None and as_utc(expires_at) <= now:
        raise InvalidKeyRequest("the expiry must be in the future")
    name = " ".join(name.split())[:MAX_NAME_LENGTH]
    live = session.exec(select(ApiKey.id).where(
        ApiKey.owner_id == owner.id, col(ApiKey.revoked_at).is_(None))).all()
    if len(live) >= MAX_KEYS_PER_PERSON:
        raise InvalidKeyRequest(f"a person may have at most {MAX_KEYS_PER_PERSON} keys; "
                                "revoke some first")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(owner_id=owner.id, name=name, secret_sha256=_digest(secret),
                 scopes=" ".join(sorted(scope.value for scope in chosen)),
                 created_at=now, expires_at=expires_at)
    session.add(key)
    session.commit()
    return NewKey(key=key, token=f"{PREFIX}{key.id.hex}_{secret}")


def create_key_for_email(
    *, session: Session, email: str, scopes: Iterable[str], name: str = "",
    expires_at: datetime | None = None, page_size: int = 60,
) -> NewKey:
    """Make a key for the person with this email, provisioning them if they are new.

    This is what `imgstream admin keys create --user EMAIL --scope ...` calls.

    Args:
        session: Database session.
        email: The person's address.
        scopes: Scope names.
        name: What the key is called.
        expires_at: When it stops working; None for never.
        page_size: Page size of a newly provisioned person.

    Returns:
        The key and its token.
    """
    owner = identity.find_user(session=session, email=email) or identity.provision_user(
        session=session, email=email, page_size=page_size)
    return create_key(session=session, owner=owner, scopes=scopes, name=name,
                      expires_at=expires_at)


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> KeyHolder | None:
    """The holder of a key, when the key is well formed, known, not revoked and not expired.

    Records when the key was last used (at most once a minute).

    Args:
        session: Database session.
        token: The whole key, `isk_<id>_<secret>`.
        now: The current time (tests).

    Returns:
        Who the key speaks for, or None.
    """
    match = _KEY.fullmatch(token.strip())
    if match is None:
        return None
    key = session.get(ApiKey, uuid.UUID(hex=match.group(1)))
    # The digest is compared in constant time even for an unknown id.
    expected = key.secret_sha256 if key is not None else "0" * 64
    if not hmac.compare_digest(_digest(match.group(2)), expected) or key is None:
        return None
    now = now or utcnow()
    if key.revoked_at is not None or (key.expires_at and as_utc(key.expires_at) <= now):
        return None
    if key.last_used_at is None or now - as_utc(key.last_used_at) >= LAST_USED_PRECISION:
        key.last_used_at = now
        session.add(key)
        session.commit()
    return KeyHolder(key_id=key.id, owner_id=key.owner_id, scopes=scopes_of(key))


def list_keys(*, session: Session, owner_id: uuid.UUID) -> list[ApiKey]:
    """A person's keys that are not revoked, newest first."""
    return list(session.exec(
        select(ApiKey).where(ApiKey.owner_id == owner_id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
    ).all())


def revoke_key(*, session: Session, owner_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Stop a person's key from working, from the next request on.

    Returns:
        Whether the person had such a key (not yet revoked).
    """
    key = session.get(ApiKey, key_id)
    if key is None or key.owner_id != owner_id or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    session.add(key)
    session.commit()
    return True
