"""A process killed (SIGKILL) at any step of an ingest or a purge leaves nothing reconcile
cannot fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlmodel import Session, SQLModel, select

from imgstream import models
from imgstream.models import Photo, User
from imgstream.runtime import create_engine
from imgstream.services import identity, ingest, renditions, timeline, trash
from imgstream.services.reconcile import reconcile
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import LocalStorage
from imgstream.testing import ROOT
from tests import images

# The child ingests one photo (or deletes one forever) and kills itself (SIGKILL, no cleanup)
# at the named step.
DIES_AT = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    from sqlmodel import Session
    from imgstream.runtime import create_engine
    from imgstream.services import identity, ingest, trash
    from imgstream.services.storage import LocalStorage
    from imgstream.services.spooling import IncomingFile

    db_url, root, photo, step = sys.argv[1:5]
    calls = {"put_file": 0, "put_bytes": 0, "delete": 0, "commit": 0}

    def dies_at(name, original):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            if f"{name}:{calls[name]}" == step:
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(*args, **kwargs)
            if f"after-{name}:{calls[name]}" == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapped
''')

CHILD = DIES_AT + textwrap.dedent('''
    storage = LocalStorage(Path(root), secret=b"s", url_ttl_seconds=1800)
    storage.put_file = dies_at("put_file", storage.put_file)
    storage.put_bytes = dies_at("put_bytes", storage.put_bytes)
    engine = create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="crash@example.com")
        session.commit = dies_at("commit", session.commit)
        incoming = IncomingFile(filename="crash.jpg", spool_dir=Path(root) / "in",
                                max_bytes=10**9)
        incoming.write(Path(photo).read_bytes())
        ingest.ingest(session=session, storage=storage, owner=owner, upload=incoming,
                      sha256=incoming.finish(), thumbnail_size=400, preview_size=1440,
                      max_pixels=10**8)
''')

STEPS = [
    "put_file:1",        # before the original is written
    "after-put_file:1",  # original written, nothing else
    "after-put_bytes:1",  # thumbnail written
    "after-put_bytes:2",  # preview written, row not committed
    "commit:1",          # the lookups' read transaction ends, before any object is written
    "commit:2",          # at the commit
    "after-commit:2",    # committed: the photo is complete
]

# The child deletes the photo in the trash forever.
PURGE_CHILD = DIES_AT + textwrap.dedent('''
    storage = LocalStorage(Path(root), secret=b"s", url_ttl_seconds=1800)
    storage.delete = dies_at("delete", storage.delete)
    engine = create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="crash@example.com")
        session.commit = dies_at("commit", session.commit)
        trash.delete_forever(session=session, storage=storage, owner_id=owner.id,
                              photo_id=__import__("uuid").UUID(photo))
''')

PURGE_STEPS = [
    "delete:1",          # before anything is removed: the photo stays in the trash, whole
    "after-delete:1",    # original removed, renditions and row left
    "after-delete:2",    # thumbnail removed too
    "after-delete:3",    # every object removed, row not
    "commit:1",          # at the commit
    "after-commit:1",    # committed: the photo is gone
]


def assert_reconcile_makes_it_agree(step, engine, storage) -> list[Photo]:
    """Reconcile repairs whatever the crash left; then rows and objects agree exactly."""
    with Session(engine, expire_on_commit=False) as session:
        later = models.utcnow() + timedelta(hours=1)
        reconcile(session=session, storage=storage, fix=True, now=later)
        after = reconcile(session=session, storage=storage, fix=False, now=later)
        assert after.clean, (step, after)
        rows = session.exec(select(Photo)).all()
        stored = set(storage.list("photos")) | set(storage.list("thumbnails")) | set(
            storage.list("previews"))
        claimed = set()
        for row in rows:
            claimed |= set(renditions.photo_blobs(session=session, storage=storage, photo=row))
        assert stored == claimed
        usage = sum(sum(renditions.photo_blobs(session=session, storage=storage,
                                           photo=row).values()) for row in rows)
        assert [u.used_bytes for u in session.exec(select(User)).all()] == [usage]
        return rows


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_each_step(tmp_path, step):
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = create_engine(db_url)
    SQLModel.metadata.create_all(engine)
    root = tmp_path / "library"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(images.jpeg(size=(2400, 1600), color=(70, 130, 180),
                                  date_original="2020:02:02 02:02:02"))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(root), str(photo), step],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )
    if step != "after-commit:2" or result.returncode != 0:
        assert result.returncode == -signal.SIGKILL, result.stderr

    storage = LocalStorage(root, secret=b"s", url_ttl_seconds=1800)
    with Session(engine, expire_on_commit=False) as session:
        # No half photo is visible: a photo row has all its objects.
        for row in session.exec(select(Photo)).all():
            for key in renditions.photo_blobs(session=session, storage=storage, photo=row):
                assert storage.exists(key), f"{step}: visible photo without {key}"
    rows = assert_reconcile_makes_it_agree(step, engine, storage)
    assert len(rows) == (1 if step == "after-commit:2" else 0)
    engine.dispose()


@pytest.mark.parametrize("step", PURGE_STEPS)
def test_sigkill_at_each_step_of_a_purge(tmp_path, step):
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = create_engine(db_url)
    SQLModel.metadata.create_all(engine)
    root = tmp_path / "library"
    storage = LocalStorage(root, secret=b"s", url_ttl_seconds=1800)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(images.jpeg(size=(2400, 1600), color=(180, 130, 70)))
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="crash@example.com")
        incoming = IncomingFile(filename="going.jpg", spool_dir=tmp_path / "in", max_bytes=10**9)
        incoming.write(photo.read_bytes())
        photo_id = ingest.ingest(session=session, storage=storage, owner=owner, upload=incoming,
                                 sha256=incoming.finish(), thumbnail_size=400, preview_size=1440,
                                 max_pixels=10**8).photo_id
        assert len(renditions.photo_blobs(session=session, storage=storage,
                                      photo=session.get(Photo, photo_id))) == 3
        assert trash.move_to_trash(session=session, owner_id=owner.id, photo_id=photo_id)

    result = subprocess.run(
        [sys.executable, "-c", PURGE_CHILD, db_url, str(root), str(photo_id), step],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )
    if step != "after-commit:1" or result.returncode != 0:
        assert result.returncode == -signal.SIGKILL, result.stderr

    with Session(engine, expire_on_commit=False) as session:
        # Whatever is left is in the trash, never back in the library.
        assert timeline.timeline_page(session=session, owner_id=owner.id, limit=10).photos == []
        left = session.exec(select(Photo)).all()
        assert all(row.deleted_at is not None for row in left)
    rows = assert_reconcile_makes_it_agree(step, engine, storage)
    # Killed before the first object went, the photo is still whole in the trash; after that,
    # the original is gone and reconcile finishes the purge.
    assert [row.id for row in rows] == ([photo_id] if step == "delete:1" else [])
    engine.dispose()
