import pytest
from sqlmodel import Session, SQLModel

from imgstream.runtime import create_engine
from imgstream.services import identity
from imgstream.services.storage import LocalStorage


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
