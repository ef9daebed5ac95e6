"""The chunk protocol under any sequence of requests, against the served app on a real database.

A Hypothesis state machine begins uploads, sends chunks at right and wrong offsets (duplicates,
overlaps, gaps), of any size (empty, oversized, past the end), with right or other bytes, sends
the same chunk from two clients at once, completes (also from two clients at once, and before
every byte arrived), cancels and asks for status, all through HTTP to the app served by
Granian on SQLite and on PostgreSQL. After every step the server's answers match a model of
the upload, the stored chunks add up to exactly what was committed, and what the person has
reserved against the quota is the sum of their unfinished uploads.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.models import Photo, Upload, User
from imgstream.services import identity, upload_receiving
from tests import images
from tests.integration.conftest import migrate
from tests.integration.serving import serving
from tests.unit.api.test_media import as_user

CHUNK = 1024
PHOTOS = [images.noisy_jpeg(size=(48 + 8 * i, 40), quality=90) for i in range(3)]
API = "/api/v1/uploads"


@pytest.fixture
def served(database_url, tmp_path, monkeypatch):
    data = tmp_path / "data"
    migrate(database_url, data)
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(data))
    monkeypatch.setenv("IMGSTREAM_DATABASE_URL", database_url)
    monkeypatch.setenv("IMGSTREAM_UPLOAD_CHUNK_BYTES", str(CHUNK))
    for cache in (config.get_settings, runtime.engine, runtime.storage):
        cache.cache_clear()
    with runtime.db_session() as session:
        owner = identity.provision_user(session=session, email="fuzz@example.com")
    try:
        with serving(as_user(http_api(), owner.id)) as url:
            yield url, owner
    finally:
        runtime.engine().dispose()
        for cache in (config.get_settings, runtime.engine, runtime.storage):
            cache.cache_clear()


class Model:
    """What the client knows of one upload."""

    def __init__(self, upload_id: str, data: bytes):
        self.id = upload_id
        self.data = data
        self.received = 0
        self.state = "open"  # open | done | cancelled


class ChunkProtocol(RuleBasedStateMachine):
    url: str = ""
    owner_id: uuid.UUID | None = None
    seen: set[str] = set()
    uploads = Bundle("uploads")

    def __init__(self):
        super().__init__()
        self.client = httpx.Client(base_url=self.url, timeout=30, verify=False)
        self.models: list[Model] = []

    def teardown(self):
        for model in self.models:
            if model.state == "open":
                self.client.delete(f"{API}/{model.id}")
        self.client.close()

    @rule(target=uploads, photo=st.sampled_from(PHOTOS))
    def begin(self, photo):
        response = self.client.post(API, json={"filename": f"{uuid.uuid4().hex}.jpg",
                                               "size": len(photo)})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["received"] == 0 and body["chunk_bytes"] == CHUNK
        model = Model(body["id"], photo)
        self.models.append(model)
        return model

    def _put(self, model: Model, offset: int, data: bytes, client: httpx.Client | None = None):
        return (client or self.client).put(f"{API}/{model.id}/chunks",
                                           params={"offset": offset}, content=data)

    @rule(model=uploads, shift=st.sampled_from([0, 0, 0, -1, -CHUNK, 1, CHUNK, 10**9]),
          length=st.sampled_from([CHUNK, CHUNK, 1, 100, 0, CHUNK + 1, 3 * CHUNK]),
          other_bytes=st.booleans())
    def send_chunk(self, model, shift, length, other_bytes):
        offset = max(0, model.received + shift)
        data = model.data[offset:offset + length]
        if other_bytes:
            data = bytes(255 - b for b in data)
        if length > len(data) and length != 0:
            data += b"\0" * (length - len(data))  # goes past the announced size
        response = self._put(model, offset, data)
        if model.state == "cancelled":
            assert response.status_code == 404, response.text
            return
        if model.state == "done" or offset != model.received:
            assert response.status_code == 409, response.text
            assert response.json()["received"] == model.received
            self.seen.add("offset-refused")
            return
        limit = min(CHUNK, len(model.data) - offset)
        if not data:
            assert response.status_code == 400, response.text
        elif len(data) > limit:
            assert response.status_code == 413, response.text
        else:
            assert response.status_code == 200, response.text
            model.received += len(data)
            assert response.json() == {"received": model.received}
            if other_bytes:
                # The chunk the server took is garbage: the model follows what was sent.
                model.data = model.data[:offset] + data + model.data[offset + len(data):]

    @rule(model=uploads)
    def send_the_rest(self, model):
        if model.state != "open":
            return
        if model.received < len(model.data):
            # First the chunk before again (or one past where it continues): refused, 409.
            offset = max(0, model.received - CHUNK) if model.received else 1
            again = self._put(model, offset, model.data[offset:offset + CHUNK])
            assert again.status_code == 409, again.text
            assert again.json()["received"] == model.received
            self.seen.add("offset-refused")
        while model.received < len(model.data):
            data = model.data[model.received:model.received + CHUNK]
            response = self._put(model, model.received, data)
            assert response.status_code == 200, response.text
            model.received += len(data)
            assert response.json() == {"received": model.received}

    @rule(model=uploads)
    def send_the_same_chunk_from_two_clients_at_once(self, model):
        if model.state != "open" or model.received == len(model.data):
            return
        offset = model.received
        data = model.data[offset:offset + CHUNK]
        with (httpx.Client(base_url=self.url, timeout=30, verify=False) as other,
              ThreadPoolExecutor(2) as pool):
            answers = list(pool.map(lambda c: self._put(model, offset, data, c),
                                    [self.client, other]))
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 409], [answer.text for answer in answers]
        self.seen.add("race")
        model.received += len(data)
        assert all(answer.json()["received"] == model.received for answer in answers)

    @rule(model=uploads, two_clients=st.booleans())
    def complete(self, model, two_clients):
        def call(client: httpx.Client) -> httpx.Response:
            return client.post(f"{API}/{model.id}/complete", json={})

        if two_clients:
            with (httpx.Client(base_url=self.url, timeout=60, verify=False) as other,
                  ThreadPoolExecutor(2) as pool):
                answers = list(pool.map(call, [self.client, other]))
        else:
            answers = [call(self.client)]
        for response in answers:
            if model.state == "cancelled":
                assert response.status_code == 404, response.text
            elif model.received < len(model.data):
                assert response.status_code == 409, response.text
                assert response.json()["received"] == model.received
            else:
                # Both clients get the one outcome; other bytes make a file that is refused.
                assert response.status_code == 200, response.text
                assert response.json()["status"] in {"added", "duplicate", "rejected"}
        if model.state == "open" and model.received == len(model.data):
            statuses = {response.json()["status"] for response in answers}
            assert len(statuses) == 1, f"two completes disagree: {statuses}"
            model.state = "done"
            self.seen.add(f"completed-{statuses.pop()}")
            if two_clients:
                self.seen.add("two-completes")

    @rule(model=uploads)
    def send_the_rest_and_complete_from_two_clients(self, model):
        self.send_the_rest(model)
        self.complete(model, two_clients=True)

    @rule(model=consumes(uploads))
    def cancel(self, model):
        response = self.client.delete(f"{API}/{model.id}")
        if model.state == "cancelled":
            assert response.status_code == 404
        else:
            assert response.status_code == 204, response.text
            model.state = "cancelled"

    @rule(model=uploads)
    def status(self, model):
        response = self.client.get(f"{API}/{model.id}")
        if model.state == "cancelled":
            assert response.status_code == 404
            return
        assert response.status_code == 200, response.text
        assert response.json()["received"] == model.received

    @invariant()
    def stored_chunks_are_exactly_the_committed_bytes(self):
        storage = runtime.storage()
        for model in self.models:
            prefix = upload_receiving.chunk_prefix(self.owner_id, uuid.UUID(model.id))
            sizes = sum(storage.size(key) for key in storage.list(prefix))
            expected = model.received if model.state == "open" else 0
            assert sizes == expected, (model.state, sizes, expected)

    @invariant()
    def reserved_bytes_are_the_unfinished_uploads(self):
        with runtime.db_session() as session:
            user = session.get(User, self.owner_id)
            unfinished = session.exec(select(Upload).where(Upload.owner_id == self.owner_id))
            open_sizes = sum(u.size_bytes for u in unfinished
                             if u.status in ("uploading", "processing", "needs_decision"))
            assert user.reserved_bytes == open_sizes
            photos = session.exec(select(Photo).where(Photo.owner_id == self.owner_id)).all()
            assert len({p.sha256 for p in photos}) == len(photos), "a photo was stored twice"


def _run(served, examples: int) -> None:
    url, owner = served
    ChunkProtocol.url, ChunkProtocol.owner_id = url, owner.id
    ChunkProtocol.seen = set()
    run_state_machine_as_test(ChunkProtocol, settings=settings(
        max_examples=examples, stateful_step_count=15, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    # The runs reached the interesting answers, not only refusals.
    wanted = {"completed-added", "offset-refused", "race", "two-completes"}
    assert wanted <= ChunkProtocol.seen, ChunkProtocol.seen


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_chunk_protocol_on_sqlite(served):
    _run(served, examples=3)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_chunk_protocol_on_postgresql(served):
    _run(served, examples=3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bombs_sent_through_the_chunk_api_store_nothing(served):
    from tests.unit.services.imaging.test_bombs import BOMBS

    url, owner = served
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, (bomb, refusal) in BOMBS.items():
            upload = client.post(API, json={"filename": f"{name}.jpg", "size": len(bomb)}).json()
            for offset in range(0, len(bomb), CHUNK):
                answer = client.put(f"{API}/{upload['id']}/chunks", params={"offset": offset},
                                    content=bomb[offset:offset + CHUNK])
                assert answer.status_code == 200, answer.text
            done = client.post(f"{API}/{upload['id']}/complete", json={})
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "rejected", (name, done.text)
            assert any(word in done.json()["message"] for word in refusal.split("|")), name
    storage = runtime.storage()
    assert list(storage.list("incoming")) == []
    with runtime.db_session() as session:
        assert session.exec(select(Photo)).all() == []
        assert session.get(User, owner.id).reserved_bytes == 0
