"""No pooled PostgreSQL connection idles in a transaction while a photo is decoded or stored."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlmodel import Session

from imgstream import models
from imgstream.runtime import create_engine
from imgstream.services import identity, ingest
from imgstream.services.storage import LocalStorage
from tests import images
from tests.integration.conftest import POSTGRES_ADMIN_URL, _postgres_database, migrate
from tests.integration.test_database import ingest_bytes

APP_NAME = "imgstream-ingest-under-watch"
LONGEST_IDLE_IN_TRANSACTION = 0.050


class IdleInTransactionWatch:
    """Samples pg_stat_activity for the app's connections while they work."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            while not self._stop.is_set():
                row = admin.execute(
                    "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - state_change)), 0)"
                    " FROM pg_stat_activity"
                    " WHERE application_name = %s AND state = 'idle in transaction'",
                    (APP_NAME,),
                ).fetchone()
                self.longest = max(self.longest, float(row[0]))
                self.samples += 1
                time.sleep(0.002)

    def __enter__(self) -> IdleInTransactionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def watched_engine(tmp_path):
    url, drop = _postgres_database()
    migrate(url, tmp_path / "data")
    engine = create_engine(f"{url}?application_name={APP_NAME}")
    try:
        yield engine
    finally:
        engine.dispose()
        drop()


def test_l03_no_connection_idles_in_a_transaction_while_a_24_mp_photo_is_ingested(
    watched_engine, tmp_path
):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    with Session(watched_engine, expire_on_commit=False) as session:
        owner_id = identity.provision_user(session=session, email="watch@example.com").id
    scene = images.photo_like((6000, 4000))
    first = images.encode(scene, "JPEG", quality=90)
    second = images.encode(scene.transpose(0), "JPEG", quality=90)
    spool = tmp_path / "spool"
    with IdleInTransactionWatch() as watch:
        started = time.monotonic()
        added = ingest_bytes(watched_engine, storage, owner_id, first, "big.jpg", spool)
        replaced = ingest_bytes(watched_engine, storage, owner_id, second, "big.jpg", spool,
                                models.CollisionChoice.REPLACE)
        took = time.monotonic() - started
    assert added.status is ingest.IngestStatus.ADDED, added
    assert replaced.status is ingest.IngestStatus.REPLACED, replaced
    # The watch saw the whole of both ingests, each longer than the limit (about 70 ms apiece
    # with warm caches), so a transaction held through one of them would be caught.
    assert took > 2 * LONGEST_IDLE_IN_TRANSACTION and watch.samples > 20
    assert watch.longest < LONGEST_IDLE_IN_TRANSACTION, (
        f"a connection idled in a transaction for {watch.longest * 1000:.0f} ms")


def _states() -> list[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        return [row[0] for row in admin.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,))]


def test_the_pages_reads_hold_no_transaction_between_statements(watched_engine, monkeypatch):
    import sqlalchemy as sa

    from imgstream import runtime

    monkeypatch.setattr(runtime, "engine", lambda: watched_engine)
    runtime._reading_engine.cache_clear()
    try:
        with runtime.read_session() as session:
            session.execute(sa.select(models.Photo.id).limit(1)).all()
            assert _states() == ["idle"]
        # The reference: an ordinary session keeps its transaction until it ends.
        with runtime.db_session() as session:
            session.execute(sa.select(models.Photo.id).limit(1)).all()
            assert _states() == ["idle in transaction"]
        assert _states() == ["idle"]
    finally:
        runtime._reading_engine.cache_clear()
