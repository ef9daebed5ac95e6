import hashlib
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from imgstream.models import Photo, User
from imgstream.services import identity, photos
from imgstream.services.uploads import IncomingFile
from tests import images


def receive(tmp_path, data: bytes, name="photo.jpg") -> tuple[IncomingFile, str]:
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "incoming", max_bytes=10**8)
    incoming.write(data)
    return incoming, incoming.finish()


def ingest(session, storage, owner, tmp_path, data, name="photo.jpg"):
    incoming, sha = receive(tmp_path, data, name)
    result = photos.ingest(
        session=session, storage=storage, owner=owner, upload=incoming, sha256=sha,
        thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )
    assert not incoming.path.exists(), "the temporary file is always removed"
    return result


def test_ingest_stores_original_thumbnail_and_row(session, storage, owner, tmp_path):
    data = images.jpeg(size=(1200, 800), date_original="2021:05:01 10:30:00")
    result = ingest(session, storage, owner, tmp_path, data, "beach.jpg")

    assert result.status is photos.IngestStatus.ADDED
    photo = session.get(Photo, result.photo_id)
    assert photo.filename == "beach.jpg"
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height, photo.size_bytes) == (1200, 800, len(data))
    assert photos.as_utc(photo.taken_at) == datetime(2021, 5, 1, 10, 30, tzinfo=UTC)
    assert photo.taken_at_source == "exif_original"
    with storage.open(f"photos/{owner.id}/{photo.id}.jpg") as fh:
        assert fh.read() == data
    assert storage.exists(f"thumbnails/{owner.id}/{photo.id}_thumb.webp")
    session.refresh(owner)
    assert owner.used_bytes > len(data)


def test_no_date_falls_back_to_upload_time(session, storage, owner, tmp_path):
    before = datetime.now(UTC)
    result = ingest(session, storage, owner, tmp_path, images.png(), "screenshot.png")
    photo = session.get(Photo, result.photo_id)
    assert photo.taken_at_source == "upload_time"
    assert photos.as_utc(photo.taken_at) >= before.replace(microsecond=0)
    assert photo.format == "PNG"
    assert storage.exists(f"photos/{owner.id}/{photo.id}.png")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"this is a text file named .jpg", "not a supported image"),
        (images.jpeg(size=(400, 300))[:900], "not a supported image: the file is incomplete"),
    ],
)
def test_bad_files_leave_nothing_behind(session, storage, owner, tmp_path, data, message):
    result = ingest(session, storage, owner, tmp_path, data, "bad.jpg")
    assert result.status is photos.IngestStatus.REJECTED
    assert message in result.message
    assert session.exec(select(Photo)).all() == []
    assert list(storage.list("")) == []
    assert list((tmp_path / "incoming").iterdir()) == []
    session.refresh(owner)
    assert owner.used_bytes == 0


def test_same_bytes_twice_are_not_stored_again(session, storage, owner, tmp_path):
    data = images.jpeg()
    first = ingest(session, storage, owner, tmp_path, data, "one.jpg")
    second = ingest(session, storage, owner, tmp_path, data, "two.jpg")
    assert second.status is photos.IngestStatus.DUPLICATE
    assert second.photo_id == first.photo_id
    assert "one.jpg" in second.message
    assert len(list(storage.list("photos"))) == 1


def test_a_failed_write_removes_what_was_written(session, storage, owner, tmp_path, monkeypatch):
    def broken(key, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "put_bytes", broken)
    with pytest.raises(OSError):
        ingest(session, storage, owner, tmp_path, images.jpeg(), "a.jpg")
    assert list(storage.list("")) == []
    assert session.exec(select(Photo)).all() == []


def test_timeline_is_newest_first_with_keyset_pages(session, storage, owner, tmp_path):
    dates = ["2020:01:01 00:00:00", "2022:06:01 12:00:00", "2021:03:03 03:03:03"] * 2
    for i, date in enumerate(dates):
        ingest(session, storage, owner, tmp_path,
               images.jpeg(date_original=date, color=(i * 40, 0, 0)), f"{i}.jpg")

    seen = []
    cursor = None
    while True:
        page = photos.timeline_page(session=session, owner_id=owner.id, limit=4, after=cursor)
        seen.extend(page.photos)
        if page.next_cursor is None:
            break
        cursor = photos.TimelineCursor.decode(page.next_cursor.encode())
    keys = [(photos.as_utc(p.taken_at), p.id) for p in seen]
    assert keys == sorted(keys, reverse=True)
    assert len({p.id for p in seen}) == 6
    assert {p.filename for p in seen[:2]} == {"1.jpg", "4.jpg"}


def test_timeline_and_detail_are_scoped_to_the_owner(session, storage, owner, tmp_path):
    result = ingest(session, storage, owner, tmp_path, images.jpeg(), "mine.jpg")
    other = identity.provision_user(session=session, email="bob@example.com")
    page = photos.timeline_page(session=session, owner_id=other.id, limit=10)
    assert page.photos == []
    assert photos.get_photo(session=session, owner_id=other.id, photo_id=result.photo_id) is None
    assert photos.get_photo(session=session, owner_id=owner.id, photo_id=result.photo_id)


@pytest.mark.parametrize("token", ["", "garbage", "W10=", "WyJ4IiwgInkiXQ=="])
def test_malformed_cursor_is_ignored(token):
    assert photos.TimelineCursor.decode(token) is None


def test_provisioning_is_idempotent(session):
    a = identity.provision_user(session=session, email="Ada@Example.com")
    b = identity.provision_user(session=session, email="ada@example.com")
    assert a.id == b.id
    assert len(session.exec(select(User)).all()) == 1
