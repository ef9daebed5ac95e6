# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""The upload API and page when the quota or the cap on open uploads is reached (U-26)."""

from imgstream import config, runtime
from imgstream.models import User
from imgstream.services.upload_decisions import PickedFile
from imgstream.state import upload_records
from tests.unit.api.test_uploads import app_env, client, owner, problem  # noqa: F401


def test_u26_two_hundred_announced_uploads_do_not_pass_the_quota(client, owner, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_MAX_UPLOAD_BYTES", "200000000")
    config.get_settings.cache_clear()
    with runtime.db_session() as session:
        user = session.get(User, owner.id)
        user.quota_bytes, user.used_bytes = 1024**3, 4_400_000
        session.commit()
    statuses = [client.post("/api/v1/uploads", json={"filename": f"{i}.jpg",
                                                     "size": 100_000_000}).status_code
                for i in range(200)]
    assert statuses.count(201) == 10 and statuses.count(413) == 190


def test_u26_one_more_open_upload_than_allowed_is_429(client, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_MAX_OPEN_UPLOADS", "2")
    config.get_settings.cache_clear()
    first, _second = (client.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 10})
                      for _ in range(2))
    refused = client.post("/api/v1/uploads", json={"filename": "c.jpg", "size": 10})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert problem(refused) == {
        "error": "you have 2 unfinished uploads: finish or cancel some first"}
    assert client.delete(f"/api/v1/uploads/{first.json()['id']}").status_code == 204
    assert client.post("/api/v1/uploads", json={"filename": "c.jpg", "size": 10}).status_code \
        == 201


def test_u26_the_upload_page_keeps_to_the_same_cap_on_open_uploads(client, owner, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_MAX_OPEN_UPLOADS", "2")
    config.get_settings.cache_clear()
    client.post("/api/v1/uploads", json={"filename": "api.jpg", "size": 10})
    picked = [PickedFile(key, f"{key}.jpg", 10) for key in ("a", "b", "c")]
    accepted, _asking = upload_records.accept(owner.id, picked, {}, frozenset())
    assert [entry.upload is not None for entry in accepted] == [True, False, False]
    assert accepted[1].refused == (
        "rejected: you have 2 unfinished uploads: finish or cancel some first")
