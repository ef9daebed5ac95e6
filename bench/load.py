"""Load bench: N simulated people using ImgStream at once, on loopback only.

Each person signs in (development sign-in), opens the library over the real socket (Reflex's
event protocol through a python-socketio client: hydrate, then events), and then, until the
run ends, picks actions: scrolling (the next page of the timeline), opening a photo, searching,
favouriting, uploading a photo through the chunk API. A share of the people are real Chromium
pages scrolling the library. The app runs as in production (`reflex run --env prod`) with two
workers, Redis, a private PostgreSQL and fake-gcs-server, all started here and on free ports.

It prints p50/p95/p99 per action, errors, lost uploads (begun but not found finished), and the
server's RSS and CPU. `--soak MINUTES` runs that long and reports RSS growth after warm-up and
the file-descriptor and connection counts over time.

    .venv/bin/python -m bench.load --people 50 --seconds 60
    .venv/bin/python -m bench.load --people 100 --seconds 60 --browsers 2
    .venv/bin/python -m bench.load --people 60 --soak 30

New actions: write `async def my_action(person) -> None` and add it to `ACTIONS` with a weight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

MAX_PEOPLE = 1000
MAX_SECONDS = 3600
_END_OF_TIMELINE = re.compile(r"has_more\w*': False")
_MONTH = re.compile(r"'month': '(\d{4}-\d{2})'")
_STORE_CALL = re.compile(r"imgstreamTimeline\.(\w+)\((.*)\)\s*;?\s*$", re.DOTALL)
_PUT_MONTH = re.compile(r'(?<!\\)"month":\s*"(\d{4}-\d{2})"')
_MONTH_COUNT = re.compile(r"'month': '(\d{4}-\d{2})', 'label': '[^']*', 'count': (\d+)")
_PUT_SEGMENT = re.compile(r'(?<!\\)"key":\s*"(\d{4}-\d{2}/\d+/\d+)"')
SEGMENT_PHOTOS = 120
"""Photos per segment the bench asks for, as the timeline script cuts months (at most)."""
SEGMENTS_PER_ASK = 3
SEARCH_WORDS = ["beach", "2019", "jpg", "photo", "june", "zzz-nothing"]


@dataclass
class Stats:
    """Latencies and errors per action."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: dict[str, str] = field(default_factory=dict)
    begun_uploads: set[tuple[str, str]] = field(default_factory=set)
    finished_uploads: set[tuple[str, str]] = field(default_factory=set)

    def record(self, action: str, seconds: float) -> None:
        self.times[action].append(seconds)

    def error(self, action: str, what: str) -> None:
        self.errors[action] += 1
        self.error_samples.setdefault(action, what[:200])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# ---------------------------------------------------------------- a person over the socket


# Event handlers the bench drives, by short name: (module, state class, handler). One that the
# app does not have (yet) is left out, and the actions that need it fall back to the REST API.
HANDLERS = {
    "load_more": ("imgstream.state.gallery", "GalleryState", "load_more"),
    "load_months": ("imgstream.state.gallery", "GalleryState", "report"),
    "load_photo": ("imgstream.state.photo", "PhotoState", "load_photo"),
    "load_edits": ("imgstream.state.photo_edits", "PhotoEditState", "load"),
    "toggle_favorite": ("imgstream.state.photo_edits", "PhotoEditState", "toggle_favorite"),
    "set_query": ("imgstream.state.search", "SearchState", "set_query"),
    "follow_changes": ("imgstream.state.live", "LiveState", "watch"),
}


def _event_names() -> dict[str, str]:
    """Full Reflex event names of the handlers the bench drives (read from the app's states)."""
    import importlib

    from reflex.state import State

    # What the browser sends on (re)connect: the state snapshot, then the page's on-load chain.
    names = {"hydrate": f"{State.get_full_name()}.hydrate_and_load"}
    for short, (module, cls, handler) in HANDLERS.items():
        try:
            state = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            continue
        if hasattr(state, handler):
            names[short] = f"{state.get_full_name()}.{handler}"
    if _asks_segments():
        names["segments"] = "yes"
    return names


@dataclass
class Person:
    """One simulated person: a signed-in HTTP client and a Reflex socket."""

    url: str
    email: str
    stats: Stats
    names: dict[str, str]
    http: httpx.AsyncClient | None = None
    sio: object | None = None
    photo_ids: list[str] = field(default_factory=list)
    pending: asyncio.Future | None = None
    last_delta_bytes: int = 0
    at_end: bool = False
    open_photo_id: str = ""
    months: list[str] = field(default_factory=list)
    next_month: int = 0
    month_counts: dict[str, int] = field(default_factory=dict)
    next_segment: int = 0
    expect: Callable[[dict], bool] | None = None
    """Which frame answers the pending event (None: the first frame that comes)."""

    async def sign_in(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.url, timeout=60,
                                      headers={"Origin": self.url})
        answer = await self.http.post("/auth/dev-sign-in", data={"email": self.email})
        if answer.status_code not in (200, 303):
            raise RuntimeError(f"sign-in: {answer.status_code}")

    async def connect(self) -> None:
        import socketio

        self.sio = socketio.AsyncClient(reconnection=True)

        @self.sio.on("event", namespace="/_event")
        async def on_event(data):  # noqa: ANN001, ANN202
            text = str(data)
            self.last_delta_bytes = max(self.last_delta_bytes, len(text))
            if "load_months" not in self.names and _END_OF_TIMELINE.search(text):
                self.at_end = True
            if not self.months:
                self.months = _MONTH.findall(text)
                self.month_counts = {m: int(c) for m, c in _MONTH_COUNT.findall(text)}
            if not isinstance(data, dict) or not self.pending or self.pending.done():
                return
            if self.expect is None or self.expect(data):
                self.pending.set_result(data)

        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        ws = self.url.replace("http", "ws", 1)
        await self.sio.connect(f"{ws}?token={uuid.uuid4()}", socketio_path="/_event",
                               transports=["websocket"], namespaces=["/_event"],
                               headers={"Cookie": cookie, "Origin": self.url},
                               wait_timeout=30)

    async def event(self, action: str, name: str, pathname: str = "/",
                    payload: dict | None = None, query: dict | None = None,
                    expect: Callable[[dict], bool] | None = None) -> dict | None:
        """Send one event and wait for its answer: the first frame `expect` accepts (any frame
        without it). Reflex 0.10 sends deltas and script calls as separate frames, with no
        "final" flag and nothing naming the event they answer, so the caller says what the
        answer looks like."""
        loop = asyncio.get_running_loop()
        self.expect = expect
        self.pending = loop.create_future()
        started = time.perf_counter()
        await self.sio.emit("event", {
            "name": self.names[name], "payload": payload or {},
            "router_data": {"pathname": pathname, "query": query or {}, "asPath": pathname},
        }, namespace="/_event")
        try:
            reply = await asyncio.wait_for(self.pending, 15)
        except TimeoutError:
            self.stats.error(action, "no answer in 15 s")
            self.at_end = True  # a load_more with nothing left changes nothing: no answer
            return None
        self.stats.record(action, time.perf_counter() - started)
        return reply

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        with contextlib.suppress(Exception):
            await self.http.aclose()


def timeline_scripts(frame: dict) -> list[tuple[str, object]]:
    """The timeline-store calls a socket frame carries: (function, its first argument).

    The library's months reach the browser as `rx.call_script` events in the frame's
    `events` ("window.imgstreamTimeline.put([...])"), not as a state delta.
    """
    calls = []
    for event in frame.get("events") or []:
        if not isinstance(event, dict) or not str(event.get("name", "")).endswith("_call_script"):
            continue
        code = str((event.get("payload") or {}).get("javascript_code", ""))
        found = _STORE_CALL.search(code)
        if not found:
            continue
        argument: object = None
        text = found.group(2).strip()
        if text:
            with contextlib.suppress(ValueError):
                argument = json.loads(f"[{text}]")[0]
        calls.append((found.group(1), argument))
    return calls


def months_put(frame: dict) -> set[str]:
    """The months whose photos a frame puts into the browser's timeline store.

    Read from the call's text (its months' keys) rather than by decoding the whole payload:
    the bench answers every frame on the same cores as the server it measures.
    """
    months: set[str] = set()
    for event in frame.get("events") or []:
        if not isinstance(event, dict) or not str(event.get("name", "")).endswith("_call_script"):
            continue
        code = str((event.get("payload") or {}).get("javascript_code", ""))
        if "imgstreamTimeline.put(" in code:
            months.update(_PUT_MONTH.findall(code))
    return months


def segments_put(frame: dict) -> set[str]:
    """The segments ("2024-07/0/120") whose photos a frame puts into the timeline store."""
    keys: set[str] = set()
    for event in frame.get("events") or []:
        if not isinstance(event, dict) or not str(event.get("name", "")).endswith("_call_script"):
            continue
        code = str((event.get("payload") or {}).get("javascript_code", ""))
        if "imgstreamTimeline.putPhotos(" in code:
            keys.update(_PUT_SEGMENT.findall(code))
    return keys


def segments_of(month_counts: dict[str, int]) -> list[str]:
    """The library's segments, newest first, as keys the timeline asks for."""
    return [f"{month}/{offset}/{min(SEGMENT_PHOTOS, count - offset)}"
            for month, count in sorted(month_counts.items(), reverse=True)
            for offset in range(0, count, SEGMENT_PHOTOS)]


def _asks_segments() -> bool:
    """Whether the timeline asks for segments of months (else for whole months)."""
    from imgstream.state import gallery

    return hasattr(gallery, "parse_segment")


def answers_scroll(months: list[str]) -> Callable[[dict], bool]:
    """The answer to asking for `months`: a frame putting (at least one of) them."""
    wanted = set(months)
    return lambda frame: bool(months_put(frame) & wanted)


def opens_library(frame: dict) -> bool:
    """The end of the library's on-load: its months as state, or the store reset/refilled."""
    return bool(_MONTH.search(str(frame.get("delta", "")))) or any(
        function in ("reset", "put") for function, _ in timeline_scripts(frame))


async def open_library(person: Person) -> None:
    """Open the library as the browser does on connect: the state snapshot, then its on-load
    chain (sign-in check, the timeline's months), answered by the months or the store reset."""
    await person.event("open_library", "hydrate", "/", expect=opens_library)


async def follow_changes(person: Person) -> None:
    """Start the tab's follower of the person's changes, as every page does when it mounts
    (a background task: no answer until something changes)."""
    if "follow_changes" in person.names:
        await person.sio.emit("event", {
            "name": person.names["follow_changes"], "payload": {},
            "router_data": {"pathname": "/", "query": {}, "asPath": "/"},
        }, namespace="/_event")


async def scroll(person: Person) -> None:
    """Scroll the timeline: the photos of the next months (month timeline), or the next page
    of the grid ("load more"); at the end, back to the top."""
    if "load_months" in person.names and person.names.get("segments"):
        segments = segments_of(person.month_counts)
        if not segments:
            return
        keys = list(dict.fromkeys(segments[(person.next_segment + i) % len(segments)]
                                  for i in range(SEGMENTS_PER_ASK)))
        person.next_segment += SEGMENTS_PER_ASK
        await person.event("scroll", "load_months", "/",
                           payload={"event": {"kind": "photos", "segments": keys}},
                           expect=lambda frame: bool(segments_put(frame) & set(keys)))
        return
    if "load_months" in person.names:
        if not person.months:
            return
        months = list(dict.fromkeys(
            person.months[(person.next_month + i) % len(person.months)] for i in (0, 1)))
        person.next_month += 2
        await person.event("scroll", "load_months", "/",
                           payload={"event": {"kind": "need", "months": months}},
                           expect=answers_scroll(months))
        return
    if person.at_end:
        person.at_end = False
        await person.event("scroll", "hydrate", "/")
    else:
        await person.event("scroll", "load_more", "/")


async def open_photo(person: Person) -> None:
    """Open one of the person's photos: the photo page's on-load handlers, one after another."""
    if not person.photo_ids:
        return
    photo_id = random.choice(person.photo_ids)
    path, query = f"/photo/{photo_id}", {"photo_id": photo_id}
    started = time.perf_counter()
    for handler in ("load_photo", "load_edits"):
        if handler in person.names and await person.event(
                f"open_photo:{handler}", handler, path, query=query) is None:
            return
    person.stats.record("open_photo", time.perf_counter() - started)
    person.open_photo_id = photo_id


async def _api(person: Person, action: str, method: str, path: str, **kwargs) -> httpx.Response:
    started = time.perf_counter()
    try:
        answer = await person.http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        person.stats.error(action, repr(exc))
        raise
    if answer.status_code >= 400:
        person.stats.error(action, f"{answer.status_code} {answer.text[:120]}")
    else:
        person.stats.record(action, time.perf_counter() - started)
    return answer


async def search(person: Person) -> None:
    """Type words on the search page (its state searches as they change)."""
    words = random.choice(SEARCH_WORDS)
    if "set_query" in person.names:
        await person.event("search", "set_query", "/search", payload={"value": words})
    else:
        await _api(person, "search", "GET", "/api/v1/photos", params={"q": words, "limit": 60})


async def favourite(person: Person) -> None:
    """Mark or unmark the open photo as a favourite (opening one first if none is open)."""
    if "toggle_favorite" not in person.names:
        if person.photo_ids:
            await _api(person, "favourite", "PATCH",
                       f"/api/v1/photos/{random.choice(person.photo_ids)}",
                       json={"favorite": random.random() < 0.5})
        return
    if not person.open_photo_id:
        await open_photo(person)
    if person.open_photo_id:
        path = f"/photo/{person.open_photo_id}"
        await person.event("favourite", "toggle_favorite", path,
                           query={"photo_id": person.open_photo_id})


_PHOTOS: list[bytes] = []


def _photo() -> bytes:
    if not _PHOTOS:
        import io

        from PIL import Image

        for i in range(8):
            out = io.BytesIO()
            Image.effect_noise((640, 480), 40 + i).convert("RGB").save(out, "JPEG", quality=85)
            _PHOTOS.append(out.getvalue())
    # Unique bytes (a comment) so each upload is a new photo, not a duplicate.
    data = random.choice(_PHOTOS)
    return data[:2] + b"\xff\xfe\x00\x12" + uuid.uuid4().hex[:14].encode() + data[2:]


async def upload(person: Person) -> None:
    """Upload one photo through the chunk API: begin, chunks, complete."""
    data = _photo()
    started = time.perf_counter()
    begun = await person.http.post("/api/v1/uploads", json={"filename": f"{uuid.uuid4().hex}.jpg",
                                                            "size": len(data)})
    if begun.status_code != 201:
        person.stats.error("upload", f"begin {begun.status_code} {begun.text[:120]}")
        return
    body = begun.json()
    key = (person.email, body["id"])
    person.stats.begun_uploads.add(key)
    chunk = body["chunk_bytes"]
    received = 0
    while received < len(data):
        answer = await person.http.put(f"/api/v1/uploads/{body['id']}/chunks",
                                       params={"offset": received},
                                       content=data[received:received + chunk])
        if answer.status_code not in (200, 409):
            person.stats.error("upload", f"chunk {answer.status_code} {answer.text[:120]}")
            return
        received = answer.json()["received"]
    done = await person.http.post(f"/api/v1/uploads/{body['id']}/complete", json={})
    if done.status_code != 200 or done.json().get("status") not in ("added", "duplicate"):
        person.stats.error("upload", f"complete {done.status_code} {done.text[:120]}")
        return
    person.stats.record("upload", time.perf_counter() - started)
    person.stats.finished_uploads.add(key)
    person.photo_ids.append(done.json()["photo_id"])


SOCKET_ACTIONS = ("open_library", "scroll", "open_photo:load_photo", "open_photo:load_edits",
                  "search", "favourite")
"""Timings of one socket event each (open_photo is the sum of its two handlers)."""

ACTIONS: list[tuple[Callable[[Person], Awaitable[None]], int]] = [
    (scroll, 50), (open_photo, 20), (search, 15), (favourite, 10), (upload, 5),
]


async def _person_loop(person: Person, until: float, think: tuple[float, float]) -> None:
    actions, weights = zip(*ACTIONS, strict=True)
    while time.monotonic() < until:
        await asyncio.sleep(random.uniform(*think))
        action = random.choices(actions, weights)[0]
        try:
            await action(person)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, the run goes on
            person.stats.error(action.__name__, repr(exc))


async def _known_photos(person: Person) -> None:
    answer = await person.http.get("/api/v1/photos", params={"limit": 200})
    if answer.status_code == 200:
        person.photo_ids = [photo["id"] for photo in answer.json().get("photos", [])]


# ---------------------------------------------------------------- real browsers


async def _browser_loop(url: str, email: str, until: float, stats: Stats) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            await page.goto(f"{url}/signin")
            await page.request.post(f"{url}/auth/dev-sign-in", form={"email": email},
                                    headers={"Origin": url})
            started = time.perf_counter()
            await page.goto(url)
            await page.get_by_test_id("photo-card").first.wait_for(timeout=60_000)
            stats.record("browser_open_library", time.perf_counter() - started)
            while time.monotonic() < until:
                cards = await page.get_by_test_id("photo-card").count()
                started = time.perf_counter()
                await page.mouse.wheel(0, 4000)
                with contextlib.suppress(Exception):
                    await page.wait_for_function(
                        f"document.querySelectorAll('[data-testid=photo-card]').length > {cards}",
                        timeout=5000)
                    stats.record("browser_scroll", time.perf_counter() - started)
                await asyncio.sleep(random.uniform(0.5, 1.5))
        except Exception as exc:  # noqa: BLE001
            stats.error("browser", repr(exc))
        finally:
            await browser.close()


# ---------------------------------------------------------------- the server


class ServerWatch:
    """Samples RSS, CPU, open files and connections of the app's process tree.

    It runs in a process of its own (`watch_server`): reading /proc for every connection of the
    app takes tens of milliseconds, which in the people's event loop would count as latency.
    """

    CONNECTIONS_EVERY = 10
    """Samples between two counts of the connections (the costliest reading)."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, float, float, int, int]] = []
        self._known: dict[int, psutil.Process] = {}

    def _tree(self) -> list[psutil.Process]:
        """The same Process objects from sample to sample (cpu_percent compares with the last)."""
        try:
            current = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []
        for proc in current:
            self._known.setdefault(proc.pid, proc)
        return [self._known[proc.pid] for proc in current]

    def run(self, until: float) -> list[tuple[float, float, float, int, int]]:
        """Sample once a second until `until` (time.monotonic)."""
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                proc.cpu_percent(None)
        conns = 0
        while time.monotonic() < until:
            time.sleep(1)
            count_connections = len(self.samples) % self.CONNECTIONS_EVERY == 0
            rss = cpu = 0.0
            fds = 0
            counted = 0
            for proc in self._tree():
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
                    cpu += proc.cpu_percent(None)
                    fds += proc.num_fds()
                    if count_connections:
                        counted += len(proc.net_connections())
            conns = counted if count_connections else conns
            self.samples.append((time.monotonic(), rss / 2**20, cpu, fds, conns))
        return self.samples


def _watch(pid: int, until: float, pipe) -> None:  # noqa: ANN001
    pipe.send(ServerWatch(pid).run(until))


async def watch_server(pid: int, until: float) -> list:
    """ServerWatch's samples, taken in a process of its own."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe(duplex=False)
    proc = context.Process(target=_watch, args=(pid, until, theirs), daemon=True)
    proc.start()
    try:
        return await asyncio.to_thread(mine.recv)
    finally:
        proc.join(5)


@contextlib.contextmanager
def started_app(workers: int):
    """Redis, PostgreSQL and fake-gcs-server of their own, and the app with `workers` workers."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs_client

    from tests.e2e.running_app import running_app
    from tests.faults.services import private_gcs, private_postgres, private_redis

    base = Path(tempfile.mkdtemp(prefix="imgstream-load-"))
    with private_redis() as redis, private_postgres(base) as pg, private_gcs(base) as gcs:
        bucket = "load-bench"
        import os

        os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
        gcs_client.Client(project="test", credentials=AnonymousCredentials()).create_bucket(bucket)
        env = {"REFLEX_REDIS_URL": redis.url, "GRANIAN_WORKERS": str(workers),
               "IMGSTREAM_DATABASE_URL": pg.url, "IMGSTREAM_GCS_BUCKET": bucket,
               "STORAGE_EMULATOR_HOST": gcs.url, "IMGSTREAM_LOG_LEVEL": "WARNING",
               "IMGSTREAM_API_RATE_PER_PERSON": "100000/minute",
               "IMGSTREAM_API_RATE_PER_KEY": "100000/minute",
               "IMGSTREAM_API_UPLOAD_BYTES_PER_HOUR": str(10**12)}
        with running_app(base / "data", env) as app:
            yield app


async def _seed(url: str, emails: list[str], photos: int, stats: Stats) -> None:
    """Give each account `photos` photos through the chunk API."""
    async def one(email: str) -> None:
        person = Person(url, email, stats, {})
        await person.sign_in()
        for start in range(0, photos, 4):
            await asyncio.gather(*(upload(person) for _ in range(min(4, photos - start))))
        await person.close()

    await asyncio.gather(*(one(email) for email in emails))


async def run(url: str, pid: int | None, people: int, seconds: float, browsers: int,
              accounts: int, photos: int, think: tuple[float, float],
              warmup: float = 0.0, live: bool = False) -> tuple[Stats, list]:
    names = _event_names()
    emails = [f"load-{i}@example.com" for i in range(accounts)]
    seed_stats = Stats()
    await _seed(url, emails, photos, seed_stats)
    stats = Stats()
    crowd = [Person(url, emails[i % accounts], stats, names) for i in range(people)]
    for batch in range(0, people, 20):  # sign in and connect 20 at a time
        await asyncio.gather(*(p.sign_in() for p in crowd[batch:batch + 20]))
        await asyncio.gather(*(p.connect() for p in crowd[batch:batch + 20]))
        await asyncio.gather(*(_known_photos(p) for p in crowd[batch:batch + 20]))
        await asyncio.gather(*(open_library(p) for p in crowd[batch:batch + 20]))
        if live:
            await asyncio.gather(*(follow_changes(p) for p in crowd[batch:batch + 20]))
    until = time.monotonic() + seconds
    print(f"{people} people connected; acting for {seconds:.0f} s", file=sys.stderr, flush=True)
    tasks = [_person_loop(p, until, think) for p in crowd]
    tasks += [_browser_loop(url, emails[i % accounts], until, stats) for i in range(browsers)]
    if pid:
        tasks.append(watch_server(pid, until))
    me = psutil.Process()
    cpu_before, started = sum(me.cpu_times()[:2]), time.monotonic()
    done = await asyncio.gather(*tasks)
    stats.client_cpu = (sum(me.cpu_times()[:2]) - cpu_before) / (time.monotonic() - started) * 100
    # Lost uploads: begun and answered as finished, but not in the library afterwards.
    for person in crowd[:accounts]:
        await _known_photos(person)
    await asyncio.gather(*(p.close() for p in crowd))
    stats.delta_bytes = max((p.last_delta_bytes for p in crowd), default=0)
    return stats, done[-1] if pid else []


def report(stats: Stats, samples: list, people: int, seconds: float, warmup: float) -> None:
    print(f"\n{people} people, {seconds:.0f} s")
    print(f"{'action':<22}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for action in sorted(set(stats.times) | set(stats.errors)):
        values = stats.times.get(action, [])
        print(f"{action:<22}{len(values):>7}{percentile(values, .5) * 1000:>9.0f}"
              f"{percentile(values, .95) * 1000:>9.0f}{percentile(values, .99) * 1000:>9.0f}"
              f"{stats.errors.get(action, 0):>8}")
    for action, sample in stats.error_samples.items():
        print(f"  first {action} error: {sample}")
    lost = len(stats.begun_uploads - stats.finished_uploads)
    print(f"uploads begun {len(stats.begun_uploads)}, finished {len(stats.finished_uploads)},"
          f" not finished {lost}")
    print(f"largest event answer: {getattr(stats, 'delta_bytes', 0) / 1024:.0f} KB")
    events = sum(len(v) for k, v in stats.times.items() if k in ("scroll", "open_photo"))
    print(f"socket events/s: {events / seconds:.1f}")
    answered = sum(len(v) for k, v in stats.times.items() if k in SOCKET_ACTIONS)
    print(f"socket events answered/s (all handlers): {answered / seconds:.1f}")
    if hasattr(stats, "client_cpu"):
        print(f"bench client CPU % (of one core): {stats.client_cpu:.0f}")
    load1, load5, _ = psutil.getloadavg()
    print(f"machine load average: {load1:.1f} (1 min), {load5:.1f} (5 min)")
    if samples:
        rss = [s[1] for s in samples]
        cpu = [s[2] for s in samples]
        print(f"server RSS MiB: start {rss[0]:.0f}, max {max(rss):.0f}, end {rss[-1]:.0f};"
              f" CPU % (of one core) median {statistics.median(cpu):.0f}, max {max(cpu):.0f}")
        after = [s for s in samples if s[0] - samples[0][0] >= warmup] or samples
        if warmup:
            growth = (after[-1][1] - after[0][1]) / after[0][1] * 100
            print(f"soak: RSS after warm-up {after[0][1]:.0f} -> {after[-1][1]:.0f} MiB"
                  f" ({growth:+.1f} %); fds {after[0][3]} -> {after[-1][3]};"
                  f" connections {after[0][4]} -> {after[-1][4]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[50],
                        help="crowd sizes, run one after the other against the same app")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--browsers", type=int, default=1, help="real Chromium pages")
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--photos", type=int, default=120, help="photos per account")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5),
                        help="seconds between one person's actions")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="an app already running on loopback (no services started)")
    parser.add_argument("--pid", type=int, help="the app's server pid, with --url")
    parser.add_argument("--soak", type=float, metavar="MINUTES")
    parser.add_argument("--actions", nargs="+", choices=[a.__name__ for a, _ in ACTIONS],
                        help="only these actions, at their usual weights (all by default)")
    parser.add_argument("--live", action="store_true",
                        help="each person's tab also follows their changes, as a browser tab"
                             " does (with few accounts, one upload refreshes many tabs)")
    args = parser.parse_args(argv)
    if args.actions:
        ACTIONS[:] = [(action, weight) for action, weight in ACTIONS
                      if action.__name__ in args.actions]
    crowds = [max(1, min(people, MAX_PEOPLE)) for people in args.people]
    seconds = min(args.soak * 60 if args.soak else args.seconds, MAX_SECONDS)
    warmup = min(120.0, seconds / 5) if args.soak else 0.0

    def go(url: str, pid: int | None) -> None:
        host = httpx.URL(url).host
        if host not in ("localhost", "127.0.0.1", "::1"):
            sys.exit("the load bench drives loopback addresses only")
        for i, people in enumerate(crowds):
            stats, samples = asyncio.run(run(url, pid, people, seconds, args.browsers,
                                             args.accounts, args.photos if i == 0 else 0,
                                             tuple(args.think), warmup, args.live))
            report(stats, samples, people, seconds, warmup)

    if args.url:
        go(args.url, args.pid)
        return
    with started_app(args.workers) as app:
        go(app.url, app.process.pid)


if __name__ == "__main__":
    main()
