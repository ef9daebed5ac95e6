"""Parallel begins cannot together pass the quota or the cap on open uploads (F-07, U-26).

On SQLite and PostgreSQL: threads released at once by a barrier each begin an upload.
"""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from imgstream.models import Upload, User
from imgstream.services import identity, upload_receiving
from imgstream.services.upload_receiving import UploadRefused

THREADS = 24


def begin_at_once(engine, owner_id, size, *, max_open=500):
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def start(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            # Read in the same transaction as the begin, as the API does.
            owner = session.get(User, owner_id)
            try:
                upload_receiving.begin_upload(session=session, owner=owner, filename=f"{i}.jpg",
                                             size=size, max_bytes=10**9, max_open=max_open)
                outcomes.append("accepted")
            except UploadRefused as refused:
                outcomes.append("too many" if refused.too_many else "over quota")

    threads = [threading.Thread(target=start, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_f07_parallel_begins_cannot_promise_more_than_the_quota(db, migrated_engine):
    owner = identity.provision_user(session=db, email="ada@example.com")
    owner.quota_bytes, owner.used_bytes = 1024**3, 4_400_000
    db.add(owner)
    db.commit()
    outcomes = begin_at_once(migrated_engine, owner.id, 100_000_000)
    assert outcomes.count("accepted") == 10
    assert outcomes.count("over quota") == THREADS - 10
    db.expire_all()
    user = db.get(User, owner.id)
    uploads = db.exec(select(Upload).where(Upload.owner_id == owner.id)).all()
    assert user.reserved_bytes == sum(upload.size_bytes for upload in uploads) == 10 * 10**8
    assert user.used_bytes + user.reserved_bytes <= user.quota_bytes


def test_u26_parallel_begins_cannot_pass_the_cap_on_open_uploads(db, migrated_engine):
    owner = identity.provision_user(session=db, email="ada@example.com")
    outcomes = begin_at_once(migrated_engine, owner.id, 1000, max_open=5)
    assert outcomes.count("accepted") == 5
    assert outcomes.count("too many") == THREADS - 5
    db.expire_all()
    assert len(db.exec(select(Upload).where(Upload.owner_id == owner.id)).all()) == 5
    assert db.get(User, owner.id).reserved_bytes == 5000
