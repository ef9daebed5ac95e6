"""A library whose photo store cannot sign URLs, for the states that show photos."""

from __future__ import annotations

from contextlib import contextmanager

from sqlmodel import Session

from imgstream.models import Photo
from imgstream.services import photo_urls
from imgstream.services.storage import UrlUnavailable
from tests import images
from tests.unit.services.test_ingest import add_photo

REFUSAL = ("iam.serviceAccounts.signBlob on run@p.iam.gserviceaccount.com: grant "
           "run@p.iam.gserviceaccount.com roles/iam.serviceAccountTokenCreator on itself")
LOG_LINE = f"Photos show placeholders because their URLs cannot be signed: {REFUSAL}"


class CannotSign:
    """The store, but no URL of it can be signed (Cloud Run without signBlob)."""

    def __init__(self, store):
        self._store = store
        self.refusals = 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def url_for(self, key: str, *, download_name: str = "") -> str:
        self.refusals += 1
        raise UrlUnavailable(REFUSAL)


def use_runtime(monkeypatch, module, engine, store) -> None:
    """Point a state module's database sessions (writing and reading) and store at the test's."""

    @contextmanager
    def db_session():
        with Session(engine, expire_on_commit=False) as session:
            yield session

    for name in ("db_session", "read_session"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, db_session)
    monkeypatch.setattr(module, "storage", lambda: store)
    monkeypatch.setattr(photo_urls, "_reported", set())


def add_photos(session, storage, owner, tmp_path, count: int) -> list[Photo]:
    """Photos in the library, the last one without a thumbhash (stored before they were made)."""
    photos = []
    for i in range(count):
        result = add_photo(session, storage, owner, tmp_path,
                           images.jpeg(size=(300, 200), color=(40 * i, 90, 150)), f"p{i}.jpg")
        photos.append(session.get(Photo, result.photo_id))
    photos[-1].thumbhash = None
    session.add(photos[-1])
    session.commit()
    return photos


def log_lines(caplog) -> list[str]:
    """What the log said about unsigned URLs."""
    return [r.getMessage() for r in caplog.records if r.name == photo_urls.__name__]
