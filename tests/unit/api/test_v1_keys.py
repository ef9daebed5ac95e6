# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""/api/v1 callers: API keys get exactly their scopes; a sign-in gets all; errors are problems."""

from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.services import api_keys
from tests.unit.api.test_media import as_user
from tests.unit.api.test_uploads import app_env, client, owner, problem  # noqa: F401


def key_for(owner, *scopes):
    with runtime.db_session() as session:
        return api_keys.create_key(session=session, owner=owner, scopes=scopes).token


def keyed(token):
    client = TestClient(as_user(http_api(), None))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_me_answers_who_the_key_speaks_for(owner):
    body = keyed(key_for(owner, "photos:read")).get("/api/v1/me").json()
    assert (body["email"], body["auth"], body["scopes"]) == (
        "ada@example.com", "key", ["photos:read"])


def test_a_sign_in_has_every_scope(client):
    body = client.get("/api/v1/me").json()
    assert body["auth"] == "session" and body["key_id"] is None
    assert body["scopes"] == ["albums", "photos:read", "photos:write", "shares", "upload"]


def test_a_key_without_the_scope_gets_403_naming_it(owner):
    reader = keyed(key_for(owner, "photos:read"))
    response = reader.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 10})
    assert response.status_code == 403
    assert problem(response) == {"error": "this API key lacks the upload scope",
                                 "scope": "upload"}


def test_a_key_needs_no_origin_and_ignores_a_foreign_one(owner, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_PUBLIC_URL", "https://photos.example.com")
    config.get_settings.cache_clear()
    uploader = keyed(key_for(owner, "upload"))
    assert uploader.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 10}).status_code \
        == 201
    response = uploader.post("/api/v1/uploads", json={"filename": "b.jpg", "size": 10},
                             headers={"Origin": "https://evil.example"})
    assert response.status_code == 201


def test_unknown_revoked_and_malformed_keys_are_401(owner):
    token = key_for(owner, "upload")
    with runtime.db_session() as session:
        holder = api_keys.authenticate(session=session, token=token)
        api_keys.revoke_key(session=session, owner_id=owner.id, key_id=holder.key_id)
    for bad in (token, token[:-2], "isk_nothing"):
        response = keyed(bad).get("/api/v1/me")
        assert response.status_code == 401
        assert "not valid" in problem(response)["error"]
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_key_cannot_mint_a_key(owner):
    minter = keyed(key_for(owner, "photos:read", "photos:write", "upload", "albums", "shares"))
    response = minter.post("/api/v1/keys", json={"scopes": ["upload"]})
    assert response.status_code == 403
    assert "cannot create" in problem(response)["error"]
    assert minter.get("/api/v1/keys").status_code == 403


def test_keys_are_made_listed_and_revoked_with_a_sign_in(client):
    response = client.post("/api/v1/keys", json={"name": "backup", "scopes": ["upload"]})
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["key"].startswith(f"isk_{made['id'].replace('-', '')}_")
    assert keyed(made["key"]).get("/api/v1/me").json()["scopes"] == ["upload"]
    listed = client.get("/api/v1/keys").json()["keys"]
    assert [key["name"] for key in listed] == ["backup"] and "key" not in listed[0]
    assert client.delete(f"/api/v1/keys/{made['id']}").status_code == 204
    assert keyed(made["key"]).get("/api/v1/me").status_code == 401
    assert client.delete(f"/api/v1/keys/{made['id']}").status_code == 404
    bad = client.post("/api/v1/keys", json={"scopes": ["everything"]})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_the_openapi_document_and_docs_are_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/api/v1"}]
    for path in ("/me", "/keys", "/uploads", "/uploads/{upload_id}/chunks"):
        assert path in document["paths"]
    assert "Problem" in document["components"]["schemas"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text


def test_an_unknown_api_path_is_a_problem(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert problem(response) == {"error": "no such resource"}


def test_too_many_requests_are_429_with_retry_after(owner, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_KEY", "3/minute")
    config.get_settings.cache_clear()
    reader = keyed(key_for(owner, "photos:read"))
    assert [reader.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = reader.get("/api/v1/me")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many requests for this key" in problem(refused)["error"]
    # Another key of the same person has its own count.
    assert keyed(key_for(owner, "photos:read")).get("/api/v1/me").status_code == 200


def test_chunk_bytes_count_toward_the_hourly_limit(client, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_API_UPLOAD_BYTES_PER_HOUR", "6000")
    config.get_settings.cache_clear()
    upload = client.post("/api/v1/uploads", json={"filename": "a.jpg", "size": 8000}).json()
    path = f"/api/v1/uploads/{upload['id']}/chunks"
    assert client.put(path, params={"offset": 0}, content=b"a" * 4000).status_code == 200
    refused = client.put(path, params={"offset": 4000}, content=b"a" * 4000)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "bytes" in problem(refused)["error"]


def test_keys_are_never_logged(owner, client, caplog):
    """Making, using, mistyping and revoking a key at DEBUG level: no log line holds its secret
    (the request log, the app's own lines and every other logger)."""
    import io
    import logging

    from imgstream.api import logs
    from imgstream.config import Settings

    out = io.StringIO()
    saved = logging.getLogger("imgstream"), logging.getLogger("imgstream").handlers[:]
    logs.configure(Settings(_env_file=None, log_format="json", log_level="DEBUG"), out)
    caplog.set_level(logging.DEBUG)
    try:
        made = client.post("/api/v1/keys", json={"name": "nas", "scopes": ["photos:read"]})
        assert made.status_code == 201, made.text
        token = made.json()["key"]
        observed = TestClient(logs.observe_requests(logs.remember_user(
            as_user(http_api(), None))))
        for bearer in (token, token[:-1] + "x"):
            observed.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})
            observed.get("/api/v1/photos", params={"key": bearer},
                         headers={"Authorization": f"Bearer {bearer}"})
        assert client.delete(f"/api/v1/keys/{made.json()['id']}").status_code == 204
        observed.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        logger, handlers = saved
        logger.handlers = handlers
    # httpx's own lines are the test client's (the requests as sent), not the app's.
    written = out.getvalue() + "\n".join(
        caplog.handler.format(record) for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore")))
    assert '"httpRequest"' in out.getvalue(), "the requests were logged"
    secret = token.split("_", 2)[2]
    assert secret not in written and secret[:-1] not in written
