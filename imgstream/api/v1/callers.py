"""Who calls the REST API, and what they may do.

A request carries either an API key (`Authorization: Bearer isk_...`), which gets exactly its
scopes, or the person's sign-in (the cookie in development, IAP's assertion in production),
which gets every scope. Requests on a sign-in that change something are refused when they come
from another site's page (Origin); a key is never sent by a browser on its own, so key requests
need no Origin.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from imgstream.api import logs
from imgstream.api.identity import SCOPE_USER
from imgstream.api.v1 import rate_limits
from imgstream.api.v1.problems import ProblemError
from imgstream.config import get_settings
from imgstream.models import ApiScope
from imgstream.runtime import db_session
from imgstream.services import api_keys

ALL_SCOPES = frozenset(ApiScope)
_CALLER = "imgstream.api_caller"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: the person, the key they used (None for their sign-in), its scopes."""

    user_id: uuid.UUID
    key_id: uuid.UUID | None
    scopes: frozenset[ApiScope]

    @property
    def signed_in(self) -> bool:
        """Whether the request came with the person's sign-in rather than a key."""
        return self.key_id is None


def bearer_key(request: Request) -> str | None:
    """The API key of the Authorization header, if it carries one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value.startswith(api_keys.PREFIX):
        return value
    return None


def _check_origin(request: Request) -> None:
    # A page on another site could send a "simple" request (no preflight) with the person's
    # cookies; changes are accepted only from the app's own origin.
    origin = request.headers.get("origin")
    allowed = get_settings().cors_origins
    if request.method not in _SAFE_METHODS and origin and "*" not in allowed \
            and origin.lower() not in allowed:
        raise ProblemError(403, "requests from another site are refused")


async def _resolve(request: Request) -> Caller:
    token = bearer_key(request)
    if token is not None:
        def verify() -> api_keys.KeyHolder | None:
            with db_session() as session:
                return api_keys.authenticate(session=session, token=token)

        holder = await asyncio.to_thread(verify)
        if holder is None:
            raise ProblemError(401, "the API key is not valid (unknown, revoked or expired)",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        context = logs.current_request()
        if context is not None:
            context.user = logs.hashed_user(holder.owner_id)
        return Caller(user_id=holder.owner_id, key_id=holder.key_id, scopes=holder.scopes)
    _check_origin(request)
    user_id = request.scope.get(SCOPE_USER)
    if not isinstance(user_id, uuid.UUID):
        raise ProblemError(401, "sign-in required", headers={"WWW-Authenticate": "Bearer"})
    return Caller(user_id=user_id, key_id=None, scopes=ALL_SCOPES)


async def current_caller(request: Request) -> Caller:
    """The request's caller, verified and counted against the rate limits once per request.

    Raises:
        ProblemError: 401 without a valid key or sign-in, 403 from another site, 429 over a
            rate limit.
    """
    caller = request.scope.get(_CALLER)
    if caller is None:
        caller = await _resolve(request)
        request.scope[_CALLER] = caller
        await rate_limits.count_request(user_id=caller.user_id, key_id=caller.key_id)
    return caller


def needs(scope: ApiScope | None) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency giving the caller, refused (403 naming it) when their key lacks `scope`."""

    async def dependency(request: Request) -> Caller:
        caller = await current_caller(request)
        if scope is not None and scope not in caller.scopes:
            raise ProblemError(403, f"this API key lacks the {scope.value} scope",
                               scope=scope.value)
        return caller

    dependency.__name__ = f"needs_{scope.value.replace(':', '_') if scope else 'caller'}"
    return dependency


async def signed_in_person(request: Request) -> Caller:
    """The caller, who must use their sign-in: a key cannot manage keys.

    Raises:
        ProblemError: 403 for a request made with a key.
    """
    caller = await current_caller(request)
    if not caller.signed_in:
        raise ProblemError(403, "API keys cannot create or manage API keys; sign in instead")
    return caller


AnyCaller = Annotated[Caller, Depends(current_caller)]
"""A handler parameter: the verified caller, whatever their scopes."""
SignedIn = Annotated[Caller, Depends(signed_in_person)]
"""A handler parameter: the verified caller, who used their sign-in (not a key)."""
Reader = Annotated[Caller, Depends(needs(ApiScope.PHOTOS_READ))]
Writer = Annotated[Caller, Depends(needs(ApiScope.PHOTOS_WRITE))]
Uploader = Annotated[Caller, Depends(needs(ApiScope.UPLOAD))]
Organiser = Annotated[Caller, Depends(needs(ApiScope.ALBUMS))]
Sharer = Annotated[Caller, Depends(needs(ApiScope.SHARES))]
