"""Uploads whose name a photo of the library already has: skip, replace, keep both, ask."""

import hashlib

import pytest
from sqlmodel import select

from imgstream import models
from imgstream.models import CollisionChoice, CollisionEvent, Photo, Rendition
from imgstream.services import collisions, identity, ingest, object_keys, renditions, replace, trash
from imgstream.services.ingest import IngestStatus
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import LocalStorage
from tests import images


def add_photo(session, storage, owner, tmp_path, data, name, choice=CollisionChoice.ASK,
           decision_seconds=None):
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "incoming", max_bytes=10**8)
    incoming.write(data)
    result = ingest.ingest(
        session=session, storage=storage, owner=owner, upload=incoming,
        sha256=incoming.finish(), thumbnail_size=400, preview_size=1440, max_pixels=10**8,
        on_collision=choice, decision_seconds=decision_seconds,
    )
    assert not incoming.path.exists()
    return result


def everything_stored(storage) -> set[str]:
    return {key for prefix in ("photos/", "thumbnails/", "previews/")
            for key in storage.list(prefix)}


@pytest.fixture
def existing(session, storage, owner, tmp_path):
    data = images.jpeg(size=(1600, 1200), color=(200, 30, 30), date_original="2020:01:02 03:04:05")
    result = add_photo(session, storage, owner, tmp_path, data, "IMG_0001.JPG")
    assert result.status is IngestStatus.ADDED
    photo = session.get(Photo, result.photo_id)
    photo.title, photo.favorite = "Red wall", True
    session.commit()
    return photo


def test_asking_stores_nothing_and_names_the_photo_in_the_way(session, storage, owner, tmp_path,
                                                               existing):
    before = everything_stored(storage)
    session.refresh(owner)
    used = owner.used_bytes
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 3)),
                    "img_0001.jpeg")
    assert result.status is IngestStatus.COLLISION
    assert (result.photo_id, result.filename) == (existing.id, "IMG_0001.JPG")
    assert everything_stored(storage) == before
    session.refresh(owner)
    assert owner.used_bytes == used
    assert len(session.exec(select(Photo)).all()) == 1


def test_skip_keeps_the_library_as_it_was(session, storage, owner, tmp_path, existing):
    before = everything_stored(storage)
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 3)),
                    "IMG_0001.jpg", CollisionChoice.SKIP, decision_seconds=2.5)
    assert result.status is IngestStatus.SKIPPED
    assert result.message == "skipped: a photo named IMG_0001.JPG exists"
    assert everything_stored(storage) == before
    event = session.exec(select(CollisionEvent)).one()
    assert (event.outcome, event.decision_seconds) == ("skipped", 2.5)


def test_keep_both_numbers_the_new_photo(session, storage, owner, tmp_path, existing):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 3)),
                    "IMG_0001.jpg", CollisionChoice.KEEP_BOTH)
    assert result.status is IngestStatus.KEPT_BOTH
    assert result.filename == "IMG_0001 (1).jpg"
    names = sorted(p.filename for p in session.exec(select(Photo)))
    assert names == ["IMG_0001 (1).jpg", "IMG_0001.JPG"]
    assert session.exec(select(CollisionEvent.outcome)).all() == ["kept_both"]


def test_replace_keeps_identity_and_swaps_the_image(session, storage, owner, tmp_path, existing):
    old_blobs = renditions.photo_blobs(session=session, storage=storage, photo=existing)
    uploaded_at = existing.uploaded_at
    new = images.encode(images.photo_like((900, 1200)), "PNG")
    result = add_photo(session, storage, owner, tmp_path, new, "img_0001.jpg",
                    CollisionChoice.REPLACE, decision_seconds=4.0)

    assert result.status is IngestStatus.REPLACED
    assert result.photo_id == existing.id
    session.expire_all()
    photo = session.get(Photo, existing.id)
    assert (photo.filename, photo.title, photo.favorite) == ("IMG_0001.JPG", "Red wall", True)
    assert models.as_utc(photo.uploaded_at) == models.as_utc(uploaded_at)
    assert (photo.format, photo.width, photo.height) == ("PNG", 900, 1200)
    assert photo.sha256 == hashlib.sha256(new).hexdigest()
    assert photo.taken_at_source == "upload_time", "metadata is read again from the new image"
    assert photo.revision == 1
    with storage.open(object_keys.original_of(photo)) as fh:
        assert fh.read() == new
    new_blobs = renditions.photo_blobs(session=session, storage=storage, photo=photo)
    assert everything_stored(storage) == set(new_blobs), "the old objects are gone"
    assert not set(old_blobs) & set(new_blobs)
    kinds = {r.kind for r in session.exec(select(Rendition).where(Rendition.photo_id == photo.id))}
    assert kinds == {"thumb", "preview"}
    session.refresh(owner)
    assert owner.used_bytes == sum(new_blobs.values())
    assert session.exec(select(CollisionEvent.outcome)).all() == ["replaced"]


class FailingStorage(LocalStorage):
    """Fails the n-th write."""

    def __init__(self, *args, fail_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes, self.fail_at = 0, fail_at

    def _count(self):
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError("disk full")

    def put_file(self, key, path):
        self._count()
        return super().put_file(key, path)

    def put_bytes(self, key, data):
        self._count()
        return super().put_bytes(key, data)


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_replace_that_fails_midway_leaves_the_old_photo_whole(session, owner, tmp_path,
                                                                 fail_at):
    storage = FailingStorage(tmp_path / "lib", secret=b"s", url_ttl_seconds=60, fail_at=99)
    first = images.jpeg(size=(1600, 1200), color=(9, 9, 200))
    kept = add_photo(session, storage, owner, tmp_path, first, "a.jpg")
    photo = session.get(Photo, kept.photo_id)
    before = (everything_stored(storage), photo.sha256, photo.revision)
    session.refresh(owner)
    used = owner.used_bytes
    storage.writes, storage.fail_at = 0, fail_at

    with pytest.raises(OSError, match="disk full"):
        add_photo(session, storage, owner, tmp_path, images.jpeg(size=(1600, 1200)), "a.jpg",
               CollisionChoice.REPLACE)

    session.expire_all()
    photo = session.get(Photo, kept.photo_id)
    assert (everything_stored(storage), photo.sha256, photo.revision) == before
    with storage.open(object_keys.original_of(photo)) as fh:
        assert fh.read() == first
    session.refresh(owner)
    assert owner.used_bytes == used


def test_replace_with_bytes_already_in_the_library_is_a_duplicate(session, storage, owner,
                                                                  tmp_path, existing):
    other = images.jpeg(color=(5, 50, 5))
    add_photo(session, storage, owner, tmp_path, other, "other.jpg")
    result = add_photo(session, storage, owner, tmp_path, other, "IMG_0001.JPG",
                    CollisionChoice.REPLACE)
    assert result.status is IngestStatus.DUPLICATE
    assert result.message == "already in your library as other.jpg"


def test_a_full_library_can_still_replace_with_a_smaller_photo(session, storage, owner,
                                                                tmp_path, existing):
    session.refresh(owner)
    owner.quota_bytes = owner.used_bytes
    session.commit()
    small = images.jpeg(size=(300, 200), color=(1, 1, 1))
    result = add_photo(session, storage, owner, tmp_path, small, "IMG_0001.JPG",
                    CollisionChoice.REPLACE)
    assert result.status is IngestStatus.REPLACED
    session.refresh(owner)
    photo = session.get(Photo, existing.id)
    assert owner.used_bytes == sum(
        renditions.photo_blobs(session=session, storage=storage, photo=photo).values())


def test_find_collisions_checks_a_batch_in_one_query(session, storage, owner, tmp_path, existing,
                                                     engine):
    add_photo(session, storage, owner, tmp_path, images.jpeg(color=(3, 3, 3)), "café.png")
    other = identity.provision_user(session=session, email="other@example.com")
    add_photo(session, storage, other, tmp_path, images.jpeg(color=(4, 4, 4)), "mine.jpg")
    names = ["img_0001.jpeg", "cafe\u0301.png", "new.jpg", "mine.jpg",
             *[f"n{i}.jpg" for i in range(40_000)]]
    statements = []
    from sqlalchemy import event

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = collisions.find_collisions(session=session, owner_id=owner.id, names=names)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert {name: photo.filename for name, photo in found.items()} == {
        "img_0001.jpeg": "IMG_0001.JPG", "cafe\u0301.png": "café.png"}


def test_collision_statistics(session, storage, owner, tmp_path, existing):
    for _ in range(3):
        collisions.record_collision(session=session, owner_id=owner.id, filename="x.jpg",
                                outcome=collisions.CollisionOutcome.DETECTED)
    add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 3)), "IMG_0001.JPG",
           CollisionChoice.SKIP, decision_seconds=1.0)
    add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 4)), "IMG_0001.JPG",
           CollisionChoice.KEEP_BOTH, decision_seconds=3.0)
    add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 2, 5)), "IMG_0001.JPG",
           CollisionChoice.REPLACE, decision_seconds=8.0)
    stats = collisions.collision_stats(session=session, owner_id=owner.id)
    assert stats == collisions.CollisionStats(detected=3, skipped=1, replaced=1, kept_both=1,
                                          median_decision_seconds=3.0)
    other = identity.provision_user(session=session, email="other@example.com")
    assert collisions.collision_stats(session=session, owner_id=other.id).detected == 0


def test_a_duplicate_of_a_photo_in_the_trash_offers_it_back(session, storage, owner, tmp_path):
    data = images.jpeg(color=(70, 7, 7))
    first = add_photo(session, storage, owner, tmp_path, data, "old.jpg")
    assert trash.move_to_trash(session=session, owner_id=owner.id, photo_id=first.photo_id)
    again = add_photo(session, storage, owner, tmp_path, data, "again.jpg")
    assert again.status is IngestStatus.DUPLICATE
    assert (again.in_trash, again.photo_id) == (True, first.photo_id)
    assert again.message == "already in your trash as old.jpg"
    restored = trash.restore_photo(session=session, owner_id=owner.id, photo_id=again.photo_id)
    assert restored.filename == "old.jpg"


def test_a_name_in_the_trash_is_free(session, storage, owner, tmp_path):
    first = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(71, 7, 7)), "x.jpg")
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=first.photo_id)
    assert collisions.find_collisions(session=session, owner_id=owner.id, names=["x.jpg"]) == {}
    second = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(9, 70, 7)), "x.jpg")
    assert (second.status, second.filename) == (IngestStatus.ADDED, "x.jpg")


def test_old_objects_a_replace_could_not_remove_are_found_by_reconcile(session, storage, owner,
                                                                       tmp_path, existing,
                                                                       monkeypatch):
    from datetime import timedelta

    from imgstream.services import reconcile

    old = set(renditions.photo_blobs(session=session, storage=storage, photo=existing))
    real_remove = replace.delete_quietly
    monkeypatch.setattr(replace, "delete_quietly", lambda storage, keys: None)  # killed first
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(color=(1, 99, 1)),
                    "IMG_0001.JPG", CollisionChoice.REPLACE)
    monkeypatch.setattr(replace, "delete_quietly", real_remove)
    assert result.status is IngestStatus.REPLACED
    assert old <= everything_stored(storage)

    report = reconcile.reconcile(session=session, storage=storage, fix=True,
                                 grace=timedelta(0))
    assert set(report.unclaimed_objects) == old
    photo = session.get(Photo, existing.id)
    assert everything_stored(storage) == set(
        renditions.photo_blobs(session=session, storage=storage, photo=photo))
    assert reconcile.reconcile(session=session, storage=storage, fix=False,
                               grace=timedelta(0)).clean
