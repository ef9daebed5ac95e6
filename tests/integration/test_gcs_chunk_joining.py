"""On Cloud Storage a chunked upload's original is composed from its chunks, not sent again.

Runs on fake-gcs-server, counting the bytes the storage client sends.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
import requests
from sqlmodel import select

from imgstream.models import CollisionChoice, Photo, User
from imgstream.services import identity, object_keys, upload_completion, upload_receiving
from imgstream.services.storage import ObjectExists
from imgstream.services.storage_gcs import MAX_COMPOSE_SOURCES, GcsStorage
from tests import aio, gcs, images
from tests.db import sessions_like

MIB = 1024 * 1024


class CountingHttp(requests.Session):
    """Sends requests to the emulator, counting the body bytes sent."""

    def __init__(self):
        super().__init__()
        self.sent = 0
        self.urls: list[str] = []

    def send(self, request, **kwargs):
        body = request.body or b""
        assert isinstance(body, bytes | str), type(body)
        size = len(body)
        self.sent += size
        target = requests.utils.unquote(request.url)
        self.urls.append(target)
        return super().send(request, **kwargs)


@pytest.fixture
def counted():
    with gcs.gcs_storage() as plain:
        http = CountingHttp()
        yield GcsStorage(bucket=plain.bucket_name, client=gcs.emulator_client(http=http)), http


async def _body(data):
    yield data


def test_a_60_mb_upload_is_sent_to_storage_once(session, counted, tmp_path):
    storage, http = counted
    owner = identity.provision_user(session=session, email="ada@example.com")
    owner.quota_bytes = 10**9
    session.add(owner)
    session.commit()
    data = images.png_of_size(60 * 10**6)
    chunk = MIB
    upload = upload_receiving.begin_upload(session=session, owner=owner, filename="big.png",
                                          size=len(data), max_bytes=10**9)
    for offset in range(0, len(data), chunk):
        aio.run(upload_receiving.receive_chunk(
            sessions=sessions_like(session), storage=storage, owner_id=owner.id,
            upload_id=upload.id, offset=offset, body=_body(data[offset:offset + chunk]),
            spool_dir=tmp_path / "spool", chunk_bytes=chunk,
        ))
    assert len(data) // chunk + 1 > MAX_COMPOSE_SOURCES, "composing takes stages"
    chunks_sent = http.sent
    session.refresh(owner)
    result = upload_completion.complete_upload(
        session=session, storage=storage, owner=owner, upload_id=upload.id,
        on_collision=CollisionChoice.KEEP_BOTH,
        spool_dir=tmp_path / "spool", max_bytes=10**9, thumbnail_size=400, preview_size=1440,
        max_pixels=10**8,
    )
    assert result.status.value == "added", result.message
    completing_sent = http.sent - chunks_sent
    print(f"{len(data)} bytes uploaded: {http.sent} bytes sent to storage "
          f"({http.sent / len(data):.3f}×; chunks {chunks_sent}, completing {completing_sent})")
    assert len(data) <= chunks_sent < len(data) + 64 * 1024
    assert completing_sent < 4 * MIB, "the original was sent again"  # renditions only
    photo = session.exec(select(Photo).where(Photo.owner_id == owner.id)).one()
    stored = hashlib.sha256()
    with storage.open(object_keys.original_of(photo)) as original:
        while block := original.read(MIB):
            stored.update(block)
    assert stored.hexdigest() == photo.sha256 == hashlib.sha256(data).hexdigest()
    assert list(storage.list(f"incoming/{owner.id}")) == []
    assert session.get(User, owner.id).reserved_bytes == 0


@pytest.mark.parametrize("count", [1, MAX_COMPOSE_SOURCES, MAX_COMPOSE_SOURCES + 1, 70])
def test_put_joined_composes_in_stages_and_is_create_only(counted, tmp_path, count):
    storage, http = counted
    owner, upload = uuid.uuid4(), uuid.uuid4()
    parts = [upload_receiving.chunk_key(owner, upload, i) for i in range(count)]
    pieces = [f"<{i}>".encode() * (i + 1) for i in range(count)]
    for key, piece in zip(parts, pieces, strict=True):
        storage.put_bytes(key, piece)
    copy = tmp_path / "copy"
    copy.write_bytes(b"".join(pieces))
    target = f"photos/{owner}/{uuid.uuid4()}.png"
    before = http.sent
    storage.put_joined(target, parts, copy)
    assert http.sent - before < 20_000  # compose requests name objects, they carry no bytes
    composed = [url for url in http.urls if url.split("?")[0].endswith(f"{target}/compose")]
    assert len(composed) == 1 and "ifGenerationMatch=0" in composed[0]
    with storage.open(target) as joined:
        assert joined.read() == copy.read_bytes()
    assert sorted(storage.list(f"incoming/{owner}")) == parts
    # A retry whose first attempt composed the object is told apart from another object.
    storage.put_joined(target, parts, copy)
    copy.write_bytes(b"other bytes")
    with pytest.raises(ObjectExists):
        storage.put_joined(target, parts, copy)
