"""The trash: move to it, restore from it, delete forever, empty it, expiry."""

from datetime import timedelta

import pytest
from sqlmodel import select

from imgstream import cli, models
from imgstream.cli import admin
from imgstream.models import Photo, Rendition, User, utcnow
from imgstream.services import collisions, identity, ingest, quota, renditions, timeline, trash
from tests import images
from tests.unit.services.test_ingest import add_photo


def add(session, storage, owner, tmp_path, name, shade):
    result = add_photo(session, storage, owner, tmp_path,
                    images.jpeg(size=(1800, 1200), color=(shade, 80, 160)), name)
    assert result.status is ingest.IngestStatus.ADDED
    return result.photo_id


def used(session, owner) -> int:
    session.refresh(owner)
    return owner.used_bytes


def stored(storage) -> set[str]:
    return set(storage.list("photos")) | set(storage.list("thumbnails")) | set(
        storage.list("previews"))


def blob_keys(session, storage, photo_id) -> set[str]:
    return set(renditions.photo_blobs(session=session, storage=storage,
                                  photo=session.get(Photo, photo_id)))


def move(session, owner, photo_id) -> bool:
    return trash.move_to_trash(session=session, owner_id=owner.id, photo_id=photo_id)


def test_trashed_photo_leaves_timeline_and_detail_but_keeps_its_objects(session, storage, owner,
                                                                      tmp_path):
    kept = add(session, storage, owner, tmp_path, "kept.jpg", 10)
    gone = add(session, storage, owner, tmp_path, "gone.jpg", 200)
    keys = blob_keys(session, storage, gone)

    assert move(session, owner, gone)

    page = timeline.timeline_page(session=session, owner_id=owner.id, limit=10)
    assert [p.id for p in page.photos] == [kept]
    assert timeline.get_photo(session=session, owner_id=owner.id, photo_id=gone) is None
    assert quota.library_usage(session=session, owner=owner).photo_count == 1
    row = session.get(Photo, gone)
    assert row.deleted_at is not None and row.name_key is None and row.filename == "gone.jpg"
    assert keys <= stored(storage)
    page = trash.trash_page(session=session, owner_id=owner.id, limit=10)
    assert [p.id for p in page.photos] == [gone]
    assert not move(session, owner, gone), "trashing twice is a no-op"


def test_trash_keeps_quota_and_delete_forever_frees_it(session, storage, owner, tmp_path):
    add(session, storage, owner, tmp_path, "kept.jpg", 10)
    gone = add(session, storage, owner, tmp_path, "gone.jpg", 200)
    before = used(session, owner)
    cost = sum(renditions.photo_blobs(session=session, storage=storage,
                                  photo=session.get(Photo, gone)).values())
    keys = blob_keys(session, storage, gone)

    move(session, owner, gone)
    assert used(session, owner) == before, "a photo in the trash still counts"
    assert trash.trash_usage(session=session, owner_id=owner.id) == trash.TrashUsage(1, cost)

    result = trash.delete_forever(session=session, storage=storage, owner_id=owner.id,
                                   photo_id=gone)
    assert result == trash.PurgeResult(1, cost)
    assert used(session, owner) == before - cost
    assert session.get(Photo, gone) is None
    assert session.exec(select(Rendition).where(Rendition.photo_id == gone)).all() == []
    assert not keys & stored(storage)
    assert trash.trash_usage(session=session, owner_id=owner.id) == trash.TrashUsage(0, 0)


def test_delete_forever_only_takes_photos_in_the_trash(session, storage, owner, tmp_path):
    photo_id = add(session, storage, owner, tmp_path, "library.jpg", 30)
    nothing = trash.PurgeResult(0, 0)
    assert trash.delete_forever(session=session, storage=storage, owner_id=owner.id,
                                 photo_id=photo_id) == nothing
    assert timeline.get_photo(session=session, owner_id=owner.id, photo_id=photo_id)
    assert blob_keys(session, storage, photo_id) <= stored(storage)


def test_restore_brings_the_photo_back_under_its_name(session, storage, owner, tmp_path):
    photo_id = add(session, storage, owner, tmp_path, "Beach.JPG", 40)
    move(session, owner, photo_id)

    restored = trash.restore_photo(session=session, owner_id=owner.id, photo_id=photo_id)

    assert restored is not None and restored.id == photo_id
    assert restored.filename == "Beach.JPG" and restored.name_key == "beach.jpg"
    assert restored.deleted_at is None
    assert timeline.get_photo(session=session, owner_id=owner.id, photo_id=photo_id)
    assert trash.trash_page(session=session, owner_id=owner.id, limit=10).photos == []
    assert trash.restore_photo(session=session, owner_id=owner.id, photo_id=photo_id) is None


def test_the_name_is_free_while_the_photo_is_in_the_trash(session, storage, owner, tmp_path):
    first = add(session, storage, owner, tmp_path, "beach.jpg", 50)
    move(session, owner, first)

    second = add_photo(session, storage, owner, tmp_path,
                    images.jpeg(size=(900, 600), color=(50, 250, 0)), "beach.jpg")

    assert second.status is ingest.IngestStatus.ADDED
    assert second.message == "added", "not a collision: the name was released"
    assert session.get(Photo, second.photo_id).filename == "beach.jpg"


def test_restore_when_the_name_was_taken_meanwhile_numbers_it(session, storage, owner, tmp_path):
    first = add(session, storage, owner, tmp_path, "beach.jpg", 60)
    move(session, owner, first)
    add(session, storage, owner, tmp_path, "beach.jpg", 61)
    add(session, storage, owner, tmp_path, "beach (1).jpg", 62)

    restored = trash.restore_photo(session=session, owner_id=owner.id, photo_id=first)

    assert restored.filename == "beach (2).jpg"
    names = sorted(p.filename for p in timeline.timeline_page(session=session, owner_id=owner.id,
                                                             limit=10).photos)
    assert names == ["beach (1).jpg", "beach (2).jpg", "beach.jpg"]


def test_restore_retries_when_a_parallel_upload_takes_the_name(session, storage, owner,
                                                               tmp_path, monkeypatch):
    first = add(session, storage, owner, tmp_path, "race.jpg", 70)
    move(session, owner, first)
    rival = add(session, storage, owner, tmp_path, "rival.jpg", 71)
    real_free_name = collisions.free_name
    calls = []

    def name_taken_right_after_lookup(**kwargs):
        name = real_free_name(**kwargs)
        if not calls:
            # Between this lookup and the restore's update, another photo gets the name.
            session.get(Photo, rival).filename = name
            session.get(Photo, rival).name_key = "race.jpg"
            session.commit()
        calls.append(name)
        return name

    monkeypatch.setattr(trash, "free_name", name_taken_right_after_lookup)
    restored = trash.restore_photo(session=session, owner_id=owner.id, photo_id=first)

    assert calls == ["race.jpg", "race (1).jpg"]
    assert restored.filename == "race (1).jpg"


def test_trash_page_is_newest_deleted_first_with_keyset_pages(session, storage, owner, tmp_path):
    ids = [add(session, storage, owner, tmp_path, f"{i}.jpg", i * 30) for i in range(5)]
    start = utcnow() - timedelta(days=3)
    for i, photo_id in enumerate(ids):
        move(session, owner, photo_id)
        # Two photos trashed at the same moment are ordered by id.
        session.get(Photo, photo_id).deleted_at = start + timedelta(hours=min(i, 3))
    session.commit()

    seen = []
    cursor = None
    while True:
        page = trash.trash_page(session=session, owner_id=owner.id, limit=2, after=cursor)
        assert len(page.photos) <= 2
        seen.extend(page.photos)
        if page.next_cursor is None:
            break
        cursor = timeline.PageCursor.decode(page.next_cursor.encode())
    keys = [(models.as_utc(p.deleted_at), p.id) for p in seen]
    assert keys == sorted(keys, reverse=True)
    assert sorted(p.id for p in seen) == sorted(ids)


@pytest.mark.parametrize("token", ["", "garbage", "W10=", "WyJ4IiwgInkiXQ=="])
def test_malformed_trash_cursor_is_ignored(token):
    assert timeline.PageCursor.decode(token) is None


def test_empty_trash_deletes_every_trashed_photo_of_the_owner_only(session, storage, owner,
                                                                   tmp_path):
    kept = add(session, storage, owner, tmp_path, "kept.jpg", 1)
    trashed = [add(session, storage, owner, tmp_path, f"t{i}.jpg", 100 + i) for i in range(3)]
    other = identity.provision_user(session=session, email="nora@example.com")
    theirs = add(session, storage, other, tmp_path, "theirs.jpg", 200)
    for photo_id in trashed:
        move(session, owner, photo_id)
    trash.move_to_trash(session=session, owner_id=other.id, photo_id=theirs)
    before = used(session, owner)
    usage = trash.trash_usage(session=session, owner_id=owner.id)
    assert usage.photo_count == 3

    result = trash.empty_trash(session=session, storage=storage, owner_id=owner.id)

    assert result == trash.PurgeResult(3, usage.bytes)
    assert used(session, owner) == before - usage.bytes
    left = {p.id for p in session.exec(select(Photo)).all()}
    assert left == {kept, theirs}
    assert trash.trashed_photo(session=session, owner_id=other.id, photo_id=theirs)
    assert trash.empty_trash(session=session, storage=storage,
                              owner_id=owner.id) == trash.PurgeResult(0, 0)


def test_photos_expire_after_the_trash_days(session, storage, owner, tmp_path):
    old, fresh, library = (add(session, storage, owner, tmp_path, f"{n}.jpg", s)
                           for n, s in (("old", 10), ("fresh", 20), ("library", 30)))
    move(session, owner, old)
    move(session, owner, fresh)
    now = utcnow()
    session.get(Photo, old).deleted_at = now - timedelta(days=30, minutes=1)
    session.get(Photo, fresh).deleted_at = now - timedelta(days=29, hours=23)
    session.commit()
    assert trash.trash_expiry(session.get(Photo, fresh), days=30) - now < timedelta(hours=2)

    assert [p.id for p in trash.expired_trash(session=session, days=30, now=now)] == [old]
    result = trash.empty_expired_trash(session=session, storage=storage, days=30, now=now)
    assert result.photos == 1
    assert session.get(Photo, old) is None
    assert trash.trashed_photo(session=session, owner_id=owner.id, photo_id=fresh)

    two_days_later = now + timedelta(days=2)
    assert trash.empty_expired_trash(session=session, storage=storage, days=30,
                                      now=two_days_later).photos == 1
    assert {p.id for p in session.exec(select(Photo)).all()} == {library}


def test_other_users_cannot_touch_someone_elses_photos(session, storage, owner, tmp_path):
    mine = add(session, storage, owner, tmp_path, "mine.jpg", 90)
    mallory = identity.provision_user(session=session, email="mallory@example.com")
    assert not trash.move_to_trash(session=session, owner_id=mallory.id, photo_id=mine)
    assert timeline.get_photo(session=session, owner_id=owner.id, photo_id=mine)

    move(session, owner, mine)
    assert trash.trash_page(session=session, owner_id=mallory.id, limit=10).photos == []
    assert trash.trashed_photo(session=session, owner_id=mallory.id, photo_id=mine) is None
    assert trash.restore_photo(session=session, owner_id=mallory.id, photo_id=mine) is None
    assert trash.delete_forever(session=session, storage=storage, owner_id=mallory.id,
                                 photo_id=mine) == trash.PurgeResult(0, 0)
    assert trash.empty_trash(session=session, storage=storage,
                              owner_id=mallory.id) == trash.PurgeResult(0, 0)
    assert trash.trash_usage(session=session, owner_id=mallory.id).photo_count == 0
    assert trash.trashed_photo(session=session, owner_id=owner.id, photo_id=mine)
    assert blob_keys(session, storage, mine) <= stored(storage)


def test_cli_empties_expired_trash(session, storage, owner, tmp_path, monkeypatch, capsys):
    from contextlib import contextmanager

    @contextmanager
    def same_session():
        yield session

    monkeypatch.setattr(admin, "db_session", same_session)
    monkeypatch.setattr(admin, "storage", lambda: storage)
    monkeypatch.setenv("IMGSTREAM_TRASH_DAYS", "7")
    admin.get_settings.cache_clear()
    try:
        old = add(session, storage, owner, tmp_path, "old.jpg", 5)
        recent = add(session, storage, owner, tmp_path, "recent.jpg", 6)
        move(session, owner, old)
        move(session, owner, recent)
        session.get(Photo, old).deleted_at = utcnow() - timedelta(days=8)
        session.get(Photo, recent).deleted_at = utcnow() - timedelta(days=6)
        session.commit()

        assert cli.main(["admin", "empty-expired-trash"]) == 0
        assert "1 photo(s) in the trash for more than 7 days deleted forever" in (
            capsys.readouterr().out)
        assert session.get(Photo, old) is None
        assert session.get(Photo, recent) is not None
        assert session.get(User, owner.id).used_bytes == sum(
            renditions.photo_blobs(session=session, storage=storage,
                               photo=session.get(Photo, recent)).values())
    finally:
        admin.get_settings.cache_clear()


def test_a_selection_moves_to_the_trash_and_back_at_once(session, storage, tmp_path):
    from imgstream.services import identity, ingest
    from imgstream.services.spooling import IncomingFile
    from tests import images

    def add(owner, name, color):
        incoming = IncomingFile(filename=name, spool_dir=tmp_path / "in", max_bytes=10**8)
        incoming.write(images.jpeg(color=color))
        return ingest.ingest(session=session, storage=storage, owner=owner, upload=incoming,
                             sha256=incoming.finish(), thumbnail_size=64, preview_size=128,
                             max_pixels=10**8).photo_id

    ada = identity.provision_user(session=session, email="ada-many@example.com")
    eve = identity.provision_user(session=session, email="eve-many@example.com")
    mine = [add(ada, f"{i}.jpg", (i * 40, 0, 0)) for i in range(3)]
    theirs = add(eve, "theirs.jpg", (0, 0, 200))
    moved = trash.move_many_to_trash(session=session, owner_id=ada.id,
                                     photo_ids=[*mine[:2], theirs, mine[0]])
    assert sorted(moved) == sorted(mine[:2])
    assert session.get(Photo, theirs).deleted_at is None
    assert session.get(Photo, mine[2]).deleted_at is None
    assert trash.restore_many(session=session, owner_id=ada.id, photo_ids=moved) == 2
    assert all(session.get(Photo, i).deleted_at is None for i in mine)
