"""/api/v1/me and /api/v1/keys: who is calling, and their API keys (managed with a sign-in)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from imgstream.api.v1.callers import AnyCaller, SignedIn
from imgstream.api.v1.problems import NO_STORE, ProblemError, problems
from imgstream.models import ApiKey, ApiScope
from imgstream.runtime import db_session, owner_session
from imgstream.services import api_keys

router = APIRouter(tags=["account"])


class Me(BaseModel):
    """The person the request acts for, and how it authenticated."""

    id: uuid.UUID
    email: str
    display_name: str
    quota_bytes: int
    used_bytes: int
    auth: str = Field(description="`key` (an API key) or `session` (the person's sign-in).")
    key_id: uuid.UUID | None = None
    scopes: list[ApiScope]


class KeyOut(BaseModel):
    """An API key (never its secret)."""

    id: uuid.UUID
    name: str
    scopes: list[ApiScope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    """A key just made: `key` is shown now and never again."""

    key: str = Field(description="`isk_<id>_<secret>`, for `Authorization: Bearer`.")


class KeyRequest(BaseModel):
    """What a new key may do."""

    name: str = Field(default="", max_length=100)
    scopes: list[ApiScope] = Field(min_length=1)
    expires_at: datetime | None = Field(default=None, description="None: never expires.")


class KeyList(BaseModel):
    """The person's keys, newest first."""

    keys: list[KeyOut]


def key_out(key: ApiKey) -> dict:
    """A key as the API shows it."""
    return KeyOut(id=key.id, name=key.name, scopes=sorted(api_keys.scopes_of(key)),
                  created_at=key.created_at, expires_at=key.expires_at,
                  last_used_at=key.last_used_at).model_dump(mode="json")


@router.get("/me", response_model=Me, summary="Who I am", responses=problems(401, 403, 429))
async def me(caller: AnyCaller) -> Me:
    """The person the request acts for, with the scopes it has."""

    def read() -> Me:
        with owner_session(caller.user_id) as (_session, owner):
            return Me(id=owner.id, email=owner.email, display_name=owner.display_name,
                      quota_bytes=owner.quota_bytes, used_bytes=owner.used_bytes,
                      auth="session" if caller.signed_in else "key", key_id=caller.key_id,
                      scopes=sorted(caller.scopes))

    return await asyncio.to_thread(read)


@router.get("/keys", response_model=KeyList, summary="My API keys",
            responses=problems(401, 403, 429))
async def list_keys(caller: SignedIn) -> dict:
    """The person's keys that are not revoked (a sign-in is needed, not a key)."""

    def read() -> list[dict]:
        with db_session() as session:
            return [key_out(key) for key in api_keys.list_keys(
                session=session, owner_id=caller.user_id)]

    return {"keys": await asyncio.to_thread(read)}


@router.post("/keys", status_code=201, response_model=KeyCreated, summary="Make an API key",
             responses=problems(400, 401, 403, 422, 429))
async def create_key(request: KeyRequest, caller: SignedIn) -> dict:
    """Make a key; its secret is in this answer only. A key cannot make a key."""

    def make() -> api_keys.NewKey:
        with owner_session(caller.user_id) as (session, owner):
            return api_keys.create_key(session=session, owner=owner, name=request.name,
                                       scopes=[scope.value for scope in request.scopes],
                                       expires_at=request.expires_at)

    try:
        made = await asyncio.to_thread(make)
    except api_keys.InvalidKeyRequest as invalid:
        raise ProblemError(400, str(invalid)) from None
    return {**key_out(made.key), "key": made.token}


@router.delete("/keys/{key_id}", status_code=204, response_class=Response,
               summary="Revoke an API key", responses=problems(401, 403, 404, 429))
async def revoke_key(key_id: uuid.UUID, caller: SignedIn) -> Response:
    """Revoke one of the person's keys; it stops working at the next request."""

    def revoke() -> bool:
        with db_session() as session:
            return api_keys.revoke_key(session=session, owner_id=caller.user_id, key_id=key_id)

    if not await asyncio.to_thread(revoke):
        raise ProblemError(404, "no such key")
    return Response(status_code=204, headers=NO_STORE)
