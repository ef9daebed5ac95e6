"""Rate limits of the REST API, per API key and per person, with the `limits` library.

Requests are counted in a moving window per key and per person; chunk bytes per person in a
sliding window counter (a moving window keeps one entry per unit, which bytes would swamp).
With `REFLEX_REDIS_URL` set the counts live in Redis, so every worker and instance shares them;
otherwise in the process's memory. A refusal answers 429 with `Retry-After`. While Redis is
unreachable (restarting), requests are let through uncounted and the log says so once: an outage of
the counter must not turn every upload into an error.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, RateLimitItemPerHour, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from imgstream.api.v1.problems import ProblemError
from imgstream.config import get_settings

log = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_warned = False


async def _hit(limiter, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:  # noqa: ANN001
    """Count a hit; True (let through) when the counter's store cannot be reached."""
    global _warned  # noqa: PLW0603 - one warning per outage, not one per request
    try:
        allowed = await limiter.hit(item, *identifiers, cost=cost)
    except _UNREACHABLE as exc:
        if not _warned:
            log.warning("Rate limits are not counted: their Redis is unreachable (%s)", exc)
            _warned = True
        return True
    _warned = False
    return allowed


@dataclass(frozen=True, slots=True)
class Limits:
    """The process's limiters and the limits they apply."""

    requests: MovingWindowRateLimiter
    bytes: SlidingWindowCounterRateLimiter
    per_key: RateLimitItem
    per_person: RateLimitItem
    upload_bytes: RateLimitItem


def _storage(redis_url: str | None) -> Storage:
    if redis_url:
        scheme, _, rest = redis_url.partition("://")
        return storage_from_string(f"async+{scheme}://{rest}", implementation="redispy",
                                   key_prefix="imgstream-limits")
    return storage_from_string("async+memory://")


def limits() -> Limits:
    """The limiters for the current settings (built once per distinct settings)."""
    settings = get_settings()
    return _limits(settings.redis_url, settings.api_rate_per_key, settings.api_rate_per_person,
                   settings.api_upload_bytes_per_hour)


@lru_cache(maxsize=4)
def _limits(redis_url: str | None, per_key: str, per_person: str, upload_bytes: int) -> Limits:
    storage = _storage(redis_url)
    return Limits(
        requests=MovingWindowRateLimiter(storage),
        bytes=SlidingWindowCounterRateLimiter(storage),
        per_key=parse(per_key),
        per_person=parse(per_person),
        upload_bytes=RateLimitItemPerHour(upload_bytes),
    )


async def _retry_after(limiter, item: RateLimitItem, *identifiers: str) -> str:  # noqa: ANN001
    stats = await limiter.get_window_stats(item, *identifiers)
    return str(max(1, math.ceil(stats.reset_time - time.time())))


async def count_request(*, user_id: uuid.UUID, key_id: uuid.UUID | None) -> None:
    """Count one request of a person (and of their key).

    Raises:
        ProblemError: 429 with Retry-After when a limit is reached.
    """
    current = limits()
    checks = [(current.per_person, "person", str(user_id))]
    if key_id is not None:
        checks.insert(0, (current.per_key, "key", str(key_id)))
    for item, kind, who in checks:
        if not await _hit(current.requests, item, kind, who):
            retry = await _retry_after(current.requests, item, kind, who)
            raise ProblemError(429, f"too many requests for this {kind} ({item}); "
                               f"try again in {retry} s", headers={"Retry-After": retry})


async def count_upload_bytes(*, user_id: uuid.UUID, size: int) -> None:
    """Count bytes a person sends in chunks.

    Raises:
        ProblemError: 429 with Retry-After when the hour's bytes are used up.
    """
    current = limits()
    if size <= 0:
        return
    if not await _hit(current.bytes, current.upload_bytes, "bytes", str(user_id), cost=size):
        retry = await _retry_after(current.bytes, current.upload_bytes, "bytes", str(user_id))
        raise ProblemError(429, "too many bytes uploaded in the last hour; "
                           f"try again in {retry} s", headers={"Retry-After": retry})
