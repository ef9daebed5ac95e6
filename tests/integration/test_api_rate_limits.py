"""REST API rate limits counted in Redis: every worker (here: limiters built afresh, as in
another process) shares one count, per key and per person, and bytes too."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from imgstream import config
from imgstream.api.v1 import rate_limits
from imgstream.api.v1.problems import ProblemError
from tests import aio
from tests.integration.conftest import missing

REDIS_URL = os.environ.get("IMGSTREAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


@pytest.fixture
def redis_limits(monkeypatch):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc}")
    monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_KEY", "3/minute")
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_PERSON", "5/minute")
    monkeypatch.setenv("IMGSTREAM_API_UPLOAD_BYTES_PER_HOUR", "1000")
    config.get_settings.cache_clear()
    rate_limits._limits.cache_clear()
    yield
    rate_limits._limits.cache_clear()
    config.get_settings.cache_clear()


def in_another_worker(work):
    """Run a count with limiters built afresh, as a second server process has them."""
    rate_limits._limits.cache_clear()

    async def run():
        return await work()

    return aio.run(run())


def test_workers_share_the_counts_in_redis(redis_limits):
    person, key, other_key = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for _ in range(3):
        in_another_worker(lambda: rate_limits.count_request(user_id=person, key_id=key))
    with pytest.raises(ProblemError) as refused:
        in_another_worker(lambda: rate_limits.count_request(user_id=person, key_id=key))
    assert refused.value.status == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    # The person's other key has its own count, until the person's own limit is reached
    # (the refused request did not count).
    for _ in range(2):
        in_another_worker(lambda: rate_limits.count_request(user_id=person, key_id=other_key))
    with pytest.raises(ProblemError, match="for this person"):
        in_another_worker(lambda: rate_limits.count_request(user_id=person, key_id=other_key))


def test_upload_bytes_are_counted_in_redis(redis_limits):
    person = uuid.uuid4()
    in_another_worker(lambda: rate_limits.count_upload_bytes(user_id=person, size=600))
    with pytest.raises(ProblemError, match="bytes") as refused:
        in_another_worker(lambda: rate_limits.count_upload_bytes(user_id=person, size=600))
    assert int(refused.value.headers["Retry-After"]) >= 1


def test_an_unreachable_redis_lets_requests_through_and_says_so_once(monkeypatch, caplog):
    # Nothing listens on port 1: Redis restarting looks like this to the API.
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_PERSON", "1/minute")
    config.get_settings.cache_clear()
    rate_limits._limits.cache_clear()
    # Alembic's logging set-up, run in-process by other tests, disables loggers that exist.
    monkeypatch.setattr(rate_limits.log, "disabled", False)
    try:
        person = uuid.uuid4()
        with caplog.at_level("WARNING", logger=rate_limits.__name__):
            for _ in range(3):
                aio.run(rate_limits.count_request(user_id=person, key_id=None))
            aio.run(rate_limits.count_upload_bytes(user_id=person, size=10**9))
        warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        rate_limits._limits.cache_clear()
        config.get_settings.cache_clear()
