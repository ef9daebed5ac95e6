from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.api.identity import SCOPE_USER
from imgstream.api.media import content_disposition
from imgstream.services import identity, ingest, object_keys
from imgstream.services.spooling import IncomingFile
from tests import images


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    config.get_settings.cache_clear()
    runtime.storage.cache_clear()
    yield runtime.storage()
    config.get_settings.cache_clear()
    runtime.storage.cache_clear()


def as_user(app, user_id):
    """The app as seen by requests the identity middleware resolved to this user."""

    async def signed_in(scope, receive, send):
        await app({**scope, SCOPE_USER: user_id}, receive, send)

    return signed_in


@pytest.fixture
def owner(session):
    return identity.provision_user(session=session, email="ada@example.com")


@pytest.fixture
def client(owner):
    return TestClient(as_user(http_api(), owner.id))


@pytest.fixture
def stored_photo(app_env, session, tmp_path, owner):
    data = images.jpeg(size=(300, 200))
    incoming = IncomingFile(filename="Été 2021.jpg", spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    result = ingest.ingest(
        session=session, storage=app_env, owner=owner, upload=incoming,
        sha256=incoming.finish(), thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )
    return object_keys.original_key(owner.id, result.photo_id, "jpg"), data


def test_signed_url_serves_the_exact_bytes_inline(app_env, stored_photo, client):
    key, data = stored_photo
    response = client.get(app_env.url_for(key))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in response.headers


def test_download_is_an_attachment_with_the_filename(app_env, stored_photo, client):
    key, data = stored_photo
    response = client.get(app_env.url_for(key, download_name="Été 2021.jpg"))
    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Été 2021.jpg", safe="") in disposition


def test_tampered_url_is_forbidden(app_env, stored_photo, client):
    key, _ = stored_photo
    url = app_env.url_for(key).replace("sig=", "sig=0")
    assert client.get(url).status_code == 403


def test_unsigned_and_foreign_keys(app_env, stored_photo, client):
    key, _ = stored_photo
    assert client.get(f"/media/{key}").status_code == 403
    assert client.get("/media/../data/secret.key?exp=1&sig=x").status_code == 404


@pytest.mark.parametrize("name", ['a"b.jpg', "line\r\nSet-Cookie: x=1.jpg", "日本.jpg"])
def test_content_disposition_cannot_inject_headers(name):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2


def test_another_users_url_is_not_found(app_env, stored_photo, session):
    key, _ = stored_photo
    other = identity.provision_user(session=session, email="bob@example.com")
    url = app_env.url_for(key)
    assert TestClient(as_user(http_api(), other.id)).get(url).status_code == 404
    assert TestClient(as_user(http_api(), None)).get(url).status_code == 404
