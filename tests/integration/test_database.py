"""Migrations and the photo services on SQLite and on PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import hashlib
import threading
import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

import imgstream.models  # noqa: F401 - the tables compared below
from imgstream import indexes, models
from imgstream.models import Photo, Rendition, User
from imgstream.services import (
    collisions,
    identity,
    ingest,
    object_keys,
    renditions,
    timeline,
    trash,
)
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import LocalStorage
from tests import images
from tests.integration.conftest import migrate


def test_migrations_build_the_schema_the_models_describe(migrated_engine, database_url, tmp_path):
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": indexes.outside_the_search_index})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    # Applying again is a no-op.
    migrate(database_url, tmp_path / "data")
    names = set(sa.inspect(migrated_engine).get_table_names())
    assert {"user", "photo", "rendition", "alembic_version"} <= names


def test_comparisons_without_a_filter_pass_over_the_search_index(migrated_engine):
    """What `reflex run` and `reflex db migrate` compare: no change proposed for the index."""
    indexes.leave_the_search_index_out_of_comparisons()
    inspector = sa.inspect(migrated_engine)
    search_objects = ({"photo_search"} & set(inspector.get_table_names())
                      or {"search_words"} & {c["name"] for c in inspector.get_columns("photo")})
    assert search_objects, "the search index is in the database, beside the models"
    with migrated_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def ingest_bytes(engine, storage, owner_id, data, name, spool,
                 on_collision=models.CollisionChoice.KEEP_BOTH):
    with Session(engine, expire_on_commit=False) as session:
        owner = session.get(User, owner_id)
        incoming = IncomingFile(filename=name, spool_dir=spool, max_bytes=10**8)
        incoming.write(data)
        return ingest.ingest(session=session, storage=storage, owner=owner, upload=incoming,
                             sha256=incoming.finish(), thumbnail_size=400, preview_size=1440,
                             max_pixels=10**8, on_collision=on_collision)


def test_ingest_list_delete(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="pg@example.com")
    dates = ["2020:01:01 10:00:00", "2022:02:02 10:00:00", "2021:01:01 10:00:00"]
    ids = [
        ingest_bytes(migrated_engine, storage, owner.id,
                     images.jpeg(date_original=d, color=(i, 0, 0)), f"{i}.jpg",
                     tmp_path / "in").photo_id
        for i, d in enumerate(dates)
    ]
    page = timeline.timeline_page(session=db, owner_id=owner.id, limit=2)
    assert [p.id for p in page.photos] == [ids[1], ids[2]]
    rest = timeline.timeline_page(session=db, owner_id=owner.id, limit=2, after=page.next_cursor)
    assert [p.id for p in rest.photos] == [ids[0]]
    assert rest.next_cursor is None
    assert trash.move_to_trash(session=db, owner_id=owner.id, photo_id=ids[1])
    assert [p.id for p in trash.trash_page(session=db, owner_id=owner.id, limit=5).photos] == [
        ids[1]]
    assert len(list(storage.list("photos"))) == 3
    assert trash.delete_forever(session=db, storage=storage, owner_id=owner.id,
                                 photo_id=ids[1]).photos == 1
    assert len(db.exec(select(Photo)).all()) == 2
    assert len(list(storage.list("photos"))) == 2


def test_concurrent_ingests_lose_nothing(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="many@example.com")
    uploads = [images.jpeg(size=(200, 150), color=(i * 20, 40, 80)) for i in range(8)]
    duplicate = uploads[0]
    batch = [*uploads, duplicate, duplicate]
    with concurrent.futures.ThreadPoolExecutor(len(batch)) as pool:
        results = list(pool.map(
            lambda item: ingest_bytes(migrated_engine, storage, owner.id, item[1],
                                      f"{item[0]}.jpg", tmp_path / "in"),
            enumerate(batch),
        ))

    statuses = sorted(r.status.value for r in results)
    assert statuses == ["added"] * 8 + ["duplicate"] * 2
    rows = db.exec(select(Photo).where(Photo.owner_id == owner.id)).all()
    assert len(rows) == 8
    assert len(list(storage.list("photos"))) == 8, "a duplicate leaves no blob behind"
    db.expire_all()
    used = db.get(User, owner.id).used_bytes
    derived = db.exec(select(Rendition).where(Rendition.photo_id.in_([r.id for r in rows])))
    originals = {object_keys.original_key(owner.id, r.id, "jpg") for r in rows}
    assert used == sum(r.size_bytes for r in rows) + sum(
        d.size_bytes for d in derived if d.key not in originals)


def test_concurrent_first_sign_ins_make_one_user(migrated_engine):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    ids: list = []

    def sign_in():
        with Session(migrated_engine, expire_on_commit=False) as session:
            ids.append(identity.provision_user(session=session, email=email).id)

    threads = [threading.Thread(target=sign_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1


def test_parallel_uploads_cannot_both_pass_the_quota(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    photos_bytes = [images.jpeg(size=(640, 480), color=(200, 10 * i, 30)) for i in range(4)]
    probe = identity.provision_user(session=db, email="probe@example.com")
    costs = []
    for i, data in enumerate(photos_bytes):
        before = db.get(User, probe.id).used_bytes
        ingest_bytes(migrated_engine, storage, probe.id, data, f"{i}.jpg", tmp_path / "in")
        db.expire_all()
        costs.append(db.get(User, probe.id).used_bytes - before)

    owner = identity.provision_user(session=db, email="quota@example.com")
    # Room for any one of the four, never for two.
    smallest, second = sorted(costs)[:2]
    assert max(costs) < smallest + second
    owner.quota_bytes = max(costs)
    db.commit()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(
            lambda item: ingest_bytes(migrated_engine, storage, owner.id, item[1],
                                      f"q{item[0]}.jpg", tmp_path / "in"),
            enumerate(photos_bytes),
        ))
    statuses = sorted(r.status.value for r in results)
    assert statuses == ["added", "rejected", "rejected", "rejected"]
    assert all("your library is full" in r.message for r in results if r.status.value != "added")
    db.expire_all()
    user = db.get(User, owner.id)
    assert user.used_bytes <= user.quota_bytes
    [added] = [r for r in results if r.status.value == "added"]
    assert user.used_bytes == costs[[r.photo_id for r in results].index(added.photo_id)]
    assert len([k for k in storage.list("photos") if f"/{owner.id}/" in k]) == 1


def test_parallel_uploads_of_one_name_never_share_it(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="names@example.com")
    uploads = [images.jpeg(size=(200, 150), color=(9, 20 * i, 9)) for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(len(uploads)) as pool:
        results = list(pool.map(
            lambda data: ingest_bytes(migrated_engine, storage, owner.id, data, "Same.JPG",
                                      tmp_path / "in"),
            uploads,
        ))
    assert sorted(r.status.value for r in results) == ["added"] + ["kept_both"] * 5
    db.expire_all()
    names = sorted(p.filename for p in db.exec(select(Photo).where(Photo.owner_id == owner.id)))
    assert names == ["Same (1).JPG", "Same (2).JPG", "Same (3).JPG", "Same (4).JPG",
                     "Same (5).JPG", "Same.JPG"]
    assert len(list(storage.list("photos"))) == 6


def test_parallel_uploads_of_one_name_asking_leave_one_photo_and_ask_the_rest(
        db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="ask@example.com")
    uploads = [images.jpeg(size=(200, 150), color=(30 * i, 90, 9)) for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(len(uploads)) as pool:
        results = list(pool.map(
            lambda data: ingest_bytes(migrated_engine, storage, owner.id, data, "Race.jpg",
                                      tmp_path / "in", models.CollisionChoice.ASK),
            uploads,
        ))
    statuses = sorted(r.status.value for r in results)
    assert statuses == ["added"] + ["collision"] * 5
    added = next(r for r in results if r.status is ingest.IngestStatus.ADDED)
    assert {r.photo_id for r in results} == {added.photo_id}, "the losers are shown the winner"
    db.expire_all()
    assert [p.filename for p in db.exec(select(Photo).where(Photo.owner_id == owner.id))] == [
        "Race.jpg"]
    assert len(list(storage.list("photos"))) == 1
    assert len(list(storage.list("thumbnails"))) == 1


def test_parallel_replacements_of_one_photo_keep_it_whole(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="swap@example.com")
    first = ingest_bytes(migrated_engine, storage, owner.id, images.jpeg(color=(1, 1, 1)),
                         "swap.jpg", tmp_path / "in")
    uploads = [images.jpeg(size=(300, 200), color=(40 * i, 200, 9)) for i in range(1, 5)]
    with concurrent.futures.ThreadPoolExecutor(len(uploads)) as pool:
        results = list(pool.map(
            lambda data: ingest_bytes(migrated_engine, storage, owner.id, data, "swap.jpg",
                                      tmp_path / "in", models.CollisionChoice.REPLACE),
            uploads,
        ))
    assert "replaced" in {r.status.value for r in results}
    assert {r.status.value for r in results} <= {"replaced", "rejected"}
    db.expire_all()
    photo = db.exec(select(Photo).where(Photo.owner_id == owner.id)).one()
    assert photo.id == first.photo_id
    blobs = renditions.photo_blobs(session=db, storage=storage, photo=photo)
    assert all(storage.exists(key) for key in blobs)
    with storage.open(object_keys.original_of(photo)) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == photo.sha256
    assert set(storage.list("photos")) | set(storage.list("thumbnails")) | set(
        storage.list("previews")) == set(blobs)
    db.refresh(owner)
    assert owner.used_bytes == sum(blobs.values())


def test_a_batch_of_names_is_checked_in_one_statement_whatever_its_size(db, migrated_engine,
                                                                        tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="batch@example.com")
    ingest_bytes(migrated_engine, storage, owner.id, images.jpeg(color=(1, 9, 1)), "Kept.JPEG",
                 tmp_path / "in")
    names = [f"img_{i}.jpg" for i in range(70_000)] + ["kept.jpg"]
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(migrated_engine, "before_cursor_execute", count)
    try:
        with Session(migrated_engine) as session:
            found = collisions.find_collisions(session=session, owner_id=owner.id, names=names)
            assert {name: photo.filename for name, photo in found.items()} == {
                "kept.jpg": "Kept.JPEG"}
    finally:
        sa.event.remove(migrated_engine, "before_cursor_execute", count)
    assert len(statements) == 1
