import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from imgstream import models, presentation
from imgstream.models import Photo, Rendition, User
from imgstream.services import identity, imaging, ingest, renditions, timeline
from imgstream.services.spooling import IncomingFile
from tests import images


def receive(tmp_path, data: bytes, name="photo.jpg") -> tuple[IncomingFile, str]:
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "incoming", max_bytes=10**8)
    incoming.write(data)
    return incoming, incoming.finish()


def add_photo(session, storage, owner, tmp_path, data, name="photo.jpg"):
    incoming, sha = receive(tmp_path, data, name)
    result = ingest.ingest(
        session=session, storage=storage, owner=owner, upload=incoming, sha256=sha,
        thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )
    assert not incoming.path.exists(), "the temporary file is always removed"
    return result


def test_ingest_stores_original_thumbnail_and_row(session, storage, owner, tmp_path):
    data = images.jpeg(size=(1200, 800), date_original="2021:05:01 10:30:00")
    result = add_photo(session, storage, owner, tmp_path, data, "beach.jpg")

    assert result.status is ingest.IngestStatus.ADDED
    photo = session.get(Photo, result.photo_id)
    assert photo.filename == "beach.jpg"
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height, photo.size_bytes) == (1200, 800, len(data))
    assert models.as_utc(photo.taken_at) == datetime(2021, 5, 1, 10, 30, tzinfo=UTC)
    assert photo.taken_at_source == "exif_original"
    with storage.open(f"photos/{owner.id}/{photo.id}.jpg") as fh:
        assert fh.read() == data
    assert storage.exists(f"thumbnails/{owner.id}/{photo.id}_thumb.webp")
    session.refresh(owner)
    assert owner.used_bytes > len(data)


def stored_renditions(session, photo_id) -> dict[str, Rendition]:
    rows = session.exec(select(Rendition).where(Rendition.photo_id == photo_id)).all()
    return {row.kind: row for row in rows}


def test_ingest_records_thumbnail_and_preview_renditions(session, storage, owner, tmp_path):
    data = images.encode(images.photo_like((3000, 2000)), "JPEG", quality=85)
    result = add_photo(session, storage, owner, tmp_path, data, "wide.jpg")
    photo = session.get(Photo, result.photo_id)
    rows = stored_renditions(session, photo.id)
    assert set(rows) == {"thumb", "preview"}
    thumb, preview = rows["thumb"], rows["preview"]
    assert thumb.key == f"thumbnails/{owner.id}/{photo.id}_thumb.webp"
    assert (thumb.width, thumb.height, thumb.format) == (400, 267, "WEBP")
    assert preview.key == f"previews/{owner.id}/{photo.id}_preview.jpg"
    assert (preview.width, preview.height, preview.format) == (1440, 960, "JPEG")
    for row in rows.values():
        with storage.open(row.key) as fh:
            assert len(fh.read()) == row.size_bytes
    session.refresh(owner)
    assert owner.used_bytes == len(data) + thumb.size_bytes + preview.size_bytes
    assert photo.thumbhash and imaging.placeholder_data_url(photo.thumbhash)


def test_small_jpeg_is_its_own_preview(session, storage, owner, tmp_path):
    data = images.jpeg(size=(800, 600))
    result = add_photo(session, storage, owner, tmp_path, data, "small.jpg")
    preview = stored_renditions(session, result.photo_id)["preview"]
    assert preview.key == f"photos/{owner.id}/{result.photo_id}.jpg"
    assert (preview.width, preview.height, preview.size_bytes) == (800, 600, len(data))
    assert list(storage.list("previews")) == []


def test_heic_gets_a_jpeg_preview_and_keeps_its_original(session, storage, owner, tmp_path):
    data = images.heic(images.photo_like((1200, 800)), exif=images.exif_bytes(
        date_original="2024:06:01 18:30:00", offset_original="-04:00", make="Apple",
        model="iPhone 15 Pro", lens="iPhone 15 Pro back triple camera 6.86mm f/1.78",
        focal_length=6.86, f_number=1.78, iso=64, gps=(40.6892, -74.0445),
    ))
    result = add_photo(session, storage, owner, tmp_path, data, "IMG_0001.HEIC")
    photo = session.get(Photo, result.photo_id)
    assert (photo.format, photo.mime) == ("HEIC", "image/heic")
    with storage.open(f"photos/{owner.id}/{photo.id}.heic") as fh:
        assert fh.read() == data
    preview = stored_renditions(session, photo.id)["preview"]
    assert preview.key == f"previews/{owner.id}/{photo.id}_preview.jpg"
    assert (preview.width, preview.height) == (1200, 800)
    assert models.as_utc(photo.taken_at) == datetime(2024, 6, 1, 22, 30, tzinfo=UTC)
    assert photo.taken_at_offset_minutes == -240
    assert presentation.taken_at_local(photo).strftime("%Y-%m-%d %H:%M") == "2024-06-01 18:30"
    assert presentation.utc_offset_label(photo) == "UTC-04:00"
    assert presentation.camera_label(photo) == "Apple iPhone 15 Pro"
    assert presentation.exposure_label(photo) == "ƒ/1.78 · 6.86 mm · ISO 64"
    assert presentation.location_label(photo) == "40.68920° N, 74.04450° W"


@pytest.mark.parametrize(
    ("make", "model", "label"),
    [("Canon", "Canon EOS R5", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON Z 9", "NIKON Z 9"),
     ("Apple", "iPhone 15", "Apple iPhone 15"), (None, "X100V", "X100V"), ("Sony", None, "Sony"),
     (None, None, "")],
)
def test_camera_label_does_not_repeat_the_make(make, model, label):
    assert presentation.camera_label(Photo(camera_make=make, camera_model=model)) == label


def test_exposure_label():
    photo = Photo(f_number=2.8, exposure_time_s=1 / 250, focal_length_mm=35.0, iso=200)
    assert presentation.exposure_label(photo) == "ƒ/2.8 · 1/250 s · 35 mm · ISO 200"
    assert presentation.exposure_label(Photo(exposure_time_s=2.5)) == "2.5 s"
    assert presentation.exposure_label(Photo()) == ""


def make_legacy(session, storage, photo_id) -> None:
    """Turn a photo into one stored before renditions: rows, preview and placeholder gone."""
    for row in session.exec(select(Rendition).where(Rendition.photo_id == photo_id)):
        if row.kind == "preview" and row.key.startswith("previews/"):
            storage.delete(row.key)
        session.delete(row)
    photo = session.get(Photo, photo_id)
    photo.thumbhash = None
    photo.camera_make = None
    session.add(photo)
    session.commit()


def regenerate(session, storage, tmp_path):
    return renditions.regenerate_renditions(
        session=session, storage=storage, spool_dir=tmp_path / "spool",
        thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )


def test_regeneration_gives_older_photos_their_renditions(session, storage, owner, tmp_path):
    big = add_photo(session, storage, owner, tmp_path,
                 images.encode(images.photo_like((2000, 1500)), "JPEG",
                               exif=images.exif_bytes(make="Canon", model="Canon EOS R5")),
                 "big.jpg")
    small = add_photo(session, storage, owner, tmp_path, images.jpeg(size=(300, 200)), "small.jpg")
    done = add_photo(session, storage, owner, tmp_path, images.png(), "done.png")
    thumb_key = f"thumbnails/{owner.id}/{big.photo_id}_thumb.webp"
    with storage.open(thumb_key) as fh:
        old_thumbnail = fh.read()
    make_legacy(session, storage, big.photo_id)
    make_legacy(session, storage, small.photo_id)
    session.refresh(owner)
    used_before = owner.used_bytes

    report = regenerate(session, storage, tmp_path)

    assert report == renditions.RegenerationReport(photos=2, written=1, failed=0)
    rows = stored_renditions(session, big.photo_id)
    assert set(rows) == {"thumb", "preview"}
    assert rows["thumb"].key == thumb_key and rows["thumb"].size_bytes == len(old_thumbnail)
    with storage.open(thumb_key) as fh:
        assert fh.read() == old_thumbnail, "a thumbnail already stored is kept"
    assert (rows["preview"].width, rows["preview"].height) == (1440, 1080)
    assert storage.exists(rows["preview"].key)
    photo = session.get(Photo, big.photo_id)
    assert photo.thumbhash and photo.camera_make == "Canon"
    assert stored_renditions(session, small.photo_id)["preview"].key.startswith("photos/")
    assert set(stored_renditions(session, done.photo_id)) == {"thumb", "preview"}
    session.refresh(owner)
    assert owner.used_bytes == used_before + rows["preview"].size_bytes

    assert regenerate(session, storage, tmp_path) == renditions.RegenerationReport(0, 0, 0)
    assert list((tmp_path / "spool").iterdir()) == []


def test_regeneration_reports_a_photo_whose_original_is_gone(session, storage, owner, tmp_path):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(), "lost.jpg")
    make_legacy(session, storage, result.photo_id)
    storage.delete(f"photos/{owner.id}/{result.photo_id}.jpg")
    assert regenerate(session, storage, tmp_path) == renditions.RegenerationReport(1, 0, 1)
    assert stored_renditions(session, result.photo_id) == {}


def test_detail_image_falls_back_without_renditions(session, storage, owner, tmp_path):
    jpeg = add_photo(session, storage, owner, tmp_path, images.jpeg(), "a.jpg")
    heic = add_photo(session, storage, owner, tmp_path, images.heic(images.marked()), "b.heic")
    jpeg_photo, heic_photo = session.get(Photo, jpeg.photo_id), session.get(Photo, heic.photo_id)
    assert renditions.preview_of(jpeg_photo, None) == f"photos/{owner.id}/{jpeg.photo_id}.jpg"
    assert renditions.preview_of(heic_photo, None) == (
        f"thumbnails/{owner.id}/{heic.photo_id}_thumb.webp"
    )


def test_no_date_falls_back_to_upload_time(session, storage, owner, tmp_path):
    before = datetime.now(UTC)
    result = add_photo(session, storage, owner, tmp_path, images.png(), "screenshot.png")
    photo = session.get(Photo, result.photo_id)
    assert photo.taken_at_source == "upload_time"
    assert models.as_utc(photo.taken_at) >= before.replace(microsecond=0)
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
    result = add_photo(session, storage, owner, tmp_path, data, "bad.jpg")
    assert result.status is ingest.IngestStatus.REJECTED
    assert message in result.message
    assert session.exec(select(Photo)).all() == []
    assert list(storage.list("")) == []
    assert list((tmp_path / "incoming").iterdir()) == []
    session.refresh(owner)
    assert owner.used_bytes == 0


def test_same_bytes_twice_are_not_stored_again(session, storage, owner, tmp_path):
    data = images.jpeg()
    first = add_photo(session, storage, owner, tmp_path, data, "one.jpg")
    second = add_photo(session, storage, owner, tmp_path, data, "two.jpg")
    assert second.status is ingest.IngestStatus.DUPLICATE
    assert second.photo_id == first.photo_id
    assert "one.jpg" in second.message
    assert len(list(storage.list("photos"))) == 1


@pytest.mark.parametrize("failing_write", [1, 2])
def test_a_failed_write_removes_what_was_written(session, storage, owner, tmp_path, monkeypatch,
                                                 failing_write):
    real = storage.put_bytes
    writes = []

    def put_bytes(key, data):
        writes.append(key)
        if len(writes) == failing_write:
            raise OSError(28, "No space left on device")
        real(key, data)

    monkeypatch.setattr(storage, "put_bytes", put_bytes)
    data = images.encode(images.photo_like((2000, 1500)), "JPEG")
    with pytest.raises(OSError):
        add_photo(session, storage, owner, tmp_path, data, "a.jpg")
    assert list(storage.list("")) == []
    assert session.exec(select(Photo)).all() == []
    assert session.exec(select(Rendition)).all() == []


def test_timeline_is_newest_first_with_keyset_pages(session, storage, owner, tmp_path):
    dates = ["2020:01:01 00:00:00", "2022:06:01 12:00:00", "2021:03:03 03:03:03"] * 2
    for i, date in enumerate(dates):
        add_photo(session, storage, owner, tmp_path,
               images.jpeg(date_original=date, color=(i * 40, 0, 0)), f"{i}.jpg")

    seen = []
    cursor = None
    while True:
        page = timeline.timeline_page(session=session, owner_id=owner.id, limit=4, after=cursor)
        seen.extend(page.photos)
        if page.next_cursor is None:
            break
        cursor = timeline.PageCursor.decode(page.next_cursor.encode())
    keys = [(models.as_utc(p.taken_at), p.id) for p in seen]
    assert keys == sorted(keys, reverse=True)
    assert len({p.id for p in seen}) == 6
    assert {p.filename for p in seen[:2]} == {"1.jpg", "4.jpg"}


def test_timeline_and_detail_are_scoped_to_the_owner(session, storage, owner, tmp_path):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(), "mine.jpg")
    other = identity.provision_user(session=session, email="bob@example.com")
    page = timeline.timeline_page(session=session, owner_id=other.id, limit=10)
    assert page.photos == []
    assert timeline.get_photo(session=session, owner_id=other.id, photo_id=result.photo_id) is None
    assert timeline.get_photo(session=session, owner_id=owner.id, photo_id=result.photo_id)


@pytest.mark.parametrize("token", ["", "garbage", "W10=", "WyJ4IiwgInkiXQ=="])
def test_malformed_cursor_is_ignored(token):
    assert timeline.PageCursor.decode(token) is None


def test_provisioning_is_idempotent(session):
    a = identity.provision_user(session=session, email="Ada@Example.com")
    b = identity.provision_user(session=session, email="ada@example.com")
    assert a.id == b.id
    assert len(session.exec(select(User)).all()) == 1


def needed_bytes(session, storage, tmp_path, data) -> int:
    """What storing these bytes costs, measured on a user of its own."""
    probe = identity.provision_user(session=session, email=f"{uuid.uuid4().hex}@example.com")
    add_photo(session, storage, probe, tmp_path, data, "probe.jpg")
    session.refresh(probe)
    return probe.used_bytes


def test_quota_exactly_full_is_accepted_one_byte_less_is_refused(session, storage, tmp_path):
    data = images.jpeg(size=(800, 600), color=(10, 200, 90))
    needed = needed_bytes(session, storage, tmp_path, data)
    exact = identity.provision_user(session=session, email="exact@example.com")
    exact.quota_bytes = needed
    tight = identity.provision_user(session=session, email="tight@example.com")
    tight.quota_bytes = needed - 1
    session.commit()
    blobs_before = sorted(storage.list(""))

    assert add_photo(session, storage, exact, tmp_path, data, "a.jpg").status is (
        ingest.IngestStatus.ADDED)
    session.refresh(exact)
    assert exact.used_bytes == exact.quota_bytes

    refused = add_photo(session, storage, tight, tmp_path, data, "a.jpg")
    assert refused.status is ingest.IngestStatus.REJECTED
    assert refused.message.startswith("your library is full: 0 bytes of ")
    assert "this photo needs" in refused.message
    session.refresh(tight)
    assert tight.used_bytes == 0
    assert session.exec(select(Photo).where(Photo.owner_id == tight.id)).all() == []
    new_blobs = set(storage.list("")) - set(blobs_before)
    assert new_blobs and all(f"/{exact.id}/" in key for key in new_blobs)


def test_a_full_library_refuses_before_decoding(session, storage, owner, tmp_path, monkeypatch):
    owner.quota_bytes = 10
    session.commit()

    def must_not_decode(*args, **kwargs):
        raise AssertionError("decoded a file that cannot fit")

    monkeypatch.setattr(imaging, "analyse", must_not_decode)
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(), "big.jpg")
    assert result.status is ingest.IngestStatus.REJECTED
    assert "your library is full" in result.message


@pytest.mark.parametrize(
    ("first", "second", "kept_as"),
    [
        ("photo.jpg", "photo.jpg", "photo (1).jpg"),
        ("IMG_1.JPG", "img_1.jpeg", "img_1 (1).jpeg"),
        ("caf\u00e9.jpg", "cafe\u0301.jpg", "caf\u00e9 (1).jpg"),
        ("50%_off.png", "50%_off.png", "50%_off (1).png"),
    ],
)
def test_a_second_photo_with_the_same_name_is_kept_as_both(session, storage, owner, tmp_path,
                                                          first, second, kept_as):
    one = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 3)), first)
    two = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(200, 2, 3)), second)
    assert one.message == "added"
    assert two.status is ingest.IngestStatus.KEPT_BOTH
    assert two.message == f"kept both: added as {kept_as}"
    assert two.filename == kept_as
    assert session.get(Photo, two.photo_id).filename == kept_as


def test_keep_both_numbering_continues(session, storage, owner, tmp_path):
    names = [
        session.get(Photo, add_photo(session, storage, owner, tmp_path,
                                  images.jpeg(color=(i * 30, 9, 9)), "same.jpg").photo_id).filename
        for i in range(4)
    ]
    assert names == ["same.jpg", "same (1).jpg", "same (2).jpg", "same (3).jpg"]


def test_names_are_per_owner(session, storage, owner, tmp_path):
    other = identity.provision_user(session=session, email="nora@example.com")
    add_photo(session, storage, owner, tmp_path, images.jpeg(color=(5, 5, 5)), "a.jpg")
    result = add_photo(session, storage, other, tmp_path, images.jpeg(color=(6, 6, 6)), "a.jpg")
    assert result.message == "added"
