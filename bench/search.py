"""Search timing at 100,000 photos on SQLite (FTS5) and PostgreSQL (full-text and trigrams).

Usage: .venv/bin/python -m bench.search [--photos 100000] [--runs 15] [--postgres-url URL]

Seeds one library of `--photos` photo rows (and a second person's library of a tenth of that,
so the owner condition has work to do) in a fresh SQLite file and, when PostgreSQL answers, in a
fresh PostgreSQL database, both built with the app's schema (search index included). Then times
`search.search_photos` (the function the search page and the API call: the query and loading the
first page of 120 photos) for common, rare and prefix words, with and without filters. Prints
the median and 90th percentile in ms per case, and its ratio to the timeline's first page
(`timeline.timeline_page`, same size) measured in the same run. Target: every median ≤ 150 ms.

`bench/timeline.py` runs the same searches (its `search` section) on its own seeded library,
where only filenames carry words; this script's library has titles, descriptions, cameras,
lenses and formats, so every case finds something.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from imgstream.models import Photo, User, local_day
from imgstream.runtime import create_engine
from imgstream.services import search, timeline
from imgstream.services.search import SearchFilters

WORDS = ["beach", "harbour", "sunset", "mountain", "forest", "birthday", "city", "snow",
         "garden", "market", "bridge", "river", "lake", "dog", "cat", "party", "street"]
CAMERAS = [("Canon", "EOS R5"), ("FUJIFILM", "X100V"), ("Apple", "iPhone 15 Pro"),
           ("SONY", "ILCE-7M4"), ("Google", "Pixel 8"), (None, None)]
LENSES = ["RF 24-70mm F2.8 L IS USM", "FE 35mm F1.8", None, None]
FORMATS = ["JPEG"] * 8 + ["HEIC", "PNG"]
PAGE = 120
GOAL_MS = 150.0


def seed(engine: sa.Engine, photos: int) -> uuid.UUID:
    """Create the schema and the libraries; the id of the large one's owner."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS photo_search")
    SQLModel.metadata.create_all(engine)
    rng = random.Random(7)
    owner, other = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    with Session(engine) as session:
        for uid, email in ((owner, "bench@example.com"), (other, "other@example.com")):
            session.add(User(id=uid, email=email))
        session.commit()
    start = datetime(2010, 1, 1, tzinfo=UTC)
    span = (now - start).total_seconds()
    table = Photo.__table__
    for uid, count in ((owner, photos), (other, photos // 10)):
        batch = []
        for n in range(count):
            taken = start + timedelta(seconds=rng.random() * span)
            offset = rng.choice([None, 60, 120, -300, 540])
            make, model = rng.choice(CAMERAS)
            fmt = rng.choice(FORMATS)
            day = local_day(taken, offset)
            title = " ".join(rng.sample(WORDS, 2)) if rng.random() < 0.3 else ""
            description = (f"{rng.choice(WORDS)} with {rng.choice(WORDS)} number {n}"
                           if rng.random() < 0.1 else "")
            ext = {"JPEG": "jpg", "HEIC": "heic", "PNG": "png"}[fmt]
            batch.append({
                "id": uuid.uuid4(), "owner_id": uid, "filename": f"IMG_{n:06d}.{ext}",
                "name_key": f"img_{n:06d}.{ext}", "revision": 0, "sha256": f"{n:064x}",
                "format": fmt, "mime": "image/jpeg", "size_bytes": 3_000_000, "width": 4000,
                "height": 3000, "taken_at": taken, "taken_at_offset_minutes": offset,
                "taken_at_source": "exif_original", "taken_day": day, "taken_month": day[:7],
                "title": title, "description": description, "favorite": rng.random() < 0.02,
                "rotation": 0, "uploaded_at": now, "updated_at": now, "camera_make": make,
                "camera_model": model, "lens": rng.choice(LENSES),
            })
            if len(batch) == 5000:
                with engine.begin() as conn:
                    conn.execute(table.insert(), batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                conn.execute(table.insert(), batch)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return owner


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each run, after one warm-up run."""
    fn()
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def cases() -> list[tuple[str, str, SearchFilters]]:
    """(name, query, filters) of the timed searches."""
    return [
        ("common word", "beach", SearchFilters()),
        ("two words", "sunset harbour", SearchFilters()),
        ("prefix", "moun", SearchFilters()),
        ("filename", "img_00042", SearchFilters()),
        ("camera words", "canon eos", SearchFilters()),
        ("rare word", "number 42", SearchFilters()),
        ("no match", "zebra", SearchFilters()),
        ("words + dates", "beach",
         SearchFilters(taken_from=date(2015, 1, 1), taken_to=date(2015, 12, 31))),
        ("favourites only", "", SearchFilters(favorites_only=True)),
        ("camera + format", "", SearchFilters(camera="X100V", format="HEIC")),
        ("all filters", "city",
         SearchFilters(taken_from=date(2012, 1, 1), taken_to=date(2020, 12, 31),
                       favorites_only=True, camera="EOS R5", format="JPEG")),
    ]


def search_figures(engine: sa.Engine, owner: uuid.UUID,
                   runs: int) -> list[tuple[str, float, float, int]]:
    """(case, median ms, p90 ms, photos shown) per search; the timeline's first page first."""
    out = []
    with Session(engine) as session:
        reference = timed(lambda: timeline.timeline_page(session=session, owner_id=owner,
                                                         limit=PAGE), runs)
        out.append(("timeline first page (reference)", statistics.median(reference),
                    statistics.quantiles(reference, n=10)[-1], PAGE))
        for name, query, filters in cases():
            found: list[int] = [0]

            def once(query: str = query, filters: SearchFilters = filters,
                     found: list[int] = found) -> None:
                page = search.search_photos(session=session, owner_id=owner, query=query,
                                            filters=filters, limit=PAGE)
                found[0] = len(page.photos)
                session.expunge_all()

            times = timed(once, runs)
            out.append((name, statistics.median(times), statistics.quantiles(times, n=10)[-1],
                        found[0]))
    return out


def print_figures(figures: list[tuple[str, float, float, int]]) -> None:
    """One line per search: median, p90, ratio to the reference, verdict against 150 ms."""
    reference = figures[0][1]
    for name, median, p90, shown in figures:
        verdict = "ok" if median <= GOAL_MS else f"OVER {GOAL_MS:.0f} ms"
        print(f"  {name:34} median {median:7.1f} ms  p90 {p90:7.1f} ms  "
              f"x{median / reference:5.1f} of reference  {shown:4d} shown  {verdict}")


def run(label: str, engine: sa.Engine, photos: int, runs: int) -> None:
    """Seed one database and print its timings."""
    began = time.perf_counter()
    owner = seed(engine, photos)
    print(f"\n{label}: {photos} photos seeded in {time.perf_counter() - began:.0f} s")
    print_figures(search_figures(engine, owner, runs))


def main() -> None:
    """Parse arguments and run on SQLite, then on PostgreSQL when it answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'bench.db'}")
        run("SQLite (FTS5)", engine, args.photos, args.runs)
        engine.dispose()
    try:
        import psycopg

        admin = psycopg.connect(args.postgres_url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - the bench runs on what is there
        print(f"\nPostgreSQL skipped: {exc}")
        return
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = args.postgres_url.rsplit("/", 1)[0].replace("postgresql://",
                                                           "postgresql+psycopg://")
        engine = create_engine(f"{base}/{name}")
        run("PostgreSQL (full-text + pg_trgm)", engine, args.photos, args.runs)
        engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
