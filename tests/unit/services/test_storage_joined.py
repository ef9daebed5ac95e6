"""On local disk a chunked upload's original is its chunks appended to one new file."""

import uuid

import pytest

from imgstream.services import upload_receiving
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import ObjectExists, ObjectMissing


def chunk_keys(count):
    owner, upload = uuid.uuid4(), uuid.uuid4()
    return owner, [upload_receiving.chunk_key(owner, upload, i * 10) for i in range(count)]


def test_put_joined_appends_the_parts_create_only(storage, tmp_path):
    owner, parts = chunk_keys(3)
    for i, part in enumerate(parts):
        storage.put_bytes(part, bytes([65 + i]) * 10)
    target = f"photos/{owner}/{uuid.uuid4()}.jpg"
    storage.put_joined(target, parts, tmp_path / "unused")
    with storage.open(target) as joined:
        assert joined.read() == b"A" * 10 + b"B" * 10 + b"C" * 10
    assert all(storage.exists(part) for part in parts)
    with pytest.raises(ObjectExists):
        storage.put_joined(target, parts[:1], tmp_path / "unused")
    missing = f"photos/{owner}/{uuid.uuid4()}.jpg"
    storage.delete(parts[1])
    with pytest.raises(ObjectMissing):
        storage.put_joined(missing, parts, tmp_path / "unused")
    assert not storage.exists(missing)
    # No partial file stays behind.
    assert [path.name for path in storage.path_of(missing).parent.iterdir()] == [
        target.rsplit("/", 1)[1]]


def test_an_incoming_file_is_stored_from_its_parts_or_from_itself(storage, tmp_path):
    owner, parts = chunk_keys(2)
    storage.put_bytes(parts[0], b"stored ")
    storage.put_bytes(parts[1], b"chunks")
    incoming = IncomingFile(filename="a.jpg", spool_dir=tmp_path, max_bytes=100)
    incoming.write(b"spooled bytes")
    incoming.finish()
    alone = f"photos/{owner}/{uuid.uuid4()}.jpg"
    incoming.store(storage, alone)
    incoming.stored_parts = parts
    joined = f"photos/{owner}/{uuid.uuid4()}.jpg"
    incoming.store(storage, joined)
    with storage.open(alone) as a, storage.open(joined) as b:
        assert (a.read(), b.read()) == (b"spooled bytes", b"stored chunks")
    incoming.discard()
