import os
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from imgstream import cli, config
from imgstream.cli import admin
from imgstream.models import Photo, Rendition, Upload, User, utcnow
from imgstream.services import object_keys, renditions, trash, upload_receiving
from imgstream.services.reconcile import reconcile
from tests import aio, images
from tests.db import sessions_like
from tests.unit.services.test_ingest import add_photo


def age(storage, key, minutes):
    past = time.time() - minutes * 60
    os.utime(storage.path_of(key), (past, past))


def library(session, storage, owner, tmp_path, count):
    return [
        add_photo(session, storage, owner, tmp_path,
               images.jpeg(size=(1800, 1200), color=(i * 40, 100, 50)), f"{i}.jpg").photo_id
        for i in range(count)
    ]


def test_a_consistent_library_is_clean(session, storage, owner, tmp_path):
    library(session, storage, owner, tmp_path, 2)
    report = reconcile(session=session, storage=storage, fix=False)
    assert report.clean, report


def test_finds_and_repairs_every_kind_of_disagreement(session, storage, owner, tmp_path):
    kept, lost, half_purged, thumbless, trashed = library(session, storage, owner, tmp_path, 5)
    # A crash after the objects were written but before the row: an unclaimed original.
    crashed = f"photos/{owner.id}/{uuid.uuid4()}.jpg"
    storage.put_bytes(crashed, images.jpeg())
    age(storage, crashed, 60)
    # One still being ingested right now: young, left alone.
    in_flight = f"photos/{owner.id}/{uuid.uuid4()}.jpg"
    storage.put_bytes(in_flight, images.jpeg())
    # An original lost from storage.
    lost_photo = session.get(Photo, lost)
    storage.delete(object_keys.original_key(owner.id, lost, object_keys.extension_of(lost_photo)))
    # A purge (delete forever) that stopped after removing the original, before the row.
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=half_purged)
    half = session.get(Photo, half_purged)
    storage.delete(object_keys.original_key(owner.id, half_purged, object_keys.extension_of(half)))
    # A photo in the trash: nothing to repair.
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=trashed)
    # A rendition whose object is gone.
    thumb = object_keys.thumbnail_key(owner.id, thumbless)
    storage.delete(thumb)
    # Storage use that drifted.
    session.get(User, owner.id).used_bytes += 12345
    session.commit()

    report = reconcile(session=session, storage=storage, fix=False)
    assert report.unclaimed_objects == [crashed]
    assert sorted(report.photos_missing_original) == sorted([lost, half_purged])
    assert report.renditions_missing == [thumb]
    assert len(report.usage_corrections) == 1
    assert storage.exists(crashed), "reporting changes nothing"

    fixed = reconcile(session=session, storage=storage, fix=True)
    assert fixed.fixed
    assert not storage.exists(crashed)
    assert storage.exists(in_flight)
    ids = {p.id for p in session.exec(select(Photo)).all()}
    assert ids == {kept, thumbless, trashed}
    assert trash.trashed_photo(session=session, owner_id=owner.id, photo_id=trashed)
    assert session.exec(select(Rendition).where(Rendition.key == thumb)).all() == []

    again = reconcile(session=session, storage=storage, fix=False,
                      now=utcnow() + timedelta(hours=1))
    assert again.unclaimed_objects == [in_flight]
    assert again.renditions_missing == [] and again.usage_corrections == []
    assert not again.photos_missing_original
    session.refresh(owner)
    expected = sum(sum(renditions.photo_blobs(session=session, storage=storage,
                                          photo=session.get(Photo, pid)).values())
                   for pid in ids)
    assert owner.used_bytes == expected, "photos in the trash still count"


def test_trash_is_kept_until_it_expires(session, storage, owner, tmp_path):
    kept, old, recent = library(session, storage, owner, tmp_path, 3)
    for photo_id in (old, recent):
        trash.move_to_trash(session=session, owner_id=owner.id, photo_id=photo_id)
    now = utcnow()
    session.get(Photo, old).deleted_at = now - timedelta(days=31)
    session.get(Photo, recent).deleted_at = now - timedelta(days=29)
    session.commit()
    old_keys = set(renditions.photo_blobs(session=session, storage=storage,
                                      photo=session.get(Photo, old)))

    without_expiry = reconcile(session=session, storage=storage, fix=True)
    assert without_expiry.clean and without_expiry.expired_trash == []
    assert session.get(Photo, old) is not None

    report = reconcile(session=session, storage=storage, fix=False, now=now, trash_days=30)
    assert report.expired_trash == [old]
    assert report.clean, "expired trash is routine, not a disagreement"
    assert session.get(Photo, old) is not None

    fixed = reconcile(session=session, storage=storage, fix=True, now=now, trash_days=30)
    assert fixed.expired_trash == [old]
    assert session.get(Photo, old) is None
    assert not any(storage.exists(key) for key in old_keys)
    assert {p.id for p in session.exec(select(Photo)).all()} == {kept, recent}
    after = reconcile(session=session, storage=storage, fix=False, now=now, trash_days=30)
    assert after.clean and after.expired_trash == []


@pytest.fixture
def settings_in(tmp_path, monkeypatch):
    """Settings with the data folder (and so the spool folder) under tmp_path."""
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    config.get_settings.cache_clear()
    yield config.get_settings()
    config.get_settings.cache_clear()


def test_cli_reports_and_exits_non_zero_until_fixed(session, storage, owner, tmp_path,
                                                    monkeypatch, capsys, settings_in):
    from contextlib import contextmanager

    @contextmanager
    def same_session():
        yield session

    monkeypatch.setattr(admin, "db_session", same_session)
    monkeypatch.setattr(admin, "storage", lambda: storage)
    library(session, storage, owner, tmp_path, 1)
    orphan = f"thumbnails/{owner.id}/{uuid.uuid4()}_thumb.webp"
    storage.put_bytes(orphan, b"RIFF....WEBP")
    age(storage, orphan, 60)

    assert cli.main(["admin", "reconcile"]) == 1
    assert f"object no photo refers to (found): {orphan}" in capsys.readouterr().out
    assert cli.main(["admin", "reconcile", "--fix"]) == 0
    assert cli.main(["admin", "reconcile"]) == 0
    assert "database and storage agree" in capsys.readouterr().out


def upload_with_a_chunk(session, storage, owner, tmp_path):
    upload = upload_receiving.begin_upload(session=session, owner=owner, filename="a.jpg",
                                          size=2000, max_bytes=10**8)
    aio.run(upload_receiving.receive_chunk(
        sessions=sessions_like(session), storage=storage, owner_id=owner.id,
        upload_id=upload.id, offset=0,
        body=_body(b"x" * 1000), spool_dir=tmp_path / "spool", chunk_bytes=1000,
    ))
    key = upload_receiving.chunk_key(owner.id, upload.id, 0)
    age(storage, key, 60)
    return upload, key


async def _body(data):
    yield data


def test_chunks_of_uploads_in_progress_are_not_unclaimed_objects(session, storage, owner,
                                                                  tmp_path):
    library(session, storage, owner, tmp_path, 1)
    upload_with_a_chunk(session, storage, owner, tmp_path)
    report = reconcile(session=session, storage=storage, fix=True, spool_dir=tmp_path / "spool")
    assert report.clean, report
    assert len(list(storage.list("incoming"))) == 1


def test_abandoned_uploads_orphan_chunks_and_spool_files_are_reported_and_removed(
        session, storage, owner, tmp_path):
    upload, key = upload_with_a_chunk(session, storage, owner, tmp_path)
    orphan = upload_receiving.chunk_key(owner.id, uuid.uuid4(), 0)
    storage.put_bytes(orphan, b"o")
    age(storage, orphan, 60)
    spool = tmp_path / "spool"
    left = spool / "upload-left.part"
    left.write_bytes(b"x")
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    later = utcnow() + timedelta(hours=25)

    report = reconcile(session=session, storage=storage, fix=False, spool_dir=spool, now=later)
    assert not report.clean
    assert report.uploads.stale_uploads == [upload.id]
    assert report.uploads.orphan_chunks == [orphan]
    assert report.uploads.stale_spool_files == [left]
    assert report.unclaimed_objects == []

    reconcile(session=session, storage=storage, fix=True, spool_dir=spool, now=later)
    assert session.get(Upload, upload.id) is None
    assert list(storage.list("incoming")) == []
    assert not left.exists()
    assert reconcile(session=session, storage=storage, fix=False, spool_dir=spool).clean


def test_cli_reports_abandoned_uploads(session, storage, owner, tmp_path, monkeypatch, capsys,
                                       settings_in):
    from contextlib import contextmanager

    @contextmanager
    def same_session():
        yield session

    monkeypatch.setattr(admin, "db_session", same_session)
    monkeypatch.setattr(admin, "storage", lambda: storage)
    upload, key = upload_with_a_chunk(session, storage, owner, tmp_path)
    expired = utcnow() - timedelta(hours=settings_in.upload_expiry_hours, minutes=1)
    session.execute(sa.update(Upload).values(updated_at=expired))
    session.commit()
    spool = settings_in.incoming_dir
    spool.mkdir(parents=True)
    left = spool / "upload-left.part"
    left.write_bytes(b"x")
    os.utime(left, (time.time() - 7200, time.time() - 7200))

    assert cli.main(["admin", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert f"abandoned upload (found): {upload.id}" in out
    assert f"left-over spool file (found): {left}" in out
    assert cli.main(["admin", "reconcile", "--fix"]) == 0
    assert f"abandoned upload (removed): {upload.id}" in capsys.readouterr().out
    assert not storage.exists(key) and not left.exists()
    assert cli.main(["admin", "reconcile"]) == 0
