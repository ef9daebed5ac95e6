"""Real databases for the integration suite: SQLite and PostgreSQL (a fresh database per run)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlmodel import Session

from imgstream.runtime import create_engine
from imgstream.testing import ROOT

POSTGRES_ADMIN_URL = os.environ.get(
    "IMGSTREAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def missing(reason: str):
    """Skip locally; CI has every service, so there it is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this suite)")
    pytest.skip(reason)


def _postgres_database() -> tuple[str, callable]:
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        missing(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    name = f"imgstream_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{base}/{name}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'imgstream.db'}"
        return
    url, drop = _postgres_database()
    try:
        yield url
    finally:
        drop()


def migrate(database_url: str, data_dir) -> None:
    """Apply the committed migrations with the same command the app uses."""
    env = {**os.environ, "IMGSTREAM_DATABASE_URL": database_url,
           "IMGSTREAM_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-m", "reflex", "db", "migrate"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def migrated_engine(database_url, tmp_path):
    migrate(database_url, tmp_path / "data")
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(migrated_engine):
    with Session(migrated_engine, expire_on_commit=False) as session:
        yield session
