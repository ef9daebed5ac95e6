"""The trash on SQLite and PostgreSQL: parallel restores racing for one name, restore vs purge."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from imgstream.models import Photo
from imgstream.services import collisions, identity, trash
from imgstream.services.storage import LocalStorage
from tests import images
from tests.integration.test_database import ingest_bytes


def trashed_pair_named_alike(db, engine, storage, owner, spool):
    """Two photos in the trash that were both called beach.jpg."""
    ids = []
    for shade in (10, 240):
        result = ingest_bytes(engine, storage, owner.id,
                              images.jpeg(size=(300, 200), color=(shade, 90, 90)), "beach.jpg",
                              spool)
        assert result.message == "added", "the name was free: the other one is in the trash"
        assert trash.move_to_trash(session=db, owner_id=owner.id, photo_id=result.photo_id)
        ids.append(result.photo_id)
    return ids


def test_parallel_restores_of_one_name_never_share_it(db, migrated_engine, tmp_path,
                                                      monkeypatch):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="restore-race@example.com")
    ids = trashed_pair_named_alike(db, migrated_engine, storage, owner, tmp_path / "in")

    # Both restores look the name up before either writes: both see beach.jpg free.
    both_looked = threading.Barrier(2, timeout=30)
    real_free_name = collisions.free_name
    lookups: list[str] = []
    first_lookup = threading.local()

    def looked_up_together(**kwargs):
        name = real_free_name(**kwargs)
        lookups.append(name)
        if not getattr(first_lookup, "done", False):
            first_lookup.done = True
            both_looked.wait()
        return name

    monkeypatch.setattr(trash, "free_name", looked_up_together)
    restored: dict = {}
    errors: list[BaseException] = []

    def restore(photo_id):
        try:
            with Session(migrated_engine, expire_on_commit=False) as session:
                photo = trash.restore_photo(session=session, owner_id=owner.id,
                                             photo_id=photo_id)
                restored[photo_id] = photo.filename if photo else None
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=restore, args=(photo_id,)) for photo_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(restored.values()) == ["beach (1).jpg", "beach.jpg"]
    assert sorted(lookups) == ["beach (1).jpg", "beach.jpg", "beach.jpg"], (
        "the loser of the race looked the name up again")
    db.expire_all()
    rows = db.exec(select(Photo).where(Photo.owner_id == owner.id)).all()
    assert all(row.deleted_at is None for row in rows)
    assert sorted(row.name_key for row in rows) == ["beach (1).jpg", "beach.jpg"]


def test_a_restore_racing_a_purge_never_restores_a_photo_without_objects(db, migrated_engine,
                                                                          tmp_path,
                                                                          monkeypatch):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="purge-race@example.com")
    result = ingest_bytes(migrated_engine, storage, owner.id, images.jpeg(size=(300, 200)),
                          "going.jpg", tmp_path / "in")
    trash.move_to_trash(session=db, owner_id=owner.id, photo_id=result.photo_id)

    purging = threading.Event()
    real_delete = storage.delete

    def slow_delete(key):
        purging.set()
        real_delete(key)
        # The restore arrives while the objects are going.
        threading.Event().wait(0.3)

    monkeypatch.setattr(storage, "delete", slow_delete)
    outcome: dict = {}

    def purge():
        with Session(migrated_engine, expire_on_commit=False) as session:
            outcome["purge"] = trash.delete_forever(
                session=session, storage=storage, owner_id=owner.id, photo_id=result.photo_id)

    def restore():
        assert purging.wait(30)
        with Session(migrated_engine, expire_on_commit=False) as session:
            outcome["restore"] = trash.restore_photo(session=session, owner_id=owner.id,
                                                      photo_id=result.photo_id)

    threads = [threading.Thread(target=purge), threading.Thread(target=restore)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["purge"].photos == 1
    assert outcome["restore"] is None
    db.expire_all()
    assert db.get(Photo, result.photo_id) is None
    assert list(storage.list("photos")) == []
