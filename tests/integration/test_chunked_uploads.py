"""A large photo uploaded in chunks through the REST API, on PostgreSQL and fake-gcs-server."""

import hashlib
import os
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.api.v1 import uploads as api_uploads
from imgstream.models import Photo, Upload, utcnow
from imgstream.services import (
    identity,
    object_keys,
    upload_completion,
    upload_receiving,
    upload_sweep,
)
from tests import aio, gcs, images
from tests.db import sessions_like
from tests.unit.api.test_media import as_user

storage = gcs.storage_fixture()

CHUNK = 8 * 1024 * 1024
SIZE = 60_000_000


@pytest.fixture
def api(migrated_engine, storage, tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    config.get_settings.cache_clear()

    @contextmanager
    def session():
        with Session(migrated_engine, expire_on_commit=False) as s:
            yield s

    monkeypatch.setattr(runtime, "engine", lambda: migrated_engine)
    monkeypatch.setattr(api_uploads, "storage", lambda: storage)
    with session() as s:
        owner = identity.provision_user(session=s, email="ada@example.com")
    yield TestClient(as_user(http_api(), owner.id)), session, owner
    config.get_settings.cache_clear()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_60_mb_photo_arrives_in_8_chunks_byte_identical(api, storage, tmp_path):
    client, session, owner = api
    # A real JPEG with 60 MB of trailing bytes: decodable, and every byte must survive.
    head = images.jpeg(size=(1600, 1200))
    data = head + os.urandom(SIZE - len(head))

    begun = client.post("/api/v1/uploads", json={"filename": "big.jpg", "size": SIZE})
    assert begun.status_code == 201, begun.text
    upload = begun.json()
    assert upload["chunk_bytes"] == CHUNK
    offsets = list(range(0, SIZE, upload["chunk_bytes"]))
    assert len(offsets) == 8
    for number, offset in enumerate(offsets):
        body = data[offset:offset + CHUNK]
        response = client.put(f"/api/v1/uploads/{upload['id']}/chunks",
                              params={"offset": offset}, content=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": offset + len(body)}
        if number == 2:
            # The client retries a chunk whose answer it lost: told where to continue.
            again = client.put(f"/api/v1/uploads/{upload['id']}/chunks",
                               params={"offset": offset}, content=body)
            assert again.status_code == 409
            assert again.json()["received"] == offset + len(body)
    keys = list(storage.list(f"incoming/{owner.id}/{upload['id']}"))
    assert len(keys) == 8 and keys == sorted(keys)

    response = client.post(f"/api/v1/uploads/{upload['id']}/complete",
                           json={"on_collision": "keep_both"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "added"
    photo_id = uuid.UUID(response.json()["photo_id"])
    with session() as s:
        photo = s.get(Photo, photo_id)
        assert photo.size_bytes == SIZE
        assert photo.sha256 == hashlib.sha256(data).hexdigest()
        # The upload keeps its outcome; its chunks are gone.
        assert [(u.status, u.photo_id) for u in s.exec(select(Upload))] == [("added", photo_id)]
    digest = hashlib.sha256()
    with storage.open(object_keys.original_key(owner.id, photo_id, "jpg")) as original:
        while block := original.read(1024 * 1024):
            digest.update(block)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert list(storage.list("incoming")) == []
    assert list((tmp_path / "data" / "incoming").iterdir()) == []


async def _body(data):
    yield data


def _send(session, storage, owner, upload_id, offset, data, tmp_path):
    return aio.run(upload_receiving.receive_chunk(
        sessions=sessions_like(session), storage=storage, owner_id=owner.id, upload_id=upload_id,
        offset=offset, body=_body(data), spool_dir=tmp_path / "spool", chunk_bytes=1000,
    ))


def test_on_gcs_a_chunk_left_by_a_lost_commit_is_replaced_and_sweeps_find_orphans(
        session, storage, owner, tmp_path):
    upload = upload_receiving.begin_upload(session=session, owner=owner, filename="a.jpg",
                                          size=1500, max_bytes=10**8)
    key = upload_receiving.chunk_key(owner.id, upload.id, 0)
    storage.put_bytes(key, b"from an attempt whose commit was lost")
    assert _send(session, storage, owner, upload.id, 0, b"a" * 1000, tmp_path) == 1000
    # A retry of a chunk already committed: told where to continue, the chunk untouched.
    with pytest.raises(upload_receiving.OffsetMismatch):
        _send(session, storage, owner, upload.id, 0, b"a" * 1000, tmp_path)
    assert _send(session, storage, owner, upload.id, 1000, b"b" * 500, tmp_path) == 1500
    incoming, _ = upload_completion.assemble(
        session=session, storage=storage, owner_id=owner.id, upload_id=upload.id,
        spool_dir=tmp_path / "spool", max_bytes=10**8)
    assert incoming.path.read_bytes() == b"a" * 1000 + b"b" * 500
    incoming.discard()

    orphan = upload_receiving.chunk_key(owner.id, uuid.uuid4(), 0)
    storage.put_bytes(orphan, b"o")
    later = utcnow() + timedelta(hours=1)
    report = upload_sweep.sweep(session=session, storage=storage, spool_dir=None,
                                   fix=True, now=later)
    assert report.orphan_chunks == [orphan] and report.stale_uploads == []
    assert not storage.exists(orphan) and storage.exists(key)
    assert upload_receiving.cancel_upload(session=session, storage=storage, owner_id=owner.id,
                                         upload_id=upload.id)
    assert list(storage.list(upload_receiving.chunk_prefix(owner.id, upload.id))) == []
