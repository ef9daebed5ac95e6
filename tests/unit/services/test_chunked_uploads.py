import hashlib
import os
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from imgstream import models
from imgstream.models import CollisionEvent, Photo, Upload, UploadStatus, User, utcnow
from imgstream.services import (
    identity,
    ingest,
    object_keys,
    quota,
    upload_completion,
    upload_decisions,
    upload_progress,
    upload_receiving,
    upload_sweep,
)
from imgstream.services.storage import LocalStorage, ObjectExists
from imgstream.services.upload_completion import UploadIncomplete
from imgstream.services.upload_progress import UploadNotFound
from imgstream.services.upload_receiving import ChunkRefused, OffsetMismatch, UploadRefused
from tests import aio, images
from tests.db import sessions_like

CHUNK = 1000
MAX = 10**8


async def stream(data: bytes, block: int = 300):
    for start in range(0, len(data), block):
        yield data[start:start + block]


def begin(session, owner, size, name="photo.jpg"):
    return upload_receiving.begin_upload(
        session=session, owner=owner, filename=name, size=size, max_bytes=MAX
    )


def send(session, storage, owner, upload_id, offset, data, tmp_path, *, body=None,
         chunk_bytes=CHUNK):
    return aio.run(upload_receiving.receive_chunk(
        sessions=sessions_like(session), storage=storage, owner_id=owner.id, upload_id=upload_id,
        offset=offset, body=body if body is not None else stream(data),
        spool_dir=tmp_path / "spool", chunk_bytes=chunk_bytes,
    ))


def send_all(session, storage, owner, upload_id, data, tmp_path, chunk_bytes=CHUNK):
    received = 0
    for offset in range(0, len(data), chunk_bytes):
        received = send(session, storage, owner, upload_id, offset,
                        data[offset:offset + chunk_bytes], tmp_path, chunk_bytes=chunk_bytes)
    return received


def chunk_keys(storage, owner, upload_id):
    return list(storage.list(upload_receiving.chunk_prefix(owner.id, upload_id)))


def spooled(tmp_path):
    spool = tmp_path / "spool"
    return sorted(spool.iterdir()) if spool.exists() else []


def complete(session, storage, owner, upload_id, tmp_path,
             choice: models.CollisionChoice | None = models.CollisionChoice.KEEP_BOTH):
    return upload_completion.complete_upload(
        session=session, storage=storage, owner=owner, upload_id=upload_id,
        on_collision=choice, spool_dir=tmp_path / "spool",
        max_bytes=MAX, thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )


def test_begin_cleans_the_name_and_starts_at_zero(session, owner):
    progress = begin(session, owner, 1234, name="C:\\photos\\\u202egpj.jpg")
    assert progress.filename == "gpj.jpg"
    assert (progress.size, progress.received) == (1234, 0)
    row = session.get(Upload, progress.id)
    assert (row.owner_id, row.filename, row.size_bytes) == (owner.id, "gpj.jpg", 1234)


def test_begin_refuses_empty_files(session, owner):
    with pytest.raises(UploadRefused, match="empty") as refused:
        begin(session, owner, 0)
    assert not refused.value.too_large
    assert session.exec(sa.select(Upload)).first() is None


def test_begin_refuses_files_over_the_limit(session, owner):
    with pytest.raises(UploadRefused, match="larger than the 100 MB limit") as refused:
        begin(session, owner, MAX + 1)
    assert refused.value.too_large
    begin(session, owner, MAX)


def test_begin_refuses_what_the_quota_cannot_hold(session, owner):
    owner.quota_bytes, owner.used_bytes = 5_000_000, 4_000_000
    session.commit()
    with pytest.raises(UploadRefused) as refused:
        begin(session, owner, 1_000_001)
    assert refused.value.message == (
        "your library is full: 4 MB of 5 MB used, and this photo needs 1 MB"
    )
    assert refused.value.too_large
    assert begin(session, owner, 1_000_000).size == 1_000_000


def test_chunks_in_order_assemble_byte_identical(session, storage, owner, tmp_path):
    data = os.urandom(2500)
    upload = begin(session, owner, len(data))
    assert send(session, storage, owner, upload.id, 0, data[:1000], tmp_path) == 1000
    status = upload_progress.upload_status(session=session, owner_id=owner.id,
                                           upload_id=upload.id)
    assert (status.received, status.size) == (1000, 2500)
    assert send(session, storage, owner, upload.id, 1000, data[1000:2000], tmp_path) == 2000
    assert send(session, storage, owner, upload.id, 2000, data[2000:], tmp_path) == 2500
    assert chunk_keys(storage, owner, upload.id) == [
        f"incoming/{owner.id}/{upload.id}/{offset:012d}" for offset in (0, 1000, 2000)
    ]
    assert spooled(tmp_path) == [], "chunk spool files are removed once stored"

    incoming, sha256 = upload_completion.assemble(
        session=session, storage=storage, owner_id=owner.id, upload_id=upload.id,
        spool_dir=tmp_path / "spool", max_bytes=MAX,
    )
    assert incoming.path.read_bytes() == data
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert incoming.filename == "photo.jpg"
    incoming.discard()


def test_a_wrong_offset_reports_where_to_continue(session, storage, owner, tmp_path):
    data = os.urandom(2000)
    upload = begin(session, owner, len(data))
    send(session, storage, owner, upload.id, 0, data[:1000], tmp_path)
    for offset in (0, 500, 2000):
        with pytest.raises(OffsetMismatch) as mismatch:
            send(session, storage, owner, upload.id, offset, data[1000:], tmp_path)
        assert mismatch.value.received == 1000
    assert len(chunk_keys(storage, owner, upload.id)) == 1


def test_a_wrong_offset_is_refused_before_the_body_is_read(session, storage, owner, tmp_path):
    upload = begin(session, owner, 2000)
    read = []

    async def body():
        read.append(True)
        yield b"x" * 100

    with pytest.raises(OffsetMismatch):
        send(session, storage, owner, upload.id, 1000, b"", tmp_path, body=body())
    assert read == []


def test_an_oversized_chunk_is_refused_while_reading(session, storage, owner, tmp_path):
    upload = begin(session, owner, 10_000)
    pulled = []

    async def endless():
        while True:
            pulled.append(400)
            yield b"x" * 400

    with pytest.raises(ChunkRefused, match="at most 1000 bytes") as refused:
        send(session, storage, owner, upload.id, 0, b"", tmp_path, body=endless())
    assert refused.value.too_large
    assert sum(pulled) == 1200, "reading stops at the first block past the limit"
    assert chunk_keys(storage, owner, upload.id) == []
    assert spooled(tmp_path) == []
    assert session.get(Upload, upload.id).received_bytes == 0


def test_a_chunk_past_the_announced_size_is_refused(session, storage, owner, tmp_path):
    upload = begin(session, owner, 1500)
    send(session, storage, owner, upload.id, 0, b"a" * 1000, tmp_path)
    with pytest.raises(ChunkRefused, match="past the announced size of 1500") as refused:
        send(session, storage, owner, upload.id, 1000, b"b" * 501, tmp_path)
    assert refused.value.too_large
    assert len(chunk_keys(storage, owner, upload.id)) == 1
    assert send(session, storage, owner, upload.id, 1000, b"b" * 500, tmp_path) == 1500


def test_an_empty_chunk_is_refused(session, storage, owner, tmp_path):
    upload = begin(session, owner, 1500)
    with pytest.raises(ChunkRefused, match="empty") as refused:
        send(session, storage, owner, upload.id, 0, b"", tmp_path)
    assert not refused.value.too_large


def test_an_interrupted_chunk_resumes_from_the_last_committed_one(session, storage, owner,
                                                                  tmp_path):
    data = os.urandom(2500)
    upload = begin(session, owner, len(data))
    send(session, storage, owner, upload.id, 0, data[:1000], tmp_path)

    async def dropped():
        yield data[1000:1400]
        raise ConnectionResetError("the browser went away")

    with pytest.raises(ConnectionResetError):
        send(session, storage, owner, upload.id, 1000, b"", tmp_path, body=dropped())
    assert spooled(tmp_path) == []
    assert len(chunk_keys(storage, owner, upload.id)) == 1
    resumed = upload_progress.upload_status(session=session, owner_id=owner.id,
                                            upload_id=upload.id)
    assert resumed.received == 1000
    send(session, storage, owner, upload.id, 1000, data[1000:2000], tmp_path)
    send(session, storage, owner, upload.id, 2000, data[2000:], tmp_path)
    incoming, sha256 = upload_completion.assemble(
        session=session, storage=storage, owner_id=owner.id, upload_id=upload.id,
        spool_dir=tmp_path / "spool", max_bytes=MAX,
    )
    assert incoming.path.read_bytes() == data
    incoming.discard()


def test_an_object_left_by_a_lost_commit_is_replaced(session, storage, owner, tmp_path):
    data = os.urandom(2000)
    upload = begin(session, owner, len(data))
    # An attempt stored the object and died before its UPDATE; the client then chunked
    # differently, so the bytes there are not the ones sent now.
    key = upload_receiving.chunk_key(owner.id, upload.id, 0)
    storage.put_bytes(key, b"stale" * 100)
    assert send(session, storage, owner, upload.id, 0, data[:1000], tmp_path) == 1000
    with storage.open(key) as stored:
        assert stored.read() == data[:1000]


def test_the_same_bytes_left_by_a_lost_commit_are_kept(session, storage, owner, tmp_path):
    data = os.urandom(2000)
    upload = begin(session, owner, len(data))
    key = upload_receiving.chunk_key(owner.id, upload.id, 0)
    storage.put_bytes(key, data[:1000])
    written = storage.modified(key)
    time.sleep(0.01)
    assert send(session, storage, owner, upload.id, 0, data[:1000], tmp_path) == 1000
    assert storage.modified(key) == written


class RacingStorage(LocalStorage):
    """Runs `before_put` once, just before the first chunk put (another request's turn).

    Like GcsStorage when `same_bytes_ok`: a create-only put finding the same bytes succeeds.
    """

    before_put = None
    same_bytes_ok = False

    def put_file(self, key, source):
        hook, self.before_put = self.before_put, None
        if hook:
            hook()
        try:
            super().put_file(key, source)
        except ObjectExists:
            if not (self.same_bytes_ok and self.path_of(key).read_bytes() == source.read_bytes()):
                raise


@pytest.fixture(params=["local", "gcs-like"])
def racing(request, tmp_path):
    store = RacingStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    store.same_bytes_ok = request.param == "gcs-like"
    return store


def commit_directly(session, upload_id, storage, key, data):
    storage.put_bytes(key, data)
    session.execute(sa.update(Upload).where(Upload.id == upload_id)
                    .values(received_bytes=len(data)))
    session.commit()


def test_a_request_that_loses_the_race_with_the_same_chunk_keeps_the_winners(
        session, racing, owner, tmp_path):
    data = os.urandom(2000)
    upload = begin(session, owner, len(data))
    key = upload_receiving.chunk_key(owner.id, upload.id, 0)
    racing.before_put = lambda: commit_directly(session, upload.id, racing, key, data[:1000])
    with pytest.raises(OffsetMismatch) as mismatch:
        send(session, racing, owner, upload.id, 0, data[:1000], tmp_path)
    assert mismatch.value.received == 1000
    with racing.open(key) as stored:
        assert stored.read() == data[:1000]


def test_a_request_that_loses_to_a_cancel_removes_what_it_wrote(session, racing, owner,
                                                                 tmp_path):
    upload = begin(session, owner, 2000)

    def cancel():
        session.execute(sa.delete(Upload).where(Upload.id == upload.id))
        session.commit()

    racing.before_put = cancel
    with pytest.raises(UploadNotFound):
        send(session, racing, owner, upload.id, 0, b"x" * 1000, tmp_path)
    assert chunk_keys(racing, owner, upload.id) == []


def test_a_lost_chunk_rewinds_the_upload_to_it(session, storage, owner, tmp_path):
    data = os.urandom(3000)
    upload = begin(session, owner, len(data))
    send_all(session, storage, owner, upload.id, data, tmp_path)
    storage.delete(upload_receiving.chunk_key(owner.id, upload.id, 1000))
    with pytest.raises(UploadIncomplete) as incomplete:
        upload_completion.assemble(session=session, storage=storage, owner_id=owner.id,
                                 upload_id=upload.id, spool_dir=tmp_path / "spool",
                                 max_bytes=MAX)
    assert incomplete.value.received == 1000
    assert session.get(Upload, upload.id).received_bytes == 1000
    assert len(chunk_keys(storage, owner, upload.id)) == 1
    send(session, storage, owner, upload.id, 1000, data[1000:2000], tmp_path)
    send(session, storage, owner, upload.id, 2000, data[2000:], tmp_path)
    incoming, _ = upload_completion.assemble(
        session=session, storage=storage, owner_id=owner.id, upload_id=upload.id,
        spool_dir=tmp_path / "spool", max_bytes=MAX)
    assert incoming.path.read_bytes() == data
    incoming.discard()


def test_a_chunk_of_the_wrong_size_rewinds_the_upload_to_it(session, storage, owner,
                                                            tmp_path):
    data = os.urandom(3000)
    upload = begin(session, owner, len(data))
    send_all(session, storage, owner, upload.id, data, tmp_path)
    key = upload_receiving.chunk_key(owner.id, upload.id, 1000)
    storage.delete(key)
    storage.put_bytes(key, data[1000:2100])
    with pytest.raises(UploadIncomplete) as incomplete:
        upload_completion.assemble(session=session, storage=storage, owner_id=owner.id,
                                 upload_id=upload.id, spool_dir=tmp_path / "spool",
                                 max_bytes=MAX)
    assert incomplete.value.received == 1000
    assert spooled(tmp_path) == []


def test_someone_elses_upload_is_not_found(session, storage, owner, tmp_path):
    upload = begin(session, owner, 2000)
    send(session, storage, owner, upload.id, 0, b"x" * 1000, tmp_path)
    other = identity.provision_user(session=session, email="bob@example.com")
    with pytest.raises(UploadNotFound):
        upload_progress.upload_status(session=session, owner_id=other.id, upload_id=upload.id)
    with pytest.raises(UploadNotFound):
        send(session, storage, other, upload.id, 1000, b"y" * 1000, tmp_path)
    with pytest.raises(UploadNotFound):
        complete(session, storage, other, upload.id, tmp_path)
    assert not upload_receiving.cancel_upload(session=session, storage=storage,
                                             owner_id=other.id, upload_id=upload.id)
    assert session.get(Upload, upload.id) is not None
    assert len(chunk_keys(storage, owner, upload.id)) == 1


def test_cancel_removes_chunks_and_row_and_is_idempotent(session, storage, owner, tmp_path):
    upload = begin(session, owner, 2000)
    send(session, storage, owner, upload.id, 0, b"x" * 1000, tmp_path)
    assert upload_receiving.cancel_upload(session=session, storage=storage, owner_id=owner.id,
                                         upload_id=upload.id)
    assert chunk_keys(storage, owner, upload.id) == []
    assert not (storage.root / upload_receiving.chunk_prefix(owner.id, upload.id)).exists()
    assert session.get(Upload, upload.id) is None
    assert not upload_receiving.cancel_upload(session=session, storage=storage,
                                             owner_id=owner.id, upload_id=upload.id)


def test_complete_before_every_byte_arrived_says_how_far_it_is(session, storage, owner,
                                                               tmp_path):
    upload = begin(session, owner, 2000)
    send(session, storage, owner, upload.id, 0, b"x" * 1000, tmp_path)
    with pytest.raises(UploadIncomplete) as incomplete:
        complete(session, storage, owner, upload.id, tmp_path)
    assert (incomplete.value.received, incomplete.value.size) == (1000, 2000)


def test_complete_ingests_the_photo_and_the_upload_keeps_the_outcome(session, storage, owner,
                                                                     tmp_path):
    data = images.jpeg(size=(1200, 800))
    upload = begin(session, owner, len(data), name="beach.jpg")
    send_all(session, storage, owner, upload.id, data, tmp_path, chunk_bytes=4096)
    result = complete(session, storage, owner, upload.id, tmp_path)
    assert (result.status, result.message) == (UploadStatus.ADDED, "added")
    photo = session.get(Photo, result.photo_id)
    assert photo.filename == result.photo_filename == "beach.jpg"
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    with storage.open(object_keys.original_key(owner.id, photo.id, "jpg")) as original:
        assert original.read() == data
    row = session.get(Upload, upload.id)
    assert (row.status, row.photo_id) == ("added", photo.id)
    assert list(storage.list("incoming")) == []
    assert spooled(tmp_path) == []
    # Completing again (a lost answer retried) answers the same outcome and adds nothing.
    again = complete(session, storage, owner, upload.id, tmp_path)
    assert (again.status, again.photo_id) == (UploadStatus.ADDED, photo.id)
    assert len(session.exec(select(Photo)).all()) == 1


class CountedStorage(LocalStorage):
    """Local storage that counts the calls a remote store would answer one by one."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def list(self, prefix):  # noqa: ANN001, ANN201
        self.calls.append("list")
        return super().list(prefix)

    def sizes(self, prefix):  # noqa: ANN001, ANN201
        self.calls.append("sizes")
        return {key: self.path_of(key).stat().st_size for key in super().list(prefix)}

    def size(self, key):  # noqa: ANN001, ANN201
        self.calls.append("size")
        return super().size(key)


def test_completing_lists_the_chunks_once(session, owner, tmp_path):
    storage = CountedStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    data = images.jpeg(size=(1200, 800))
    upload = begin(session, owner, len(data), name="beach.jpg")
    send_all(session, storage, owner, upload.id, data, tmp_path, chunk_bytes=4096)
    storage.calls.clear()
    assert complete(session, storage, owner, upload.id, tmp_path).status is UploadStatus.ADDED
    # One listing with the sizes tells the gaps, the order and what to remove afterwards.
    assert storage.calls == ["sizes"]
    assert list(LocalStorage.list(storage, "incoming")) == []


def test_a_refused_file_removes_the_upload_too(session, storage, owner, tmp_path):
    upload = begin(session, owner, 3000, name="notes.jpg")
    send_all(session, storage, owner, upload.id, os.urandom(3000), tmp_path)
    result = complete(session, storage, owner, upload.id, tmp_path)
    assert result.status is UploadStatus.REJECTED
    assert result.message.startswith("not a supported image")
    assert session.get(Upload, upload.id).status == "rejected"
    assert list(storage.list("incoming")) == []


def test_a_collision_keeps_the_upload_until_the_person_chooses(session, storage, owner,
                                                               tmp_path, monkeypatch):
    data = images.jpeg(size=(600, 400))
    upload = begin(session, owner, len(data))
    send_all(session, storage, owner, upload.id, data, tmp_path, chunk_bytes=4096)
    calls = []
    real_ingest = ingest.ingest

    def fake_ingest(**kwargs):
        calls.append((kwargs["on_collision"], kwargs["decision_seconds"],
                      kwargs["upload"].path.read_bytes(), kwargs["sha256"]))
        if kwargs["on_collision"] is models.CollisionChoice.ASK:
            kwargs["upload"].discard()
            return ingest.IngestResult(ingest.IngestStatus.COLLISION, "name taken",
                                       uuid.uuid4(), "photo.jpg")
        return real_ingest(**kwargs)

    monkeypatch.setattr(ingest, "ingest", fake_ingest)
    asked = complete(session, storage, owner, upload.id, tmp_path, choice=None)
    assert asked.status is UploadStatus.NEEDS_DECISION
    row = session.get(Upload, upload.id)
    assert row.asked_at is not None and row.photo_filename == "photo.jpg"
    assert len(chunk_keys(storage, owner, upload.id)) > 1
    assert spooled(tmp_path) == []
    assert [e.outcome for e in session.exec(select(CollisionEvent)).all()] == ["detected"]

    # The person decides 2.5 s after the collision was shown; nothing else says how long.
    upload_decisions.decide(session=session, storage=storage, owner_id=owner.id,
                            upload_id=upload.id, choice=models.CollisionChoice.KEEP_BOTH,
                            now=models.as_utc(row.asked_at) + timedelta(seconds=2.5))
    chosen = complete(session, storage, owner, upload.id, tmp_path, choice=None)
    assert chosen.status is UploadStatus.ADDED
    assert [(c[0], c[1]) for c in calls] == [(models.CollisionChoice.ASK, None),
                                            (models.CollisionChoice.KEEP_BOTH, 2.5)]
    assert all(c[2] == data and c[3] == hashlib.sha256(data).hexdigest() for c in calls)
    assert session.get(Upload, upload.id).decision_seconds == 2.5
    assert list(storage.list("incoming")) == []


def test_a_failing_ingest_keeps_the_chunks_for_a_retry(session, storage, owner, tmp_path,
                                                       monkeypatch):
    data = images.jpeg(size=(600, 400))
    upload = begin(session, owner, len(data))
    send_all(session, storage, owner, upload.id, data, tmp_path, chunk_bytes=4096)
    real_ingest = ingest.ingest

    def failing(**kwargs):
        kwargs["upload"].discard()
        raise OSError("storage is down")

    monkeypatch.setattr(ingest, "ingest", failing)
    with pytest.raises(OSError):
        complete(session, storage, owner, upload.id, tmp_path)
    row = session.get(Upload, upload.id)
    assert (row.received_bytes, row.status) == (len(data), "uploading")
    monkeypatch.setattr(ingest, "ingest", real_ingest)
    assert complete(session, storage, owner, upload.id, tmp_path).status is UploadStatus.ADDED


def age_object(storage, key, hours):
    past = time.time() - hours * 3600
    os.utime(storage.path_of(key), (past, past))


def test_sweep_removes_what_unfinished_uploads_left(session, storage, owner, tmp_path):
    live = begin(session, owner, 2000)
    send(session, storage, owner, live.id, 0, b"l" * 1000, tmp_path)
    stale = begin(session, owner, 2000)
    send(session, storage, owner, stale.id, 0, b"s" * 1000, tmp_path)
    session.execute(sa.update(Upload).where(Upload.id == stale.id)
                    .values(updated_at=utcnow() - timedelta(hours=25)))
    session.commit()
    orphan = upload_receiving.chunk_key(owner.id, uuid.uuid4(), 0)
    storage.put_bytes(orphan, b"o")
    age_object(storage, orphan, 1)
    young_orphan = upload_receiving.chunk_key(owner.id, uuid.uuid4(), 0)
    storage.put_bytes(young_orphan, b"y")
    # A chunk stored under another owner's id than the upload's is no chunk of it.
    foreign = upload_receiving.chunk_key(uuid.uuid4(), live.id, 1000)
    storage.put_bytes(foreign, b"f")
    age_object(storage, foreign, 1)
    spool = tmp_path / "spool"
    spool.mkdir(exist_ok=True)
    left_over, in_use = spool / "upload-killed.part", spool / "upload-busy.part"
    left_over.write_bytes(b"x")
    in_use.write_bytes(b"y")
    os.utime(left_over, (time.time() - 7200, time.time() - 7200))

    report = upload_sweep.sweep(session=session, storage=storage, spool_dir=spool, fix=False)
    assert report.stale_uploads == [stale.id]
    assert sorted(report.orphan_chunks) == sorted([orphan, foreign])
    assert report.stale_spool_files == [left_over]
    assert session.get(Upload, stale.id) is not None and storage.exists(orphan)
    assert left_over.exists()

    report = upload_sweep.sweep(session=session, storage=storage, spool_dir=spool, fix=True)
    assert not report.clean
    assert session.get(Upload, stale.id) is None
    assert chunk_keys(storage, owner, stale.id) == []
    assert not storage.exists(orphan) and not storage.exists(foreign)
    assert storage.exists(young_orphan)
    assert not left_over.exists() and in_use.exists()
    assert session.get(Upload, live.id).received_bytes == 1000
    assert len(chunk_keys(storage, owner, live.id)) == 1
    assert upload_sweep.sweep(session=session, storage=storage, spool_dir=spool,
                                 fix=False).clean


def test_quota_message_is_shared_with_ingest(session, owner):
    owner = session.get(User, owner.id)
    owner.quota_bytes, owner.used_bytes = 2_000_000, 1_500_000
    assert quota.quota_message(owner, 600_000) == (
        "your library is full: 1.5 MB of 2 MB used, and this photo needs 600 KB"
    )
