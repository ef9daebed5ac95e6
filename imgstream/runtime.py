"""The process's shared resources, built once from settings: database engine and photo store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session

from imgstream.config import StorageBackend, get_settings
from imgstream.models import User
from imgstream.services import identity, live_changes
from imgstream.services.storage import LocalStorage, Storage

# Every commit that changes someone's photos or albums tells their open tabs.
live_changes.watch_sessions()


def create_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 5, pool_recycle: int = 1800
) -> sa.Engine:
    """An engine for the app's database; SQLite gets WAL and a busy timeout for concurrent use.

    Args:
        url: SQLAlchemy database URL.
        pool_size: Connections kept open (PostgreSQL).
        max_overflow: Extra connections under load (PostgreSQL).
        pool_recycle: Seconds after which a connection is replaced (Cloud SQL closes idle ones).

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
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                            max_overflow=max_overflow, pool_recycle=pool_recycle)


@lru_cache(maxsize=1)
def engine() -> sa.Engine:
    """The process-wide engine."""
    settings = get_settings()
    return create_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle_seconds,
    )


@contextmanager
def db_session() -> Iterator[Session]:
    """A database session that does not expire loaded rows on commit."""
    with Session(engine(), expire_on_commit=False) as session:
        yield session


@lru_cache(maxsize=1)
def _reading_engine() -> sa.Engine:
    # The same pool, its connections in autocommit while lent out: no BEGIN before the first
    # statement and no ROLLBACK after the last, two round trips fewer per read.
    return engine().execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def read_session() -> Iterator[Session]:
    """A database session for reading only: each statement sees what is committed when it runs.

    For the pages' frequent reads (timeline, search, a photo's page), where the statements
    need no common snapshot. Not for writing: in autocommit each statement commits by itself.
    """
    with Session(_reading_engine(), expire_on_commit=False) as session:
        yield session


class NoSuchUser(Exception):  # noqa: N818
    """The signed-in user has no row (any more)."""


@contextmanager
def owner_session(owner_id: uuid.UUID) -> Iterator[tuple[Session, User]]:
    """A database session with the signed-in user's row: where api handlers and states start.

    Args:
        owner_id: The user the request or connection was verified as.

    Yields:
        The session and the user.

    Raises:
        NoSuchUser: When there is no such user.
    """
    with db_session() as session:
        owner = identity.get_user(session=session, user_id=owner_id)
        if owner is None:
            raise NoSuchUser(owner_id)
        yield session, owner


@lru_cache(maxsize=1)
def storage() -> Storage:
    """The photo store selected by settings."""
    settings = get_settings()
    if settings.storage_backend is StorageBackend.GCS:
        from imgstream.services.storage_gcs import GcsStorage

        return GcsStorage(bucket=settings.gcs_bucket or "",
                          url_ttl_seconds=settings.media_url_ttl_seconds,
                          signing_key_file=settings.google_application_credentials)
    return LocalStorage(
        settings.photos_dir,
        secret=settings.signing_key(),
        url_ttl_seconds=settings.media_url_ttl_seconds,
    )
