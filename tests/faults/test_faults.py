"""Faults the app must survive, each run for real against private instances of its services.

Workers are processes serving the app's HTTP routes (`api_server`) on one database and one
store; the Redis test runs the app's own backend (two workers) and a socket tab. PostgreSQL,
Redis and fake-gcs-server are private instances on free ports (the shared ones are never
touched), stopped and started by the tests. Each test states the outcome it checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from imgstream.models import Photo
from imgstream.runtime import create_engine
from imgstream.services import identity
from tests import aio, images
from tests.e2e.running_app import free_port
from tests.faults.services import Worker, private_gcs, private_postgres, unavailable
from tests.integration.conftest import migrate

pytestmark = pytest.mark.timeout(240)

API = "/api/v1/uploads"
CHUNK = 16 * 1024
PHOTO = images.noisy_jpeg(size=(400, 300), quality=95)  # several chunks


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One migrated SQLite database; each test gets a copy (migrating takes seconds)."""
    folder = tmp_path_factory.mktemp("template")
    migrate(f"sqlite:///{folder / 'template.db'}", folder / "data")
    return folder / "template.db"


@pytest.fixture
def sqlite_url(migrated_sqlite, tmp_path) -> str:
    shutil.copy(migrated_sqlite, tmp_path / "app.db")
    return f"sqlite:///{tmp_path / 'app.db'}"


def _setup(tmp_path: Path, database_url: str, *, migrated: bool = True,
           **env: str) -> tuple[dict[str, str], str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    if not migrated:
        migrate(database_url, data)
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="ada@example.com")
    engine.dispose()
    return {"IMGSTREAM_DATA_DIR": str(data), "IMGSTREAM_DATABASE_URL": database_url,
            "IMGSTREAM_UPLOAD_CHUNK_BYTES": str(CHUNK), "IMGSTREAM_LOG_FORMAT": "text",
            **env}, str(owner.id)


def _worker(tmp_path: Path, env: dict[str, str], owner: str, name: str) -> Worker:
    worker = Worker(free_port(), env, owner, tmp_path / f"{name}.log")
    worker.start()
    return worker


def _rows(database_url: str, model) -> list:  # noqa: ANN001
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(model)).all())
    finally:
        engine.dispose()


def _send(client: httpx.Client, upload_id: str, start: int, end: int) -> int:
    received = start
    while received < end:
        answer = client.put(f"{API}/{upload_id}/chunks", params={"offset": received},
                            content=PHOTO[received:received + CHUNK])
        assert answer.status_code == 200, answer.text
        received = answer.json()["received"]
    return received


def test_worker_killed_mid_upload_resumes_on_the_other(tmp_path, sqlite_url):
    """Outcome: a worker killed with SIGKILL while a chunk is arriving loses only that chunk;
    the other worker reports the bytes committed before it, takes the rest and completes."""
    url = sqlite_url
    env, owner = _setup(tmp_path, url)
    first, second = (_worker(tmp_path, env, owner, n) for n in ("first", "second"))
    try:
        with httpx.Client(base_url=first.url, timeout=30) as a:
            upload = a.post(API, json={"filename": "killed.jpg", "size": len(PHOTO)}).json()
            half = _send(a, upload["id"], 0, 2 * CHUNK)
        # A chunk is on its way to the first worker when it dies.
        sock = socket.create_connection(("127.0.0.1", first.port))
        sock.sendall(f"PUT {API}/{upload['id']}/chunks?offset={half} HTTP/1.1\r\n"
                     f"Host: x\r\nContent-Length: {CHUNK}\r\n\r\n".encode() + PHOTO[half:half + 10])
        time.sleep(0.3)
        first.kill()
        sock.close()
        with httpx.Client(base_url=second.url, timeout=60) as b:
            status = b.get(f"{API}/{upload['id']}").json()
            assert status["received"] == half, "the interrupted chunk was not committed"
            _send(b, upload["id"], half, len(PHOTO))
            done = b.post(f"{API}/{upload['id']}/complete", json={})
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "added"
        photos = _rows(url, Photo)
        assert [p.filename for p in photos] == ["killed.jpg"]
        assert photos[0].size_bytes == len(PHOTO)
    finally:
        first.kill()
        second.kill()


def test_postgresql_restarted(tmp_path):
    """Outcome: while PostgreSQL is down, requests get a clear 503 and /health names the
    database; once it is back, the same worker serves again without a restart."""
    with private_postgres(tmp_path) as pg:
        env, owner = _setup(tmp_path, pg.url, migrated=False)
        worker = _worker(tmp_path, env, owner, "worker")
        try:
            with httpx.Client(base_url=worker.url, timeout=30) as client:
                assert client.post(API, json={"filename": "a.jpg", "size": 10}).status_code == 201
                pg.stop()
                down = client.post(API, json={"filename": "b.jpg", "size": 10})
                assert down.status_code == 503, down.text
                assert "database" in down.json()["detail"]
                health = client.get("/health")
                assert health.status_code == 503
                assert health.json()["checks"]["database"] != "ok"
                pg.start()
                deadline = time.monotonic() + 20
                while True:
                    answer = client.post(API, json={"filename": "c.jpg", "size": 10})
                    if answer.status_code == 201 or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                assert answer.status_code == 201, answer.text
                assert client.get("/health").json()["checks"]["database"] == "ok"
        finally:
            worker.kill()


OUTAGE_SECONDS = float(os.environ.get("IMGSTREAM_FAULT_OUTAGE_SECONDS", "30"))


def test_storage_unreachable_for_30_seconds(tmp_path, monkeypatch, sqlite_url):
    """Outcome: with the bucket unreachable, chunks and completes answer 503 "try again",
    /health is 503 naming storage, nothing is half-stored; afterwards the upload finishes."""
    with private_gcs(tmp_path) as gcs:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs_client

        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.url)
        bucket = f"faults-{uuid.uuid4().hex[:8]}"
        gcs_client.Client(project="test", credentials=AnonymousCredentials()).create_bucket(bucket)
        env, owner = _setup(tmp_path, sqlite_url, IMGSTREAM_GCS_BUCKET=bucket,
                            STORAGE_EMULATOR_HOST=gcs.url)
        worker = _worker(tmp_path, env, owner, "worker")
        try:
            with httpx.Client(base_url=worker.url, timeout=60) as client:
                assert client.get("/health").json()["checks"]["storage"] == "ok"
                upload = client.post(API, json={"filename": "gcs.jpg",
                                                "size": len(PHOTO)}).json()
                half = _send(client, upload["id"], 0, CHUNK)
                gcs.stop()
                ended = time.monotonic() + OUTAGE_SECONDS
                answers, healths = set(), set()
                while time.monotonic() < ended:
                    put = client.put(f"{API}/{upload['id']}/chunks", params={"offset": half},
                                     content=PHOTO[half:half + CHUNK])
                    answers.add((put.status_code, "try again" in put.text))
                    health = client.get("/health")
                    healths.add((health.status_code, health.json()["checks"]["storage"] != "ok"))
                    time.sleep(1)
                assert answers == {(503, True)}, answers
                assert healths == {(503, True)}, healths
                assert client.get(f"{API}/{upload['id']}").json()["received"] == half
                gcs.start()
                deadline = time.monotonic() + 30
                while client.get("/health").json()["checks"]["storage"] != "ok":
                    assert time.monotonic() < deadline, "storage did not come back"
                    time.sleep(0.5)
                _send(client, upload["id"], half, len(PHOTO))
                done = client.post(f"{API}/{upload['id']}/complete", json={})
                assert done.status_code == 200 and done.json()["status"] == "added", done.text
        finally:
            worker.kill()


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_local_disk_full(tmp_path, sqlite_url):
    """Outcome: on a full disk a chunk is refused with a clear 507, nothing of it is kept and
    the upload continues where it was once there is room."""
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "2m"):
        unavailable("a small tmpfs cannot be mounted here (needs root)")
    try:
        env, owner = _setup(tmp_path, sqlite_url)  # the database is not on the full disk
        env["IMGSTREAM_DATA_DIR"] = str(disk)
        big = 600 * 1024
        worker = _worker(tmp_path, {**env, "IMGSTREAM_UPLOAD_CHUNK_BYTES": str(big)}, owner,
                         "worker")
        try:
            filler = disk / "filler"
            with httpx.Client(base_url=worker.url, timeout=30) as client:
                upload = client.post(API, json={"filename": "full.jpg", "size": 2 * big}).json()
                filler.write_bytes(b"\0" * (1500 * 1024))
                answer = client.put(f"{API}/{upload['id']}/chunks", params={"offset": 0},
                                    content=os.urandom(big))
                assert answer.status_code == 507, answer.text
                assert "no space" in answer.json()["detail"]
                assert client.get(f"{API}/{upload['id']}").json()["received"] == 0
                leftovers = [p for p in disk.rglob("*")
                             if p.is_file() and p not in (filler, disk / "secret.key")]
                assert leftovers == [], leftovers
                filler.unlink()
                answer = client.put(f"{API}/{upload['id']}/chunks", params={"offset": 0},
                                    content=os.urandom(big))
                assert answer.status_code == 200, answer.text
        finally:
            worker.kill()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_slow_client_trickling_a_chunk(tmp_path, sqlite_url):
    """Outcome: a client sending a chunk a byte at a time is cut off with 408 after
    IMGSTREAM_REQUEST_BODY_SECONDS, the worker answers others meanwhile, nothing is kept."""
    env, owner = _setup(tmp_path, sqlite_url, IMGSTREAM_REQUEST_BODY_SECONDS="2")
    worker = _worker(tmp_path, env, owner, "worker")
    try:
        with httpx.Client(base_url=worker.url, timeout=30) as client:
            upload = client.post(API, json={"filename": "slow.jpg", "size": len(PHOTO)}).json()
            sock = socket.create_connection(("127.0.0.1", worker.port), timeout=20)
            sock.sendall(f"PUT {API}/{upload['id']}/chunks?offset=0 HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Length: {CHUNK}\r\n\r\n".encode())
            started = time.monotonic()
            answer = b""
            while b"\r\n" not in answer:
                try:
                    sock.sendall(b"x")
                except OSError:
                    pass
                sock.settimeout(0.2)
                try:
                    answer += sock.recv(4096)
                except TimeoutError:
                    pass
                # Meanwhile the worker answers everyone else at once.
                other = client.get(f"{API}/{upload['id']}")
                assert other.status_code == 200 and other.elapsed.total_seconds() < 1
                assert time.monotonic() - started < 15, "the slow request was never cut off"
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
            assert 1.5 < time.monotonic() - started < 10
            sock.close()
            assert client.get(f"{API}/{upload['id']}").json()["received"] == 0
            assert not list((Path(env["IMGSTREAM_DATA_DIR"]) / "library").rglob("0000*"))
    finally:
        worker.kill()



def _reflex_backend(tmp_path: Path, env: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """The app's backend (`reflex run --env prod --backend-only`, its workers on one port)."""
    import signal
    import sys
    import urllib.request

    from tests.e2e.running_app import ROOT

    port = free_port()
    full = {**os.environ, "REFLEX_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1", **env}
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full['PATH']}"
    with (tmp_path / "app.log").open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
             "--backend-port", str(port)], cwd=ROOT, env=full, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                raise RuntimeError(f"the app did not start:\n"
                                   f"{(tmp_path / 'app.log').read_text()[-3000:]}") from None
            time.sleep(0.3)


class _Tab:
    """A browser tab over the socket: Reflex's event protocol through python-socketio."""

    def __init__(self, url: str, cookies: httpx.Cookies):
        import socketio
        from reflex.state import State

        from imgstream.state.gallery import GalleryState

        self.url, self.token = url, str(uuid.uuid4())
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.frames: asyncio.Queue[dict] = asyncio.Queue()
        self.connects = 0
        self.hydrate = f"{State.get_full_name()}.hydrate_and_load"
        self.report = f"{GalleryState.get_full_name()}.report"
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2,
                                        reconnection_delay_max=1)

        @self.sio.on("event", namespace="/_event")
        async def on_event(data):  # noqa: ANN001, ANN202
            if isinstance(data, dict):
                self.frames.put_nowait(data)

        @self.sio.on("connect", namespace="/_event")
        async def on_connect():  # noqa: ANN202
            self.connects += 1

    async def connect(self) -> None:
        await self.sio.connect(f"{self.url.replace('http', 'ws', 1)}?token={self.token}",
                               socketio_path="/_event", transports=["websocket"],
                               namespaces=["/_event"], wait_timeout=30,
                               headers={"Cookie": self.cookie, "Origin": self.url})

    async def ask(self, name: str, payload: dict, expect, seconds: float = 15) -> dict | None:  # noqa: ANN001
        """Send an event from the library page; the first frame `expect` accepts, or None."""
        while not self.frames.empty():
            self.frames.get_nowait()
        await self.sio.emit("event", {"name": name, "payload": payload, "router_data": {
            "pathname": "/", "query": {}, "asPath": "/"}}, namespace="/_event")
        ends = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while True:
                frame = await asyncio.wait_for(self.frames.get(), ends - time.monotonic())
                if expect(frame):
                    return frame
        return None

    async def open_library(self) -> list[str]:
        """Hydrate and run the library's on-load to its end; the months it lists."""
        from bench.load import _MONTH

        seen: list[dict] = []

        def hydrated(frame: dict) -> bool:
            seen.append(frame)
            return "'is_hydrated_rx_state_': True" in str(frame)

        assert await self.ask(self.hydrate, {}, hydrated) is not None, "the library did not open"
        return _MONTH.findall(str(seen))

    async def photos_of(self, month: str) -> set[str] | None:
        """The photo ids the library sends for a month when the timeline asks for it."""
        from bench.load import timeline_scripts

        # The month's first segment (at most 120 photos: all of this library's).
        segment = f"{month}/0/120"
        frame = await self.ask(self.report, {"event": {"kind": "photos", "segments": [segment]}},
                               lambda f: any(fn == "putPhotos" for fn, _ in timeline_scripts(f)))
        if frame is None:
            return None
        return {card["id"] for function, segments in timeline_scripts(frame)
                if function == "putPhotos" for sent in segments for day in sent["days"]
                for card in day["cards"]}


# Another photo than PHOTO (a JPEG comment segment), so it is not a duplicate of it.
OTHER_PHOTO = PHOTO[:2] + b"\xff\xfe\x00\x12" + b"during a restart" + PHOTO[2:]


async def _upload_async(client: httpx.AsyncClient, upload_id: str, start: int, end: int,
                        data: bytes = PHOTO) -> int:
    received = start
    while received < end:
        answer = await client.put(f"{API}/{upload_id}/chunks", params={"offset": received},
                                  content=data[received:received + CHUNK])
        assert answer.status_code == 200, answer.text
        received = answer.json()["received"]
    return received


def test_redis_restarted_under_a_connected_tab(tmp_path, sqlite_url):
    """Outcome: Redis (the workers' shared state and rate counts) restarted with its data gone,
    while a tab is open and an upload is half sent: the tab is answered again (re-hydrated
    from the database), the upload completes, and the library lists every photo."""
    from tests.faults.services import private_redis

    with private_redis() as redis:
        env, _ = _setup(tmp_path, sqlite_url, REFLEX_REDIS_URL=redis.url, GRANIAN_WORKERS="2")
        url, process = _reflex_backend(tmp_path, env)
        try:
            aio.run(_redis_restart_scenario(url, redis))
        finally:
            import signal

            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


async def _redis_restart_scenario(url: str, redis) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Origin": url}) as client:
        signed = await client.post("/auth/dev-sign-in", data={"email": "ada@example.com"})
        assert signed.status_code in (200, 303), signed.text
        before = await client.post(API, json={"filename": "before.jpg", "size": len(PHOTO)})
        await _upload_async(client, before.json()["id"], 0, len(PHOTO))
        done = await client.post(f"{API}/{before.json()['id']}/complete", json={})
        assert done.json()["status"] == "added", done.text
        first = done.json()["photo_id"]
        tab = _Tab(url, client.cookies)
        await tab.connect()
        try:
            month = (await tab.open_library())[0]
            assert await tab.photos_of(month) == {first}
            halfway = await client.post(API, json={"filename": "during.jpg",
                                                   "size": len(OTHER_PHOTO)})
            half = await _upload_async(client, halfway.json()["id"], 0, 2 * CHUNK, OTHER_PHOTO)

            redis.stop()
            await asyncio.sleep(1)
            redis.start()

            rest = await _upload_async(client, halfway.json()["id"], half, len(OTHER_PHOTO),
                                       OTHER_PHOTO)
            assert rest == len(OTHER_PHOTO)
            done = await client.post(f"{API}/{halfway.json()['id']}/complete", json={})
            assert done.status_code == 200 and done.json()["status"] == "added", done.text
            second = done.json()["photo_id"]
            # The same tab, on its same socket or after reconnecting, is answered again.
            deadline = time.monotonic() + 30
            while (shown := await tab.photos_of(month)) != {first, second}:
                assert time.monotonic() < deadline, f"the tab shows {shown} after the restart"
                await asyncio.sleep(0.5)
            months = await tab.open_library()
            assert month in months, "a reload lists the months again"
            assert await tab.photos_of(month) == {first, second}
            listed = await client.get("/api/v1/photos")
            assert {p["id"] for p in listed.json()["photos"]} == {first, second}
        finally:
            await tab.sio.disconnect()
