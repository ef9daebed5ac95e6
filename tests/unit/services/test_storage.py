import uuid

import pytest

from imgstream.services.storage import ObjectExists, ObjectMissing


def key(kind="photos", suffix=".jpg"):
    return f"{kind}/{uuid.uuid4()}/{uuid.uuid4()}{suffix}"


def test_put_open_list_delete(storage, tmp_path):
    k = key()
    source = tmp_path / "src"
    source.write_bytes(b"original bytes")
    storage.put_file(k, source)
    with storage.open(k) as fh:
        assert fh.read() == b"original bytes"
    assert storage.exists(k)
    assert list(storage.list("photos")) == [k]
    assert storage.sizes("photos") == {k: len(b"original bytes")}
    storage.delete(k)
    storage.delete(k)
    assert not storage.exists(k)
    assert storage.sizes("photos") == {}


def test_writes_are_create_only(storage):
    k = key("thumbnails", "_thumb.webp")
    storage.put_bytes(k, b"first")
    with pytest.raises(ObjectExists):
        storage.put_bytes(k, b"second")
    with storage.open(k) as fh:
        assert fh.read() == b"first"
    assert [p.name for p in storage.path_of(k).parent.iterdir()] == [storage.path_of(k).name]


@pytest.mark.parametrize(
    "bad", ["../secret.key", "photos/../../x.jpg", "/etc/passwd", "photos/a/b.jpg", ""]
)
def test_keys_the_app_did_not_make_are_refused(storage, bad):
    with pytest.raises(ObjectMissing):
        storage.open(bad)


def test_missing_object(storage):
    with pytest.raises(ObjectMissing):
        storage.open(key())


@pytest.mark.parametrize(
    "good",
    [key("photos", ".heic"), key("photos", ".avif"), key("photos", ".gif"),
     key("previews", "_preview.jpg"), key("previews", "_preview.webp"),
     key("thumbnails", "_thumb.webp"), key("incoming", "/000008388608")],
)
def test_keys_the_app_makes_are_accepted(storage, good):
    assert not storage.exists(good)


@pytest.mark.parametrize(
    "bad",
    [key("previews", ".jpg"), key("previews", "_preview.heic"), key("thumbnails", "_thumb.jpg"),
     key("photos", "_preview.jpg"), key("photos", ".jpg") + "\n", key("photos", ".exe"),
     key("secrets", ".jpg"), key("incoming", "/8388608"), key("incoming", "/000000000000.jpg"),
     key("incoming", ""), f"incoming/{uuid.uuid4()}/../000000000000"],
)
def test_keys_of_the_wrong_shape_are_refused(storage, bad):
    with pytest.raises(ObjectMissing):
        storage.exists(bad)


def test_modified(storage):
    from datetime import UTC, datetime, timedelta

    k = key()
    assert storage.modified(k) is None
    storage.put_bytes(k, b"bytes")
    assert abs(datetime.now(UTC) - storage.modified(k)) < timedelta(minutes=1)


def test_removing_the_last_chunk_of_an_upload_removes_its_folder(storage):
    folder = f"incoming/{uuid.uuid4()}/{uuid.uuid4()}"
    first, second = f"{folder}/000000000000", f"{folder}/000000001000"
    storage.put_bytes(first, b"a")
    storage.put_bytes(second, b"b")
    storage.delete(first)
    assert storage.path_of(second).parent.is_dir()
    storage.delete(second)
    assert not storage.path_of(second).parent.exists()
    storage.put_bytes(first, b"again")
    assert list(storage.list(folder)) == [first]
