"""Who is asking: every HTTP request and socket handshake is resolved to a user here.

In the IAP profile the `x-goog-iap-jwt-assertion` header must verify, or the request is refused
(401; 503 when IAP's keys cannot be fetched). With development sign-in the user comes from a
signed cookie set by the sign-in page, and requests without one continue anonymously.

The verified user id is put in the ASGI scope and in a request header only this middleware can
set, which Reflex hands to event handlers from the socket handshake. The Reflex client token is
namespaced by the user, or marked anonymous, so a client presenting someone else's token gets a
state of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from imgstream.config import SignIn, get_settings
from imgstream.models import ApiScope
from imgstream.runtime import db_session
from imgstream.services import api_keys, identity
from imgstream.services.identity import (
    DEV_COOKIE,
    IAP_HEADER,
    KNOWN_EMAILS_COOKIE,
    USER_HEADER,
    cookie_value,
)

SCOPE_USER = "imgstream.user_id"
# /metrics checks its own bearer token: scrapers reach the container without IAP.
UNAUTHENTICATED_PATHS = frozenset({"/ping", "/_health", "/health", "/metrics"})
API_PREFIX = "/api/v1/"
MEDIA_PREFIX = "/media/"
"""Signed image URLs the REST API redirects to: a key with `photos:read` opens its owner's."""
SHARE_PREFIX = "/s/"
"""Share links: open without sign-in, with no identity at all (in production the load balancer
sends these paths to a backend without IAP)."""
API_REFUSALS = {
    401: "sign-in required: send an API key (Authorization: Bearer isk_...); behind IAP, also "
         "an OIDC token for IAP's client (Proxy-Authorization: Bearer ...)",
    503: "sign-in cannot be checked right now; try again in a minute",
}
"""What the REST API says when sign-in refuses a request, for a program's author."""
_TOKEN_HEADER = b"reflex-client-token"
KNOWN_EMAILS_MAX_AGE_SECONDS = 365 * 24 * 3600


@lru_cache(maxsize=1)
def iap_verifier() -> identity.IapVerifier:
    """The process's IAP verifier (it caches IAP's keys)."""
    settings = get_settings()
    return identity.IapVerifier(audience=settings.iap_audience or "",
                                certs_url=settings.iap_certs_url)


# Verified people seen recently: (subject, email) -> (user id, when to record a login again).
_recent_sign_ins: dict[tuple[str, str], tuple[uuid.UUID, float]] = {}
SIGN_IN_RECORD_SECONDS = 600


def _provisioned(subject: str, email: str) -> uuid.UUID:
    """The user for a verified identity, provisioned on first sight.

    Logins are recorded at most every ten minutes per person and process, not on every request.
    """
    now = time.monotonic()
    known = _recent_sign_ins.get((subject, email))
    if known and known[1] > now:
        return known[0]
    with db_session() as session:
        user_id = identity.provision_user(
            session=session, email=email, page_size=get_settings().default_page_size
        ).id
    if len(_recent_sign_ins) > 10_000:
        _recent_sign_ins.clear()
    _recent_sign_ins[(subject, email)] = (user_id, now + SIGN_IN_RECORD_SECONDS)
    return user_id


def resolve_user(headers: Headers) -> uuid.UUID | None:
    """The signed-in user a request comes from.

    Args:
        headers: The request headers.

    Returns:
        The user id, or None when development sign-in has no user yet.

    Raises:
        InvalidIdentity: IAP is required and the assertion does not verify.
        IdentityUnavailable: IAP keys cannot be fetched.
    """
    settings = get_settings()
    if settings.sign_in is SignIn.IAP:
        who = iap_verifier().verify(headers.get(IAP_HEADER, ""))
        return _provisioned(who.subject, who.email)
    cookie = cookie_value(headers.get("cookie", ""), DEV_COOKIE)
    if not cookie:
        return None
    return identity.verify_development_user(
        secret=settings.signing_key(), cookie=cookie,
        max_age_seconds=settings.dev_sign_in_max_age_seconds,
    )


def _carries_api_key(scope: dict) -> bool:
    scheme, _, value = Headers(scope=scope).get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and value.strip().startswith(identity.API_KEY_PREFIX)


def _pass_iap(headers: Headers) -> None:
    """Behind IAP, a request must carry a valid assertion even when an API key names the user.

    The assertion is IAP's word on who passed it (a person or a service account with an OIDC
    token); nobody is provisioned from it, since the key decides whom the request acts for.
    """
    if get_settings().sign_in is SignIn.IAP:
        iap_verifier().verify(headers.get(IAP_HEADER, ""))


def _media_key_owner(headers: Headers) -> uuid.UUID:
    """The owner of the API key a media request carries (the signed URL must be theirs too).

    Raises:
        InvalidIdentity: The key is not valid or may not read photos.
    """
    _pass_iap(headers)
    token = headers.get("authorization", "").partition(" ")[2].strip()
    with db_session() as session:
        holder = api_keys.authenticate(session=session, token=token)
    if holder is None or ApiScope.PHOTOS_READ not in holder.scopes:
        raise identity.InvalidIdentity("the API key may not read photos")
    return holder.owner_id


def _namespace(scope: dict, user_id: uuid.UUID | None) -> str:
    browser_key = ""
    if user_id is None and get_settings().sign_in is SignIn.DEVELOPMENT:
        raw = Headers(scope=scope).get("cookie", "")
        browser_key = cookie_value(raw, KNOWN_EMAILS_COOKIE)
    return identity.state_namespace(secret=get_settings().signing_key() if browser_key else b"",
                                    user_id=user_id, browser_key=browser_key)


def _with_identity(scope: dict, user_id: uuid.UUID | None) -> dict:
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != USER_HEADER.encode()]
    scope = {**scope, SCOPE_USER: user_id}
    if user_id is not None:
        headers.append((USER_HEADER.encode(), str(user_id).encode()))
    # Anonymous clients get a namespace too: a token of a signed-in person's closed tab
    # presented without their sign-in must not reach that person's state.
    namespace = _namespace(scope, user_id)
    headers = [
        (k, identity.namespaced_token(namespace, v.decode("latin-1")).encode("latin-1"))
        if k.lower() == _TOKEN_HEADER else (k, v)
        for k, v in headers
    ]
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if any(k == "token" for k, _ in query):
        query = [(k, identity.namespaced_token(namespace, v) if k == "token" else v)
                 for k, v in query]
        scope["query_string"] = urlencode(query).encode()
    return {**scope, "headers": headers}


async def _refuse(scope: dict, receive, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting answers the handshake with 403.
        await send({"type": "websocket.close", "code": 1008, "reason": message})
        return
    path = scope.get("path", "")
    if path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX):
        # The REST API answers every error as problem+json, also those of sign-in. Imported
        # here: the API's own modules import this one.
        from imgstream.api.v1.problems import problem_response

        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else \
            {"Retry-After": "60"} if status == 503 else {}
        await problem_response(status, API_REFUSALS.get(status, message),
                               headers=headers)(scope, receive, send)
        return
    await PlainTextResponse(message, status_code=status)(scope, receive, send)


def request_identity(app: Callable) -> Callable:
    """Wrap the whole backend (pages, socket, uploads, media) in identity resolution."""

    async def with_identity(scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == SHARE_PREFIX.rstrip("/") or path.startswith(SHARE_PREFIX):
            if scope["type"] == "websocket":
                await _refuse(scope, receive, send, 403, "Share links have no socket.")
                return
            # Whatever identity the request claims is dropped: share access and nothing else.
            anonymous = _with_identity(scope, None)
            anonymous["headers"] = [(k, v) for k, v in anonymous["headers"]
                                    if k.lower() != IAP_HEADER.encode()]
            await app(anonymous, receive, send)
            return
        if path in UNAUTHENTICATED_PATHS:
            await app(_with_identity(scope, None), receive, send)
            return
        keyed = scope["type"] == "http" and path.startswith(API_PREFIX) and _carries_api_key(scope)
        keyed_media = (scope["type"] == "http" and path.startswith(MEDIA_PREFIX)
                       and _carries_api_key(scope))
        try:
            if keyed_media:
                user_id = await asyncio.to_thread(_media_key_owner, Headers(scope=scope))
            elif keyed:
                # The REST API finds the key's owner itself; no sign-in identity rides along.
                await asyncio.to_thread(_pass_iap, Headers(scope=scope))
                user_id = None
            else:
                user_id = await asyncio.to_thread(resolve_user, Headers(scope=scope))
        except identity.InvalidIdentity:
            await _refuse(scope, receive, send, 401, "Sign-in required.")
            return
        except identity.IdentityUnavailable:
            await _refuse(scope, receive, send, 503,
                          "Sign-in cannot be checked right now; try again in a minute.")
            return
        await app(_with_identity(scope, user_id), receive, send)

    return with_identity


def foreign_request(request: Request) -> bool:
    """Whether a POST comes from a page of another site (by Origin, else Sec-Fetch-Site)."""
    # A form on another site could sign the browser in as someone else (login CSRF) or out;
    # browsers send Origin with every POST, and Sec-Fetch-Site where Origin is withheld.
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") not in (
            "same-origin", "same-site", "none")
    return origin.lower() not in get_settings().cors_origins


def _refused_origin() -> Response:
    return PlainTextResponse("Requests from another site are refused.", status_code=403)


def _back_to_app(request: Request, path: str) -> str:
    # The pages may be served from another port than the backend (development): a redirect
    # relative to the backend would land on its bare "Not Found". Without a usable Origin
    # (a browser may withhold it), the app's own frontend origin is where the pages are.
    origins = get_settings().cors_origins
    origin = request.headers.get("origin", "").lower()
    return (origin if origin in origins else origins[0]) + path


async def development_sign_in(request: Request) -> Response:
    """POST /auth/dev-sign-in: sign in as the typed email (development profile only)."""
    settings = get_settings()
    if settings.sign_in is not SignIn.DEVELOPMENT:
        return PlainTextResponse("not found", status_code=404)
    if foreign_request(request):
        return _refused_origin()
    form = await request.form()
    email = str(form.get("email", "")).strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        return RedirectResponse(_back_to_app(request, "/signin?error=email"), status_code=303)

    def provision() -> uuid.UUID:
        with db_session() as session:
            return identity.provision_user(
                session=session, email=email, page_size=settings.default_page_size
            ).id

    user_id = await asyncio.to_thread(provision)
    secret = settings.signing_key()
    known = identity.verify_known_emails(
        secret=secret, cookie=request.cookies.get(KNOWN_EMAILS_COOKIE, ""))
    response = RedirectResponse(_back_to_app(request, "/"), status_code=303)
    response.set_cookie(
        DEV_COOKIE, identity.sign_development_user(secret=secret, user_id=user_id),
        httponly=True, samesite="lax", path="/", max_age=settings.dev_sign_in_max_age_seconds,
    )
    response.set_cookie(
        KNOWN_EMAILS_COOKIE,
        identity.sign_known_emails(secret=secret, emails=identity.remember_email(known, email)),
        httponly=True, samesite="lax", path="/", max_age=KNOWN_EMAILS_MAX_AGE_SECONDS,
    )
    return response


async def development_sign_out(request: Request) -> Response:
    """POST /auth/dev-sign-out: forget the development sign-in."""
    if foreign_request(request):
        return _refused_origin()
    response = RedirectResponse(_back_to_app(request, "/signin"), status_code=303)
    response.delete_cookie(DEV_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def sign_in_routes() -> list[Route]:
    """The development sign-in form targets."""
    return [
        Route("/auth/dev-sign-in", development_sign_in, methods=["POST"]),
        Route("/auth/dev-sign-out", development_sign_out, methods=["POST"]),
    ]
