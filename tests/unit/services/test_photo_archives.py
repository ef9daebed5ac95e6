import io
import uuid
import zipfile

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from imgstream import runtime
from imgstream.api import http_api
from imgstream.models import Photo, utcnow
from imgstream.services import identity, ingest, object_keys, photo_archives
from imgstream.services.spooling import IncomingFile
from tests import images
from tests.unit.api.test_identity import clear_caches, configure
from tests.unit.api.test_media import as_user


def add(session, storage, owner, tmp_path, name, data) -> Photo:
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    result = ingest.ingest(
        session=session, storage=storage, owner=owner, upload=incoming,
        sha256=incoming.finish(), thumbnail_size=200, preview_size=400, max_pixels=10**8,
    )
    return session.get(Photo, result.photo_id)


@pytest.fixture
def library(monkeypatch, tmp_path):
    configure(monkeypatch, tmp_path)
    store = runtime.storage()
    with Session(runtime.engine(), expire_on_commit=False) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        eve = identity.provision_user(session=session, email="eve@example.com")
        first = images.jpeg(color=(200, 10, 10), date_original="2021:01:01 10:00:00")
        second = images.jpeg(color=(10, 200, 10), date_original="2022:01:01 10:00:00")
        png = images.png(size=(50, 40))
        photos = {
            "a": add(session, store, ada, tmp_path, "Beach.jpg", first),
            "b": add(session, store, ada, tmp_path, "other.jpg", second),
            "c": add(session, store, ada, tmp_path, "dune.png", png),
            "eve": add(session, store, eve, tmp_path, "theirs.jpg", images.jpeg(color=(9, 9, 9))),
        }
        # Two photos can share a name (kept both under Replace's absence, or renamed later).
        photos["b"].filename = "Beach.jpg"
        session.add(photos["b"])
        session.commit()
        data = {k: store.open(object_keys.original_of(p)).read() for k, p in photos.items()}
    yield ada, eve, photos, data
    clear_caches()


def test_archive_names_keep_the_original_and_number_repeats():
    taken: set[str] = set()
    names = [photo_archives.archive_name(n, taken)
             for n in ["IMG_1.jpg", "img_1.JPG", "IMG_1.jpg", "../etc/passwd", "", "a:b.png"]]
    assert names == ["IMG_1.jpg", "img_1 (1).JPG", "IMG_1 (2).jpg", "_etc_passwd", "photo",
                     "a_b.png"]


def test_parse_ids_skips_malformed_and_repeats():
    good = uuid.uuid4()
    assert photo_archives.parse_ids([str(good), "nope", f" {good} ", ""]) == [good]


def test_zip_holds_the_exact_originals_under_unique_names(library):
    ada, _, photos, data = library
    ids = [photos[k].id for k in ("a", "b", "c", "eve")] + [uuid.uuid4()]
    with Session(runtime.engine()) as session:
        entries = photo_archives.archive_entries(session=session, owner_id=ada.id, photo_ids=ids)
    archive = photo_archives.build_archive(storage=runtime.storage(), entries=entries)
    assert archive.sized
    body = b"".join(archive)
    assert len(body) == len(archive)
    with zipfile.ZipFile(io.BytesIO(body)) as zipped:
        infos = {info.filename: info for info in zipped.infolist()}
        # Someone else's photo and an unknown id are left out; the repeat is numbered.
        assert set(infos) == {"Beach.jpg", "Beach (1).jpg", "dune.png"}
        assert all(info.compress_type == zipfile.ZIP_STORED for info in infos.values())
        assert zipped.read("Beach.jpg") == data["a"]
        assert zipped.read("Beach (1).jpg") == data["b"]
        assert zipped.read("dune.png") == data["c"]


def test_trashed_photos_stay_out(library):
    ada, _, photos, _ = library
    with Session(runtime.engine()) as session:
        photo = session.get(Photo, photos["a"].id)
        photo.deleted_at = utcnow()
        session.add(photo)
        session.commit()
        entries = photo_archives.archive_entries(
            session=session, owner_id=ada.id, photo_ids=[photos["a"].id, photos["b"].id])
    assert [e.name for e in entries] == ["Beach.jpg"]


def test_too_many_photos_is_refused(library, monkeypatch):
    ada, _, photos, _ = library
    monkeypatch.setattr(photo_archives, "MAX_ARCHIVE_PHOTOS", 1)
    with Session(runtime.engine()) as session, pytest.raises(photo_archives.ArchiveTooBig):
        photo_archives.archive_entries(session=session, owner_id=ada.id,
                                       photo_ids=[photos["a"].id, photos["b"].id])


def test_route_streams_only_the_signed_in_persons_photos(library):
    ada, eve, photos, data = library
    ids = ",".join(str(photos[k].id) for k in ("a", "eve"))
    response = TestClient(as_user(http_api(), ada.id)).post("/archive", data={"ids": ids})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert int(response.headers["content-length"]) == len(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        assert zipped.namelist() == ["Beach.jpg"]
        assert zipped.read("Beach.jpg") == data["a"]
    # Eve asking for Ada's photos gets nothing of them.
    refused = TestClient(as_user(http_api(), eve.id)).post(
        "/archive", data={"ids": str(photos["a"].id)})
    assert refused.status_code == 404


def test_route_needs_a_signed_in_person_on_this_site(library):
    ada, _, photos, _ = library
    ids = str(photos["a"].id)
    assert TestClient(http_api()).post("/archive", data={"ids": ids}).status_code == 401
    foreign = TestClient(as_user(http_api(), ada.id)).post(
        "/archive", data={"ids": ids}, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403
