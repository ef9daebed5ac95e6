"""The process's shared resources, built once from settings: database engine and photo store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session

from imgstream.config import get_settings
from imgstream.services.storage import LocalStorage, Storage


def create_engine(url: str) -> sa.Engine:
    """An engine for the app's database; SQLite gets WAL and a busy timeout for concurrent use.

    Args:
        url: SQLAlchemy database URL.

    Returns:
        The engine.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@lru_cache(maxsize=1)
def engine() -> sa.Engine:
    """The process-wide engine."""
    return create_engine(get_settings().resolved_database_url)


@contextmanager
def db_session() -> Iterator[Session]:
    """A database session that does not expire loaded rows on commit."""
    with Session(engine(), expire_on_commit=False) as session:
        yield session


@lru_cache(maxsize=1)
def storage() -> Storage:
    """The photo store selected by settings."""
    settings = get_settings()
    return LocalStorage(
        settings.photos_dir,
        secret=settings.signing_key(),
        url_ttl_seconds=settings.media_url_ttl_seconds,
    )
