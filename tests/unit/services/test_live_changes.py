import os
import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from imgstream.models import Photo, utcnow
from imgstream.services import identity, live_changes


@pytest.fixture
def counters(monkeypatch):
    memory = live_changes.MemoryCounters()
    monkeypatch.setattr(live_changes, "counters", lambda: memory)
    live_changes.watch_sessions()
    return memory


def photo(owner_id, number=0) -> Photo:
    return Photo(owner_id=owner_id, filename=f"p{number}.jpg", sha256=f"{number:064x}",
                 format="JPEG", mime="image/jpeg", size_bytes=10, width=1, height=1,
                 taken_at=utcnow(), taken_at_source="test")


def test_a_commit_raises_only_the_owners_counter(engine, counters):
    with Session(engine, expire_on_commit=False) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        eve = identity.provision_user(session=session, email="eve@example.com")
        before_ada, before_eve = counters.version(ada.id), counters.version(eve.id)
        first = photo(ada.id)
        session.add(first)
        session.add(photo(ada.id, 1))
        session.commit()
        # One commit, one raise, whatever it held.
        assert counters.version(ada.id) == before_ada + 1
        assert counters.version(eve.id) == before_eve
        first.favorite = True
        session.add(first)
        session.commit()
        assert counters.version(ada.id) == before_ada + 2


def test_rolled_back_changes_raise_nothing(engine, counters):
    with Session(engine) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        before = counters.version(ada.id)
        session.add(photo(ada.id))
        session.flush()
        session.rollback()
        assert counters.version(ada.id) == before


def test_bulk_statements_raise_the_owner_named_in_them(engine, counters):
    with Session(engine) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        eve = identity.provision_user(session=session, email="eve@example.com")
        session.add(photo(ada.id))
        session.commit()
        ada_before, eve_before = counters.version(ada.id), counters.version(eve.id)
        session.execute(sa.update(Photo).where(Photo.owner_id == ada.id).values(favorite=True))
        session.commit()
        assert counters.version(ada.id) == ada_before + 1
        assert counters.version(eve.id) == eve_before
        # Without an owner in the statement, everyone's tabs refresh rather than miss it.
        session.execute(sa.update(Photo).where(Photo.favorite.is_(True)).values(title="x"))
        session.commit()
        assert counters.version(eve.id) == eve_before + 1


def test_redis_counters_are_shared_between_clients():
    redis = pytest.importorskip("redis")
    url = os.environ.get("IMGSTREAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}: {exc}")
    one, other = live_changes.RedisCounters(url), live_changes.RedisCounters(url)
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    before = other.version(owner)
    one.bump([str(owner)])
    assert other.version(owner) == before + 1
    assert other.version(stranger) == other.version(uuid.uuid4())  # only the shared '*'


def test_bulk_statements_that_match_nothing_raise_nothing(engine, counters):
    with Session(engine) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        session.add(photo(ada.id))
        session.commit()
        before = counters.version(ada.id)
        # A sweep finding nothing to sweep (no owner named, no row matched).
        result = session.execute(sa.delete(Photo).where(Photo.filename == "none.jpg"))
        session.commit()
        assert result.rowcount == 0
        assert counters.version(ada.id) == before
        session.execute(sa.delete(Photo).where(Photo.filename == "p0.jpg"))
        session.commit()
        assert counters.version(ada.id) == before + 1
