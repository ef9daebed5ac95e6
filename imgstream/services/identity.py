"""Who is signed in: IAP JWT verification, development sign-in, user provisioning."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from google.auth import exceptions as google_auth_errors
from google.auth import transport
from google.oauth2 import id_token
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from imgstream.models import CollisionChoice, User, utcnow

IAP_ISSUER = "https://cloud.google.com/iap"
CLOCK_SKEW_SECONDS = 30

USER_HEADER = "x-imgstream-user"
"""The request header carrying the verified user id; only the identity middleware sets it."""
IAP_HEADER = "x-goog-iap-jwt-assertion"
DEV_COOKIE = "imgstream_dev_user"
KNOWN_EMAILS_COOKIE = "imgstream_dev_known"
ANONYMOUS_NAMESPACE = "anon"
API_KEY_PREFIX = "isk_"
"""How an API key begins (see services.api_keys)."""
MAX_KNOWN_EMAILS = 10


class InvalidIdentity(Exception):  # noqa: N818
    """The request does not prove who it comes from (answer 401)."""


class IdentityUnavailable(Exception):  # noqa: N818
    """Identity cannot be checked right now, e.g. IAP keys cannot be fetched (answer 503)."""


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """A person as the identity provider vouches for them."""

    subject: str
    email: str


class _CachedCertsRequest(transport.Request):
    """A google-auth transport that answers the certs request from memory."""

    def __init__(self, body: bytes):
        self._body = body

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        response = _Response(self._body)
        return response


class _Response(transport.Response):
    def __init__(self, body: bytes):
        self._body = body

    @property
    def status(self) -> int:
        return 200

    @property
    def headers(self) -> dict:
        return {}

    @property
    def data(self) -> bytes:
        return self._body


def fetch_url(url: str) -> bytes:
    """GET a URL with google-auth's requests transport.

    Raises:
        IdentityUnavailable: When it cannot be fetched.
    """
    from google.auth.transport.requests import Request

    try:
        response = Request()(url, method="GET", timeout=10)
    except google_auth_errors.TransportError as exc:
        raise IdentityUnavailable(f"cannot fetch IAP keys: {exc}") from exc
    if response.status != 200:
        raise IdentityUnavailable(f"cannot fetch IAP keys: HTTP {response.status}")
    return response.data


class IapVerifier:
    """Verifies `x-goog-iap-jwt-assertion` headers.

    Keys are fetched once and kept; an unknown key id triggers a refetch, at most once per
    `refetch_interval` seconds, so a flood of forged key ids cannot hammer the key endpoint.
    """

    def __init__(
        self,
        *,
        audience: str,
        certs_url: str,
        fetch: Callable[[str], bytes] = fetch_url,
        refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Set up a verifier.

        Args:
            audience: Expected `aud`; several may be given separated by commas.
            certs_url: Where IAP publishes its public keys ({kid: PEM}).
            fetch: Fetches the certs URL (injected in tests).
            refetch_interval: Least seconds between two key fetches.
            clock: Monotonic clock (injected in tests).
        """
        self.audiences = [a.strip() for a in audience.split(",") if a.strip()]
        self.certs_url = certs_url
        self._fetch = fetch
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._certs_body: bytes | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    def _certs_with(self, kid: str) -> bytes:
        with self._lock:
            stale = self._fetched_at is None or (
                kid not in self._kids
                and self._clock() - self._fetched_at >= self._refetch_interval
            )
            if stale:
                try:
                    body = self._fetch(self.certs_url)
                    kids = frozenset(json.loads(body))
                except IdentityUnavailable:
                    if self._certs_body is None:
                        raise
                    kids, body = self._kids, self._certs_body
                except (ValueError, TypeError) as exc:
                    raise IdentityUnavailable("IAP keys are not readable") from exc
                self._certs_body, self._kids = body, kids
                self._fetched_at = self._clock()
            if kid not in self._kids:
                raise InvalidIdentity("the token is signed with an unknown key")
            return self._certs_body

    def verify(self, assertion: str) -> VerifiedIdentity:
        """Check an IAP assertion and say who it names.

        Args:
            assertion: The header value.

        Returns:
            The verified identity.

        Raises:
            InvalidIdentity: The assertion is missing, malformed, forged, expired or not for us.
            IdentityUnavailable: The keys cannot be fetched.
        """
        if not assertion:
            raise InvalidIdentity("no IAP assertion")
        header = _unverified_header(assertion)
        if header.get("alg") != "ES256":
            raise InvalidIdentity("IAP assertions are signed with ES256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidIdentity("the token names no key")
        certs = self._certs_with(kid)
        try:
            claims = id_token.verify_token(
                assertion,
                _CachedCertsRequest(certs),
                audience=self.audiences,
                certs_url=self.certs_url,
                clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
            )
        except (ValueError, google_auth_errors.GoogleAuthError) as exc:
            raise InvalidIdentity(str(exc)) from exc
        if claims.get("iss") != IAP_ISSUER:
            raise InvalidIdentity("the token was not issued by IAP")
        if "exp" not in claims or "iat" not in claims:
            raise InvalidIdentity("the token has no lifetime")
        subject, email = claims.get("sub"), claims.get("email")
        if not isinstance(subject, str) or not subject or not isinstance(email, str) or not email:
            raise InvalidIdentity("the token names no user")
        return VerifiedIdentity(subject=subject, email=_iap_email(email))


def _unverified_header(token: str) -> dict:
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidIdentity("the token is malformed") from exc
    if not isinstance(header, dict):
        raise InvalidIdentity("the token is malformed")
    return header


def _iap_email(email: str) -> str:
    # IAP's email claim may carry the identity source, as in "accounts.google.com:ada@x.com".
    return email.rsplit(":", 1)[-1].strip().lower()


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sign_development_user(*, secret: bytes, user_id: uuid.UUID, issued_at: int | None = None
                          ) -> str:
    """The development sign-in cookie value for a user: their id and the issue time, signed.

    Args:
        secret: The app's signing key.
        user_id: Who signed in.
        issued_at: When, in Unix seconds (now by default).

    Returns:
        `{user id}.{issued at}.{HMAC}`.
    """
    issued = int(time.time()) if issued_at is None else issued_at
    value = f"{user_id}.{issued}"
    return f"{value}.{_mac(secret, 'dev-sign-in', value)}"


def verify_development_user(*, secret: bytes, cookie: str, max_age_seconds: int,
                            now: float | None = None) -> uuid.UUID | None:
    """The user id in a development sign-in cookie, if its signature holds and it is fresh.

    Only the canonical spelling of the id (lowercase, hyphenated) and of the time is accepted,
    so one sign-in has exactly one cookie value.

    Args:
        secret: The app's signing key.
        cookie: The cookie value.
        max_age_seconds: How long after its issue a sign-in holds.
        now: The current Unix time (now by default).

    Returns:
        The user id, or None for a forged, altered, expired or future cookie.
    """
    raw_id, _, rest = cookie.partition(".")
    raw_issued, _, mac = rest.partition(".")
    try:
        user_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    if str(user_id) != raw_id or not raw_issued.isascii() or not raw_issued.isdigit():
        return None
    issued = int(raw_issued)
    if str(issued) != raw_issued:
        return None
    expected = _mac(secret, "dev-sign-in", f"{raw_id}.{raw_issued}")
    if not hmac.compare_digest(mac, expected):
        return None
    age = (time.time() if now is None else now) - issued
    if age > max_age_seconds or age < -CLOCK_SKEW_SECONDS:
        return None
    return user_id


def sign_known_emails(*, secret: bytes, emails: list[str]) -> str:
    """A cookie value listing the addresses a browser signed in as, most recent first, signed.

    Args:
        secret: The app's signing key.
        emails: The addresses; only the first MAX_KNOWN_EMAILS are kept.

    Returns:
        The cookie value (base64url JSON and its HMAC).
    """
    payload = base64.urlsafe_b64encode(
        json.dumps(emails[:MAX_KNOWN_EMAILS], separators=(",", ":")).encode()
    ).decode().rstrip("=")
    return f"{payload}.{_mac(secret, 'dev-known-emails', payload)}"


def verify_known_emails(*, secret: bytes, cookie: str) -> list[str]:
    """The addresses in a known-emails cookie; none when it is missing, altered or unreadable."""
    payload, _, mac = cookie.partition(".")
    if not payload or not hmac.compare_digest(mac, _mac(secret, "dev-known-emails", payload)):
        return []
    try:
        emails = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return []
    if not isinstance(emails, list):
        return []
    return [email for email in emails if isinstance(email, str)][:MAX_KNOWN_EMAILS]


def cookie_value(cookie_header: str, name: str) -> str:
    """One cookie's value from a Cookie request header ("" when absent)."""
    for part in cookie_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def remember_email(emails: list[str], email: str) -> list[str]:
    """The known addresses with `email` moved to the front."""
    return [email, *(known for known in emails if known != email)][:MAX_KNOWN_EMAILS]


def state_namespace(*, secret: bytes, user_id: uuid.UUID | None, browser_key: str = "") -> str:
    """The namespace of Reflex client tokens for this user, or for an anonymous browser.

    A signed-in user's tokens live under their id; anonymous ones under `anon`, or under a
    digest of a browser-only secret (its signed known-emails cookie) when it has one, so one
    browser's sign-in page state is not another's.

    Args:
        secret: The app's signing key.
        user_id: The verified user, or None.
        browser_key: A value only this browser holds (empty when none).

    Returns:
        The namespace (no hyphen inside, so it cannot be mistaken for a longer one).
    """
    if user_id is not None:
        return user_id.hex
    if not browser_key:
        return ANONYMOUS_NAMESPACE
    return ANONYMOUS_NAMESPACE + _mac(secret, "anonymous-browser", browser_key)[:32]


def namespaced_token(namespace: str, token: str) -> str:
    """A Reflex client token that only requests of this namespace map to.

    A token already carrying this namespace stays as it is; any other token, including one
    carrying another identity's namespace, is put under this one, so it names a state of its own.
    """
    prefix = f"{namespace}-"
    return token if token.startswith(prefix) else prefix + token


def provision_user(
    *, session: Session, email: str, display_name: str = "", page_size: int | None = None
) -> User:
    """Find the user with this email, creating them on first sign-in; records the login.

    Args:
        session: Database session.
        email: The verified email address.
        display_name: Name to show, if known.
        page_size: Photos per timeline page for a new user (the model default otherwise).

    Returns:
        The user.
    """
    email = email.strip().lower()
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, display_name=display_name or email.split("@", 1)[0])
        if page_size:
            user.page_size = page_size
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            # Two first requests raced; the other one created the user.
            session.rollback()
            user = session.exec(select(User).where(User.email == email)).one()
    user.last_login_at = utcnow()
    session.commit()
    session.refresh(user)
    return user


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    """The user with this id, if any."""
    return session.get(User, user_id)


def find_user(*, session: Session, email: str) -> User | None:
    """The user with this email (any case), if they have signed in before."""
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


PAGE_SIZES = (30, 60, 120, 240)
THEMES = ("system", "light", "dark")


def save_preferences(
    *, session: Session, user_id: uuid.UUID, page_size: int | None = None,
    theme: str | None = None, collision_choice: str | None = None,
) -> User:
    """Store a user's preferences.

    Args:
        session: Database session.
        user_id: Whose preferences.
        page_size: Photos per timeline page, one of PAGE_SIZES.
        theme: One of THEMES.
        collision_choice: What to do with an upload whose name is taken (a CollisionChoice).

    Returns:
        The updated user.

    Raises:
        ValueError: For a value that is not offered.
        LookupError: When the user does not exist.
    """
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
    if page_size is not None:
        if page_size not in PAGE_SIZES:
            raise ValueError(f"page size must be one of {PAGE_SIZES}")
        user.page_size = page_size
    if theme is not None:
        if theme not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}")
        user.theme = theme
    if collision_choice is not None:
        if collision_choice not in {c.value for c in CollisionChoice}:
            raise ValueError(f"unknown collision choice {collision_choice!r}")
        user.collision_choice = collision_choice
    session.commit()
    session.refresh(user)
    return user
