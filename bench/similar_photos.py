"""Near-duplicate lookup over a large library: time to compare one hash with every photo's.

    .venv/bin/python -m bench.similar_photos [--photos 100000] [--runs 7]

Prints the median time of `similar_photos` (one query of the owner's distinct hashes, XOR and bit
count in Python, then the close photos) and, as the reference measured in the same run, of
reading every photo's (id, date taken), the least a page listing the whole library reads.
SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from imgstream.models import Photo, User
from imgstream.runtime import create_engine
from imgstream.services.similar_photos import similar_photos


def _fill(session: Session, owner_id: uuid.UUID, count: int) -> str:
    rng = random.Random(7)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [{
        "id": uuid.uuid4(), "owner_id": owner_id, "filename": f"{i}.jpg", "name_key": f"{i}.jpg",
        "revision": 0, "sha256": f"{i:064x}", "format": "JPEG", "mime": "image/jpeg",
        "size_bytes": 1000, "width": 10, "height": 10, "taken_at": now,
        "taken_at_source": "exif_original", "taken_day": "2024-01-01", "taken_month": "2024-01",
        "title": "", "description": "", "favorite": False, "uploaded_at": now,
        "updated_at": now, "phash": f"{rng.getrandbits(64):016x}",
    } for i in range(count)]
    session.execute(sa.insert(Photo), rows)
    session.commit()
    return rows[count // 2]["phash"]


def _median(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            owner = User(email="bench@example.com")
            session.add(owner)
            session.commit()
            wanted = _fill(session, owner.id, args.photos)

            def reference() -> None:
                session.execute(sa.select(Photo.id, Photo.taken_at).where(
                    Photo.owner_id == owner.id, Photo.deleted_at.is_(None))).all()

            def lookup() -> None:
                found = similar_photos(session=session, owner_id=owner.id, phash=wanted)
                assert found and found[0].distance == 0

            read = _median(reference, args.runs)
            compare = _median(lookup, args.runs)
        engine.dispose()
    print(f"photos: {args.photos}")
    print(f"reading every (id, taken_at) (reference): {read * 1000:.1f} ms median")
    print(f"similar_photos: {compare * 1000:.1f} ms median, {compare / read:.2f}x the reference")


if __name__ == "__main__":
    main()
