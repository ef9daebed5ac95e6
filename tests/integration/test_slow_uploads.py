"""Slow clients sending chunks hold no database connection (L-03, F-05), on SQLite and PostgreSQL.

Fifty sockets each announce a 1000-byte chunk and send one byte. While they trickle, `/health`,
a timeline page and other uploads answer within a second; once the body deadline passes, each
slow request is answered 408, and the bytes committed before it are still there.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import httpx
import pytest

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.services import identity, timeline
from tests import aio
from tests.integration.conftest import migrate
from tests.integration.serving import serving
from tests.unit.api.test_media import as_user

SLOW_CLIENTS = 50
BODY_SECONDS = 6
ANSWER_WITHIN = 1.0


@pytest.fixture
def served_api(database_url, tmp_path, monkeypatch):
    data = tmp_path / "data"
    migrate(database_url, data)
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(data))
    monkeypatch.setenv("IMGSTREAM_DATABASE_URL", database_url)
    monkeypatch.setenv("IMGSTREAM_REQUEST_BODY_SECONDS", str(BODY_SECONDS))
    monkeypatch.setenv("IMGSTREAM_UPLOAD_CHUNK_BYTES", "1000")
    for cache in (config.get_settings, runtime.engine, runtime.storage):
        cache.cache_clear()
    with runtime.db_session() as session:
        owner = identity.provision_user(session=session, email="ada@example.com")
    try:
        with serving(as_user(http_api(), owner.id)) as url:
            yield url, owner
    finally:
        runtime.engine().dispose()
        for cache in (config.get_settings, runtime.engine, runtime.storage):
            cache.cache_clear()


def trickle(url: str, upload_id: str, offset: int) -> socket.socket:
    """A chunk PUT that announces 1000 bytes and sends one."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(
        f"PUT /api/v1/uploads/{upload_id}/chunks?offset={offset} HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: 1000\r\n\r\n".encode() + b"x"
    )
    return sock


def status_line(sock: socket.socket) -> str:
    answer = b""
    while b"\r\n" not in answer:
        data = sock.recv(4096)
        if not data:
            break
        answer += data
    return answer.split(b"\r\n", 1)[0].decode()


def timed(call):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_l03_fifty_trickling_uploads_leave_health_the_timeline_and_uploads_answering(
        served_api):
    url, owner = served_api
    client = httpx.Client(base_url=url, timeout=ANSWER_WITHIN * 5)
    uploads = []
    for i in range(SLOW_CLIENTS + 1):
        upload = client.post("/api/v1/uploads", json={"filename": f"p{i}.jpg", "size": 2000})
        assert upload.status_code == 201, upload.text
        upload_id = upload.json()["id"]
        first = client.put(f"/api/v1/uploads/{upload_id}/chunks?offset=0", content=b"a" * 1000)
        assert first.json() == {"received": 1000}
        uploads.append(upload_id)
    *slow, fast = uploads

    started = time.monotonic()
    sockets = [trickle(url, upload_id, 1000) for upload_id in slow]
    time.sleep(1)  # every slow request is now waiting for the rest of its body

    def timeline_page():
        with runtime.db_session() as session:
            return timeline.timeline_page(session=session, owner_id=owner.id, limit=60)

    health_seconds = []
    for _round in range(3):
        health, seconds = timed(lambda: client.get("/health", timeout=ANSWER_WITHIN))
        health_seconds.append(seconds)
        assert health.status_code == 200, health.text
        assert seconds < ANSWER_WITHIN
        page, seconds = timed(lambda: aio.run(
            asyncio.wait_for(asyncio.to_thread(timeline_page), ANSWER_WITHIN)))
        assert page.photos == [] and seconds < ANSWER_WITHIN
        # The same page as the API serves it, through the server the slow requests wait in.
        served, seconds = timed(lambda: client.get("/api/v1/photos?limit=60",
                                                   timeout=ANSWER_WITHIN))
        assert served.status_code == 200 and served.json()["photos"] == []
        assert seconds < ANSWER_WITHIN
        status, seconds = timed(lambda: client.get(f"/api/v1/uploads/{fast}",
                                                  timeout=ANSWER_WITHIN))
        assert status.json()["received"] == 1000 and seconds < ANSWER_WITHIN
        time.sleep(0.5)
    assert time.monotonic() - started < BODY_SECONDS, "the checks ran after the deadline"
    finished = client.put(f"/api/v1/uploads/{fast}/chunks?offset=1000", content=b"b" * 1000,
                          timeout=ANSWER_WITHIN)
    assert finished.json() == {"received": 2000}
    print(f"/health under {SLOW_CLIENTS} trickling uploads: "
          f"median {sorted(health_seconds)[1] * 1000:.0f} ms")

    answers = [status_line(sock) for sock in sockets]
    assert answers == ["HTTP/1.1 408 Request Timeout"] * SLOW_CLIENTS
    assert time.monotonic() - started >= BODY_SECONDS
    for sock in sockets:
        sock.close()
    for upload_id in slow:
        assert client.get(f"/api/v1/uploads/{upload_id}").json()["received"] == 1000
    resumed = client.put(f"/api/v1/uploads/{slow[0]}/chunks?offset=1000", content=b"c" * 1000)
    assert resumed.json() == {"received": 2000}
    assert uuid.UUID(slow[0])
