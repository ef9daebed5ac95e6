"""Timeline figures at library scale, on SQLite and PostgreSQL and in Chromium.

Usage: uv run python -m bench.timeline [--photos 100000] [--runs 50] [--skip-browser]
       [--only database|browser|...]

Each section prints its figures, the ratio of each to its goal (at most 1.0 meets it) and, where
there is one, to a reference measured in the same run. Sections are functions in SECTIONS: a new
one takes the `Bench` context (its seeded databases and options) and returns its goal lines.

1. database: 100,000 photos of one person (and 10,000 of another) are bulk-inserted as rows,
   with rendition rows pointing at a few shared thumbnails, on a fresh SQLite file and a fresh
   PostgreSQL database, both migrated with the committed migrations (so the timeline's count
   tables are filled by their triggers as the rows go in). Medians of: the month buckets query,
   one month's tiles query (a month of median size), and, as the reference, a plain count of
   the person's photos; the GROUP BY over every photo that the counts replace is shown beside.
   Database time is the statement's execution and fetch (SQLAlchemy Core); the service
   function's time (rows to objects) is shown beside it.
2. browser: the real app (`reflex run --env prod`) on the seeded SQLite library, driven by
   Chromium: first paint of the library with thumbnails (navigation start until the first
   tile's image has loaded), a scrubber jump to a month far away (click until that month's
   first image has loaded), and the size of the page's Reflex state on the server (the
   pickled states of the client's token, as the app's Redis state manager stores them, read
   from Redis after the library was opened, jumped in and scrolled). The
   reference is the first paint of the trash page (same app, same session).
3. search: the search service (`search.search_photos`, first page of 120) for the cases of
   `bench/search.py` on the same databases, median and 90th percentile, against 150 ms and
   the timeline's first page as the reference. Here only filenames carry words; `bench/search.py`
   seeds titles, cameras and formats too.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from imgstream.models import Photo, Rendition, RenditionKind, local_day
from imgstream.services import identity, timeline
from imgstream.services.object_keys import preview_key as preview_key_of
from imgstream.services.object_keys import thumbnail_key
from imgstream.services.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
GOAL_QUERY_MS = 5.0
GOAL_FIRST_PAINT_S = 1.5
GOAL_JUMP_S = 1.0
GOAL_STATE_BYTES = 1_000_000
SHARED_THUMBNAILS = 4


@dataclass
class SeededLibrary:
    """A database holding a seeded library."""

    name: str
    url: str
    owner_id: uuid.UUID
    months: list[timeline.MonthBucket] = field(default_factory=list)


@dataclass
class Bench:
    """What every section gets: options and the seeded databases."""

    photos: int
    runs: int
    databases: list[SeededLibrary] = field(default_factory=list)
    goals: list[tuple[str, float, float]] = field(default_factory=list)
    """(what, measured, goal): met when measured <= goal."""


def shared_thumbnails(storage: Storage,
                      owner_id: uuid.UUID) -> list[tuple[str, str, str, int, int]]:
    """A few real thumbnails and previews in storage.

    Returns:
        (thumbnail key, preview key, thumbhash, width, height) of each.
    """
    from PIL import Image

    from imgstream.services import imaging

    made = []
    for i in range(SHARED_THUMBNAILS):
        size = (1200, 900) if i % 2 == 0 else (900, 1200)
        image = Image.new("RGB", size, (40 + 50 * i, 120, 200 - 40 * i))
        for x in range(0, size[0], 60):
            image.paste((220, 200 - 30 * i, 60), (x, size[1] // 2, x + 30, size[1] // 2 + 60))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "seed.jpg"
            image.save(path, "JPEG", quality=85)
            path_bytes = path.read_bytes()
            analysis = imaging.analyse(path, thumbnail_size=400, preview_size=1440,
                                       max_pixels=50_000_000)
        shared_id = uuid.uuid4()
        key, preview_key = thumbnail_key(owner_id, shared_id), preview_key_of(owner_id,
                                                                               shared_id, "jpg")
        storage.put_bytes(key, analysis.thumbnail.data)
        storage.put_bytes(preview_key,
                          analysis.preview.data if analysis.preview else path_bytes)
        made.append((key, preview_key, analysis.thumbhash, size[0], size[1]))
    return made


def seed_photos(engine: sa.Engine, owner_id: uuid.UUID, count: int, *, years: int = 20,
                thumbnails: list[tuple[str, str, str, int, int]] | None = None,
                seed: int = 1, batch: int = 5000) -> None:
    """Bulk-insert photo rows (and thumbnail rows) for one person, spread over `years`.

    Rows go in directly, as a bulk import would: no images beyond the shared thumbnails.

    Args:
        engine: The migrated database.
        owner_id: Whose photos.
        count: How many.
        years: Taken over this many years before now, unevenly (more in recent years).
        thumbnails: Shared thumbnails the rendition rows point at (none: no rendition rows).
        seed: Random seed.
        batch: Rows per insert.
    """
    rng = random.Random(seed)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    span = years * 365 * 86400
    photos: list[dict] = []
    rows: list[dict] = []

    def flush() -> None:
        with engine.begin() as conn:
            if photos:
                conn.execute(sa.insert(Photo.__table__), photos)
            if rows:
                conn.execute(sa.insert(Rendition.__table__), rows)
        photos.clear()
        rows.clear()

    for i in range(count):
        # Recent years hold more photos, as phones fill libraries.
        taken = now - timedelta(seconds=int(span * rng.random() ** 1.6))
        offset = rng.choice((None, 0, 60, 120, -300, 540))
        day = local_day(taken, offset)
        thumb = thumbnails[i % len(thumbnails)] if thumbnails else ("", "", None, 4000, 3000)
        photo_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        photos.append({
            "id": photo_id, "owner_id": owner_id, "filename": f"IMG_{i:06d}.jpg",
            "name_key": f"img_{i:06d}.jpg", "revision": 0, "sha256": f"{photo_id.hex}{i:032x}"[:64],
            "format": "JPEG", "mime": "image/jpeg", "size_bytes": 3_000_000,
            "width": thumb[3], "height": thumb[4], "taken_at": taken,
            "taken_at_offset_minutes": offset, "taken_at_source": "exif_original",
            "taken_day": day, "taken_month": day[:7], "title": "", "description": "",
            "favorite": i % 50 == 0, "uploaded_at": now, "updated_at": now, "thumbhash": thumb[2],
            "gps_latitude": 48.85837 if i % 7 == 0 else None,
            "gps_longitude": 2.29448 if i % 7 == 0 else None,
        })
        if thumbnails:
            rows.append({"id": uuid.uuid4(), "photo_id": photo_id, "kind": RenditionKind.THUMB,
                         "key": thumb[0], "width": 400, "height": 300, "format": "WEBP",
                         "size_bytes": 10_000})
            rows.append({"id": uuid.uuid4(), "photo_id": photo_id,
                         "kind": RenditionKind.PREVIEW, "key": thumb[1],
                         "width": thumb[3], "height": thumb[4], "format": "JPEG",
                         "size_bytes": 100_000})
        if len(photos) >= batch:
            flush()
    flush()


def migrate(url: str) -> None:
    """Apply the committed migrations to a database."""
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


def _owner(engine: sa.Engine, email: str) -> uuid.UUID:
    with Session(engine) as session:
        return identity.provision_user(session=session, email=email).id


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _postgres_url() -> tuple[str, Callable[[], None]] | None:
    admin_url = os.environ.get("IMGSTREAM_TEST_POSTGRES_URL",
                               "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not reachable ({exc}): its figures are left out")
        return None
    name = f"imgstream_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{base}/{name}", drop


def seed_database(name: str, url: str, photos: int) -> SeededLibrary:
    """Migrate and seed one database for the sections."""
    from imgstream.runtime import create_engine

    migrate(url)
    engine = create_engine(url)
    owner = _owner(engine, "bench@example.com")
    other = _owner(engine, "other@example.com")
    start = time.perf_counter()
    seed_photos(engine, owner, photos)
    seed_photos(engine, other, photos // 10, seed=2)
    # As autovacuum would after a bulk import: statistics, and PostgreSQL's visibility map
    # (index-only scans skip the table only for pages it marks all-visible).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                             else "ANALYZE"))
    print(f"{name}: seeded {photos:,} + {photos // 10:,} photos in "
          f"{time.perf_counter() - start:.1f} s")
    with Session(engine) as session:
        months = timeline.month_buckets(session=session, owner_id=owner)
    engine.dispose()
    return SeededLibrary(name, url, owner, months)


def _database_figures(library: SeededLibrary,
                      runs: int) -> list[tuple[str, float, float | None]]:
    """(what, median ms, goal ms) on one database; the reference count first."""
    from imgstream.runtime import create_engine

    engine = create_engine(library.url)
    month = sorted(library.months, key=lambda b: b.count)[len(library.months) // 2]
    owner = library.owner_id
    bucket_sql = timeline.month_buckets_query(owner)
    month_sql = timeline.month_tiles_query(owner, month.month)
    grouped_sql = (
        sa.select(Photo.taken_month, sa.func.count(),
                  sa.func.count(sa.distinct(Photo.taken_day)))
        .where(Photo.owner_id == owner, Photo.deleted_at.is_(None))
        .group_by(Photo.taken_month).order_by(Photo.taken_month.desc())
    )
    count_sql = sa.select(sa.func.count()).select_from(Photo).where(
        Photo.owner_id == owner, Photo.deleted_at.is_(None))
    with engine.connect() as conn, Session(engine) as session:
        reference = _median_ms(lambda: conn.execute(count_sql).all(), runs)
        figures = [
            ("count(*) (reference)", reference, None),
            ("month buckets", _median_ms(lambda: conn.execute(bucket_sql).all(), runs),
             GOAL_QUERY_MS),
            (f"month {month.month} ({month.count})",
             _median_ms(lambda: conn.execute(month_sql).all(), runs), GOAL_QUERY_MS),
            ("  GROUP BY over photos", _median_ms(
                lambda: conn.execute(grouped_sql).all(), runs), None),
            ("  service: month_buckets", _median_ms(
                lambda: timeline.month_buckets(session=session, owner_id=owner),
                runs), None),
            ("  service: month_tiles", _median_ms(
                lambda: timeline.month_tiles(session=session, owner_id=owner,
                                             month=month.month), runs), None),
        ]
    engine.dispose()
    return figures


def database_section(bench: Bench) -> None:
    """Bucket query and one month's query, median database time, on each database."""
    print("\n## Database: month buckets and one month")
    print(f"{'database':<11} {'query':<26} {'median ms':>10} {'goal ms':>8} {'ratio':>6} "
          f"{'x count(*)':>10}")
    for library in bench.databases:
        figures = _database_figures(library, bench.runs)
        reference = figures[0][1]
        for what, ms, goal in figures:
            ratio = f"{ms / goal:6.2f}" if goal else "      "
            print(f"{library.name:<11} {what:<26} {ms:>10.2f} {goal or '':>8} {ratio} "
                  f"{ms / reference:>10.2f}")
            if goal:
                bench.goals.append((f"{library.name} {what.strip()} (ms)", ms, goal))


def _redis_url() -> str | None:
    url = os.environ.get("IMGSTREAM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"Redis not reachable ({exc}): the state size is left out")
        return None
    return url


def _state_bytes(redis_url: str | None, token: str) -> tuple[int, int]:
    """Bytes and count of the pickled states Reflex's Redis state manager holds for a tab.

    The app keys a tab's states by who is signed in and the tab's token ("{user}-{token}_…",
    "anon-{token}_…" before sign-in); the signed-in one is the state the library page uses.
    """
    if not redis_url or not token:
        return 0, 0
    import redis

    client = redis.Redis.from_url(redis_url)
    groups: dict[bytes, list[int]] = {}
    for key in client.scan_iter(match=f"*{token}_*", count=1000):
        if key.endswith(b"_lock"):
            continue
        groups.setdefault(key.split(b"_", 1)[0], []).append(client.strlen(key))
    signed_in = [sizes for prefix, sizes in groups.items() if not prefix.startswith(b"anon-")]
    sizes = max(signed_in or list(groups.values()) or [[]], key=sum)
    return sum(sizes), len(sizes)


def browser_section(bench: Bench) -> None:
    """First paint, scrubber jump and state size in Chromium, on a seeded SQLite library."""
    from playwright.sync_api import sync_playwright

    from imgstream.config import Settings
    from imgstream.runtime import create_engine
    from imgstream.testing import CHROMIUM_ARGS, chromium_path, running_app, sign_in

    print("\n## Browser: library of", f"{bench.photos:,}", "photos in Chromium")
    # The app keeps its states in Redis (as production does with more than one instance), so
    # a client's state is there to be measured as the server stores it.
    redis_url = _redis_url()
    extra_env = {"REFLEX_REDIS_URL": redis_url} if redis_url else {}
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "data",
                                                           extra_env) as app:
        settings = Settings(data_dir=app.data_dir)
        engine = create_engine(settings.resolved_database_url)
        owner = _owner(engine, "ada@example.com")
        from imgstream.services.storage import LocalStorage

        store = LocalStorage(settings.photos_dir, secret=settings.signing_key(),
                             url_ttl_seconds=settings.media_url_ttl_seconds)
        seed_photos(engine, owner, bench.photos, thumbnails=shared_thumbnails(store, owner))
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        with Session(engine) as session:
            months = timeline.month_buckets(session=session, owner_id=owner)
        engine.dispose()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=app.url, viewport={"width": 1440, "height": 900})
            sign_in(page)
            first_image = ("() => { const img = document.querySelector("
                           "'[data-testid=timeline-month] [data-testid=photo-card] img');"
                           " return !!img && img.complete && img.naturalWidth > 0; }")
            paints, references = [], []
            for _ in range(3):
                page.goto("/trash")
                page.wait_for_selector("[data-testid=current-user]:has-text('@')")
                references.append(page.evaluate("performance.now()") / 1000)
                page.goto("/")
                page.wait_for_function(first_image, timeout=60_000)
                paints.append(page.evaluate("performance.now()") / 1000)
            paint, reference = statistics.median(paints), statistics.median(references)
            jumps = []
            targets = [months[len(months) * k // 4].month for k in (3, 1, 2)]
            for month in targets:
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(300)
                start = time.perf_counter()
                page.locator(f"[data-testid=timeline-scrubber-month][data-month='{month}']") \
                    .click()
                page.wait_for_function(
                    "(m) => { const img = document.querySelector("
                    "`[data-testid=timeline-month][data-month='${m}']"
                    " [data-testid=photo-card] img`); return !!img && img.complete"
                    " && img.naturalWidth > 0; }", arg=month, timeout=60_000)
                jumps.append(time.perf_counter() - start)
            jump = statistics.median(jumps)
            # Scrolled through a far month, as a person browsing would be.
            page.mouse.wheel(0, 4000)
            page.wait_for_timeout(1500)
            token = page.evaluate("sessionStorage.getItem('token')") or ""
            state, substates = _state_bytes(redis_url, token)
            print(f"client token {token[:8]}…: {substates} stored states")
            browser.close()
    print(f"{'figure':<34} {'measured':>10} {'goal':>8} {'ratio':>6} {'x reference':>11}")
    print(f"{'first paint /trash (reference) s':<34} {reference:>10.2f}")
    print(f"{'first paint with thumbnails s':<34} {paint:>10.2f} {GOAL_FIRST_PAINT_S:>8} "
          f"{paint / GOAL_FIRST_PAINT_S:6.2f} {paint / reference:>11.2f}")
    print(f"{'scrubber jump s':<34} {jump:>10.2f} {GOAL_JUMP_S:>8} {jump / GOAL_JUMP_S:6.2f}")
    print(f"{'Reflex state per client bytes':<34} {state:>10,} {GOAL_STATE_BYTES:>8,} "
          f"{state / GOAL_STATE_BYTES:6.2f}")
    bench.goals += [("first paint with thumbnails (s)", paint, GOAL_FIRST_PAINT_S),
                    ("scrubber jump (s)", jump, GOAL_JUMP_S),
                    ("Reflex state per client (bytes)", state, GOAL_STATE_BYTES)]


def search_section(bench: Bench) -> None:
    """The search service's time per query (bench.search's cases), on each database."""
    from bench.search import GOAL_MS, print_figures, search_figures
    from imgstream.runtime import create_engine

    print("\n## Search: first page of 120 results (server time)")
    for library in bench.databases:
        engine = create_engine(library.url)
        figures = search_figures(engine, library.owner_id, bench.runs)
        engine.dispose()
        print(library.name)
        print_figures(figures)
        worst = max(figures[1:], key=lambda f: f[1])
        bench.goals.append((f"{library.name} slowest search: {worst[0]} (ms)", worst[1],
                            GOAL_MS))


SECTIONS: dict[str, Callable[[Bench], None]] = {
    "database": database_section,
    "search": search_section,
    "browser": browser_section,
}
"""The sections in the order they run; add a section here (it gets the seeded databases)."""


def main(argv: list[str] | None = None) -> int:
    """Seed the databases, run the sections, print the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS))
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args(argv)
    bench = Bench(photos=args.photos, runs=args.runs)
    sections = args.only or [name for name in SECTIONS
                             if not (args.skip_browser and name == "browser")]
    cleanups = []
    with tempfile.TemporaryDirectory() as tmp:
        if any(name != "browser" for name in sections):
            bench.databases.append(seed_database(
                "SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.photos))
            postgres = _postgres_url()
            if postgres:
                cleanups.append(postgres[1])
                bench.databases.append(seed_database("PostgreSQL", postgres[0], args.photos))
        try:
            for name in sections:
                SECTIONS[name](bench)
        finally:
            for cleanup in cleanups:
                cleanup()
    print("\n## Goals")
    for what, measured, goal in bench.goals:
        verdict = "met" if measured <= goal else "MISSED"
        print(f"{what:<44} {measured:>12,.2f} <= {goal:<10,} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
