import hashlib
import os
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from imgstream import config, models, runtime
from imgstream.api import http_api, logs
from imgstream.models import Photo, Upload, User
from imgstream.services import identity, ingest
from imgstream.services.storage import StorageUnavailable
from tests import images
from tests.unit.api.test_media import as_user

CHUNK = 4096
MAX = 1_000_000


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMGSTREAM_UPLOAD_CHUNK_BYTES", str(CHUNK))
    monkeypatch.setenv("IMGSTREAM_MAX_UPLOAD_BYTES", str(MAX))
    for cache in (config.get_settings, runtime.engine, runtime.storage):
        cache.cache_clear()
    SQLModel.metadata.create_all(runtime.engine())
    yield runtime.storage()
    runtime.engine().dispose()
    for cache in (config.get_settings, runtime.engine, runtime.storage):
        cache.cache_clear()


def problem(response):
    """An error answer (problem+json, RFC 9457) reduced to its message and extension members."""
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code and body["detail"] == body["error"]
    return {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail")}


def new_user(email):
    with runtime.db_session() as session:
        return identity.provision_user(session=session, email=email)


@pytest.fixture
def owner(app_env):
    return new_user("ada@example.com")


@pytest.fixture
def client(owner):
    return TestClient(as_user(http_api(), owner.id))


def begin(client, size, filename="photo.jpg"):
    response = client.post("/api/v1/uploads", json={"filename": filename, "size": size})
    assert response.status_code == 201, response.text
    return response.json()


def put(client, upload_id, offset, data):
    return client.put(f"/api/v1/uploads/{upload_id}/chunks", params={"offset": offset},
                      content=data)


def upload_all(client, data, filename="photo.jpg"):
    upload = begin(client, len(data), filename)
    for offset in range(0, len(data), CHUNK):
        response = put(client, upload["id"], offset, data[offset:offset + CHUNK])
        assert response.status_code == 200, response.text
        assert response.json() == {"received": min(offset + CHUNK, len(data))}
    return upload


def test_every_route_needs_a_signed_in_user(app_env):
    anonymous = TestClient(as_user(http_api(), None))
    some_id = uuid.uuid4()
    for method, path in [
        ("POST", "/api/v1/uploads"),
        ("GET", f"/api/v1/uploads/{some_id}"),
        ("PUT", f"/api/v1/uploads/{some_id}/chunks?offset=0"),
        ("POST", f"/api/v1/uploads/{some_id}/complete"),
        ("DELETE", f"/api/v1/uploads/{some_id}"),
    ]:
        response = anonymous.request(method, path, content=b"{}")
        assert response.status_code == 401, (method, path)
        assert problem(response) == {"error": "sign-in required"}


def test_begin_answers_the_upload_and_the_chunk_size(client, owner):
    body = begin(client, 123_456, filename="../Été\u202e.jpg")
    assert body == {"id": body["id"], "filename": "Été.jpg", "size": 123_456, "received": 0,
                    "status": "uploading", "on_collision": "ask", "chunk_bytes": CHUNK}
    with runtime.db_session() as session:
        assert session.get(Upload, uuid.UUID(body["id"])).owner_id == owner.id


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({"filename": "a.jpg", "size": 0}, 400, "empty file"),
    ({"filename": "a.jpg", "size": MAX + 1}, 413, "larger than the 1 MB limit"),
    ({"filename": "a.jpg"}, 400, "filename (a string) and size (bytes, an integer) are required"),
    ({"filename": "a.jpg", "size": "12"}, 400, "filename (a string) and size"),
    ({"filename": "a.jpg", "size": True}, 400, "filename (a string) and size"),
    ({"filename": 7, "size": 12}, 400, "filename (a string) and size"),
    ([1, 2], 400, "the body must be a JSON object"),
])
def test_begin_refusals(client, payload, status, message):
    response = client.post("/api/v1/uploads", json=payload)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)
    assert client.post("/api/v1/uploads", content=b"not json").status_code == 400


def test_a_huge_json_body_is_refused(client):
    response = client.post("/api/v1/uploads",
                           json={"filename": "a" * 20_000 + ".jpg", "size": 10})
    assert response.status_code == 413
    assert problem(response) == {"error": "the body may be at most 16384 bytes"}


def test_begin_refuses_what_the_quota_cannot_hold(client, owner):
    with runtime.db_session() as session:
        user = session.get(User, owner.id)
        user.quota_bytes, user.used_bytes = 600_000, 500_000
        session.commit()
    response = client.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 200_000})
    assert response.status_code == 413
    assert problem(response) == {
        "error": "your library is full: 500 KB of 600 KB used, and this photo needs 200 KB"
    }


def test_chunks_status_and_complete(client, owner, app_env):
    data = images.jpeg(size=(1000, 700))
    assert len(data) > 2 * CHUNK
    upload = begin(client, len(data), "beach.jpg")
    path = f"/api/v1/uploads/{upload['id']}"
    assert put(client, upload["id"], 0, data[:CHUNK]).json() == {"received": CHUNK}
    assert client.get(path).json() == {
        "id": upload["id"], "filename": "beach.jpg", "size": len(data), "received": CHUNK,
        "status": "uploading", "on_collision": "ask", "message": "", "photo_id": None,
        "photo_filename": None, "in_trash": False}
    assert client.get("/api/v1/uploads").json()["uploads"] == [client.get(path).json()]

    early = client.post(f"{path}/complete", json={})
    assert early.status_code == 409
    assert early.json()["received"] == CHUNK
    for offset in range(CHUNK, len(data), CHUNK):
        assert put(client, upload["id"], offset, data[offset:offset + CHUNK]).status_code == 200

    response = client.post(f"{path}/complete", json={"on_collision": "keep_both"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["status"], result["in_trash"], result["on_collision"]) == (
        "added", False, "keep_both")
    with runtime.db_session() as session:
        photo = session.get(Photo, uuid.UUID(result["photo_id"]))
        assert photo.owner_id == owner.id and photo.filename == "beach.jpg"
        assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert list(app_env.list("incoming")) == []
    # The upload's row answers its outcome; it is no longer among the unfinished ones.
    assert client.get(path).json() == result
    assert client.get("/api/v1/uploads").json() == {"uploads": []}


def test_a_chunk_at_the_wrong_offset_says_where_to_continue(client):
    upload = begin(client, 3 * CHUNK)
    put(client, upload["id"], 0, b"a" * CHUNK)
    for offset in (0, 10, 2 * CHUNK):
        response = put(client, upload["id"], offset, b"b" * CHUNK)
        assert response.status_code == 409
        assert problem(response) == {"error": f"the upload continues at byte {CHUNK}",
                                   "received": CHUNK}


def test_oversized_chunks_are_refused(client):
    upload = begin(client, 3 * CHUNK + 10)
    response = put(client, upload["id"], 0, b"a" * (CHUNK + 1))
    assert response.status_code == 413
    assert problem(response) == {"error": f"a chunk may be at most {CHUNK} bytes"}
    for offset in range(0, 3 * CHUNK, CHUNK):
        put(client, upload["id"], offset, b"a" * CHUNK)
    response = put(client, upload["id"], 3 * CHUNK, b"a" * 11)
    assert response.status_code == 413
    assert "past the announced size" in response.json()["error"]
    assert client.get(f"/api/v1/uploads/{upload['id']}").json()["received"] == 3 * CHUNK


def test_bad_offsets_and_ids(client):
    upload = begin(client, 100)
    assert put(client, upload["id"], "x", b"a").status_code == 400
    assert client.put(f"/api/v1/uploads/{upload['id']}/chunks", content=b"a").status_code == 400
    assert put(client, upload["id"], 0, b"").status_code == 400
    assert client.get("/api/v1/uploads/not-an-id").status_code == 404
    assert put(client, uuid.uuid4(), 0, b"a").status_code == 404


def test_someone_elses_upload_is_not_found(client, app_env):
    upload = begin(client, 2 * CHUNK)
    put(client, upload["id"], 0, b"a" * CHUNK)
    other = TestClient(as_user(http_api(), new_user("bob@example.com").id))
    path = f"/api/v1/uploads/{upload['id']}"
    assert other.get(path).status_code == 404
    assert put(other, upload["id"], CHUNK, b"b" * CHUNK).status_code == 404
    assert other.post(f"{path}/complete").status_code == 404
    assert other.delete(path).status_code == 404
    assert problem(other.get(path)) == {"error": "no such upload"}
    assert client.get(path).json()["received"] == CHUNK


def test_delete_cancels_and_removes_the_chunks(client, app_env):
    upload = begin(client, 2 * CHUNK)
    put(client, upload["id"], 0, b"a" * CHUNK)
    path = f"/api/v1/uploads/{upload['id']}"
    response = client.delete(path)
    assert response.status_code == 204 and response.content == b""
    assert list(app_env.list("incoming")) == []
    assert client.get(path).status_code == 404
    assert client.delete(path).status_code == 404


def record_ingest(monkeypatch, result=None, error=None):
    calls = []

    def fake_ingest(**kwargs):
        calls.append(kwargs)
        kwargs["upload"].discard()
        if error:
            raise error
        return result

    monkeypatch.setattr(ingest, "ingest", fake_ingest)
    return calls


def test_complete_defaults_to_the_owners_collision_choice(client, owner, monkeypatch):
    with runtime.db_session() as session:
        session.get(User, owner.id).collision_choice = "skip"
        session.commit()
    calls = record_ingest(monkeypatch, ingest.IngestResult(ingest.IngestStatus.SKIPPED, "kept"))
    upload = upload_all(client, os.urandom(100))
    response = client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert calls[0]["on_collision"] is models.CollisionChoice.SKIP
    assert calls[0]["decision_seconds"] is None


def test_a_chosen_default_applies_from_when_the_upload_began(client, owner, monkeypatch):
    upload = upload_all(client, os.urandom(100))
    with runtime.db_session() as session:
        session.get(User, owner.id).collision_choice = "replace"
        session.commit()
    calls = record_ingest(monkeypatch, ingest.IngestResult(ingest.IngestStatus.ADDED, "added"))
    client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert calls[0]["on_collision"] is models.CollisionChoice.ASK


@pytest.mark.parametrize("payload", [{"on_collision": "overwrite"}, []])
def test_complete_refuses_bad_choices(client, monkeypatch, payload):
    calls = record_ingest(monkeypatch)
    upload = upload_all(client, os.urandom(100))
    response = client.post(f"/api/v1/uploads/{upload['id']}/complete", json=payload)
    assert response.status_code == 400
    assert "error" in response.json()
    assert calls == []


def test_a_collision_keeps_the_upload_for_a_second_complete(client, monkeypatch, app_env):
    existing = uuid.uuid4()
    record_ingest(monkeypatch, ingest.IngestResult(
        ingest.IngestStatus.COLLISION, "a photo named photo.jpg exists already",
        existing, "photo.jpg", in_trash=True))
    upload = upload_all(client, os.urandom(3 * CHUNK))
    path = f"/api/v1/uploads/{upload['id']}"
    response = client.post(f"{path}/complete", json={"on_collision": "ask"})
    assert response.status_code == 200
    assert response.json() == {
        "id": upload["id"], "filename": "photo.jpg", "size": 3 * CHUNK, "received": 3 * CHUNK,
        "status": "needs_decision", "on_collision": "ask",
        "message": "a photo named photo.jpg exists already",
        "photo_id": str(existing), "photo_filename": "photo.jpg", "in_trash": True,
    }
    assert client.get(path).json()["status"] == "needs_decision"

    calls = record_ingest(monkeypatch, ingest.IngestResult(
        ingest.IngestStatus.REPLACED, "replaced", existing, "photo.jpg"))
    # How long a person took is the server's to measure: a client's number is not taken.
    response = client.post(f"{path}/complete",
                           json={"on_collision": "replace", "decision_seconds": 4.5})
    assert response.json()["status"] == "replaced"
    assert calls[0]["on_collision"] is models.CollisionChoice.REPLACE
    assert calls[0]["decision_seconds"] is None
    assert client.get(path).json()["status"] == "replaced"
    with runtime.db_session() as session:
        assert session.get(Upload, uuid.UUID(upload["id"])).decision_seconds is None
    assert list(app_env.list("incoming")) == []


def test_a_failing_ingest_answers_500_and_keeps_the_upload(client, monkeypatch):
    record_ingest(monkeypatch, error=RuntimeError("bucket unreachable"))
    upload = upload_all(client, os.urandom(100))
    path = f"/api/v1/uploads/{upload['id']}"
    response = client.post(f"{path}/complete")
    assert response.status_code == 500
    assert problem(response) == {"error": "it could not be stored, please try again"}
    assert client.get(path).json()["received"] == 100
    assert client.get(path).json()["status"] == "uploading"


def test_storage_outages_answer_503_and_the_chunk_can_be_sent_again(client, app_env,
                                                                     monkeypatch):
    upload = begin(client, 2 * CHUNK)
    real_put = app_env.put_file

    def unavailable(key, source):
        raise StorageUnavailable("Cloud Storage is unavailable")

    monkeypatch.setattr(app_env, "put_file", unavailable)
    response = put(client, upload["id"], 0, b"a" * CHUNK)
    assert response.status_code == 503
    assert problem(response) == {"error": "storage is unavailable right now; try again in a minute"}
    monkeypatch.setattr(app_env, "put_file", real_put)
    assert put(client, upload["id"], 0, b"a" * CHUNK).json() == {"received": CHUNK}


def test_changes_from_another_site_are_refused(app_env, owner, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_PUBLIC_URL", "https://photos.example.com")
    config.get_settings.cache_clear()
    client = TestClient(as_user(http_api(), owner.id))
    evil = {"Origin": "https://evil.example"}
    response = client.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 10},
                           headers=evil)
    assert response.status_code == 403
    ours = {"Origin": "https://photos.example.com"}
    response = client.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 10},
                           headers=ours)
    assert response.status_code == 201
    upload_id = response.json()["id"]
    assert client.delete(f"/api/v1/uploads/{upload_id}", headers=evil).status_code == 403
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=evil).status_code == 200


def test_a_form_post_cannot_begin_an_upload(client):
    # A form on another site may post text/plain without a preflight: only JSON is read.
    response = client.post("/api/v1/uploads", content=b'{"filename": "a.jpg", "size": 10}',
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_upload_begins_are_counted_by_the_announced_format_and_outcome(owner):
    client = TestClient(logs.observe_requests(as_user(http_api(), owner.id)))

    def count(announced, outcome):
        return REGISTRY.get_sample_value(
            "imgstream_uploads_total", {"format": announced, "outcome": outcome}) or 0.0

    before = [count("heic", "begun"), count("jpeg", "too_large"), count("unknown", "refused")]
    assert client.post("/api/v1/uploads",
                       json={"filename": "IMG_1.HEIC", "size": 10}).status_code == 201
    assert client.post("/api/v1/uploads",
                       json={"filename": "big.jpeg", "size": MAX + 1}).status_code == 413
    assert client.post("/api/v1/uploads", json={"size": 10}).status_code == 400
    after = [count("heic", "begun"), count("jpeg", "too_large"), count("unknown", "refused")]
    assert after == [n + 1 for n in before]
