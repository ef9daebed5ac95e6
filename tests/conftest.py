import os

import pytest
from sqlmodel import Session, SQLModel

from imgstream.runtime import create_engine
from imgstream.services import identity, imaging
from imgstream.services.storage import LocalStorage
from tests.reliability import report as reliability

_outcomes: dict[str, str] = {}


def pytest_configure(config):
    """The image libraries are set up as the app sets them up at start-up."""
    imaging.configure()


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'test.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "library", secret=b"test-secret", url_ttl_seconds=1800)


@pytest.fixture
def owner(session):
    return identity.provision_user(session=session, email="ada@example.com")



def pytest_runtest_logreport(report):
    """Remember each test's outcome for the reliability table."""
    if report.when == "call" or report.outcome != "passed":
        reliability.merge(_outcomes, report.nodeid, report.outcome)


def pytest_sessionfinish(session, exitstatus):
    """In CI every service is present: a skipped test means something was not tested.

    With IMGSTREAM_RELIABILITY_DOC set, the reliability table is written there.
    """
    if target := os.environ.get("IMGSTREAM_RELIABILITY_DOC"):
        reliability.write(_outcomes, reliability.ROOT / target)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; in CI every suite must run.", red=True
        )
        session.exitstatus = 1
