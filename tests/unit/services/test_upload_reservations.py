"""Unfinished uploads hold their announced size against the quota (U-26, F-07)."""

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from imgstream.models import Upload, User, utcnow
from imgstream.services import upload_receiving, upload_sweep
from imgstream.services.upload_receiving import UploadRefused
from tests import aio, images
from tests.db import sessions_like
from tests.unit.services.test_chunked_uploads import begin, complete, send_all


def reserved(session, owner):
    session.expire_all()
    return session.get(User, owner.id).reserved_bytes


def with_quota(session, owner, quota, used=0):
    owner.quota_bytes, owner.used_bytes = quota, used
    session.add(owner)
    session.commit()


def test_u26_announced_sizes_count_against_the_quota(session, owner):
    with_quota(session, owner, quota=1024**3, used=4_400_000)
    accepted, refused = [], []
    for i in range(200):
        try:
            accepted.append(begin(session, owner, 100_000_000, name=f"{i}.jpg"))
        except UploadRefused as exc:
            refused.append(exc)
    assert len(accepted) == 10 and len(refused) == 190
    assert reserved(session, owner) == 10 * 100_000_000
    assert refused[0].too_large and not refused[0].too_many
    assert refused[0].message == ("your library is full: 4.4 MB of 1.1 GB used, 1 GB held by "
                                  "unfinished uploads, and this photo needs 100 MB")


def test_cancelling_gives_the_reservation_back_once(session, storage, owner):
    first = begin(session, owner, 5000)
    second = begin(session, owner, 7000)
    assert reserved(session, owner) == 12_000
    for _attempt in range(2):
        upload_receiving.cancel_upload(session=session, storage=storage, owner_id=owner.id,
                                      upload_id=first.id)
    assert reserved(session, owner) == 7000
    upload_receiving.cancel_upload(session=session, storage=storage, owner_id=owner.id,
                                  upload_id=second.id)
    assert reserved(session, owner) == 0


def test_completing_turns_the_reservation_into_used_bytes(session, storage, owner, tmp_path):
    data = images.jpeg(size=(300, 200))
    upload = begin(session, owner, len(data))
    assert reserved(session, owner) == len(data)
    send_all(session, storage, owner, upload.id, data, tmp_path)
    result = complete(session, storage, owner, upload.id, tmp_path)
    assert result.status.value == "added"
    assert reserved(session, owner) == 0
    assert session.get(User, owner.id).used_bytes > len(data)


def test_a_full_quota_can_still_finish_what_it_reserved(session, storage, owner, tmp_path):
    data = images.jpeg(size=(300, 200))
    with_quota(session, owner, quota=len(data) + 50_000)
    upload = begin(session, owner, len(data))
    with pytest.raises(UploadRefused):
        begin(session, owner, 60_000, name="other.jpg")
    send_all(session, storage, owner, upload.id, data, tmp_path)
    assert complete(session, storage, owner, upload.id, tmp_path).status.value == "added"


def test_u26_open_uploads_are_capped_per_person(session, storage, owner):
    uploads = [upload_receiving.begin_upload(session=session, owner=owner, filename=f"{i}.jpg",
                                            size=10, max_bytes=100, max_open=3)
               for i in range(3)]
    with pytest.raises(UploadRefused) as refused:
        upload_receiving.begin_upload(session=session, owner=owner, filename="4.jpg", size=10,
                                     max_bytes=100, max_open=3)
    assert refused.value.too_many
    assert refused.value.message == "you have 3 unfinished uploads: finish or cancel some first"
    assert reserved(session, owner) == 30
    upload_receiving.cancel_upload(session=session, storage=storage, owner_id=owner.id,
                                  upload_id=uploads[0].id)
    upload_receiving.begin_upload(session=session, owner=owner, filename="4.jpg", size=10,
                                 max_bytes=100, max_open=3)


def test_u26_expired_uploads_give_their_reservation_back(session, storage, owner, tmp_path):
    stale = begin(session, owner, 3000)
    fresh = begin(session, owner, 4000)
    session.execute(sa.update(Upload).where(Upload.id == stale.id)
                    .values(updated_at=utcnow() - timedelta(hours=25)))
    session.commit()
    report = upload_sweep.sweep(session=session, storage=storage, spool_dir=None, fix=True)
    assert report.stale_uploads == [stale.id]
    assert reserved(session, owner) == 4000
    assert session.get(Upload, fresh.id) is not None


def test_u26_the_app_sweeps_on_a_schedule(session, storage, owner, caplog):
    stale = begin(session, owner, 3000)
    session.execute(sa.update(Upload).where(Upload.id == stale.id)
                    .values(updated_at=utcnow() - timedelta(hours=2)))
    session.commit()
    calls = []

    def flaky_storage():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("store unreachable")
        return storage

    async def run_for_a_while():
        task = asyncio.create_task(upload_sweep.sweep_on_schedule(
            sessions=sessions_like(session), storage=flaky_storage, spool_dir=None,
            every=timedelta(seconds=0.05), expiry=timedelta(hours=1)))
        for _tick in range(100):
            await asyncio.sleep(0.05)
            if len(calls) >= 3:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    aio.run(run_for_a_while())
    assert len(calls) >= 3, "the sweep kept running after a failure"
    assert "sweeping expired uploads failed" in caplog.text
    assert reserved(session, owner) == 0
    assert session.get(Upload, stale.id) is None
