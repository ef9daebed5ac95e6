from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api.media import content_disposition, media_api
from imgstream.services import identity, photos
from imgstream.services.uploads import IncomingFile
from tests import images


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    config.get_settings.cache_clear()
    runtime.storage.cache_clear()
    yield runtime.storage()
    config.get_settings.cache_clear()
    runtime.storage.cache_clear()


@pytest.fixture
def stored_photo(app_env, session, tmp_path):
    owner = identity.provision_user(session=session, email="ada@example.com")
    data = images.jpeg(size=(300, 200))
    incoming = IncomingFile(filename="Été 2021.jpg", spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    result = photos.ingest(
        session=session, storage=app_env, owner=owner, upload=incoming,
        sha256=incoming.finish(), thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )
    return photos.original_key(owner.id, result.photo_id, "jpg"), data


def test_signed_url_serves_the_exact_bytes_inline(app_env, stored_photo):
    key, data = stored_photo
    response = TestClient(media_api()).get(app_env.url_for(key))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in response.headers


def test_download_is_an_attachment_with_the_filename(app_env, stored_photo):
    key, data = stored_photo
    response = TestClient(media_api()).get(app_env.url_for(key, download_name="Été 2021.jpg"))
    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Été 2021.jpg", safe="") in disposition


def test_tampered_url_is_forbidden(app_env, stored_photo):
    key, _ = stored_photo
    url = app_env.url_for(key).replace("sig=", "sig=0")
    assert TestClient(media_api()).get(url).status_code == 403


def test_unsigned_and_foreign_keys(app_env, stored_photo):
    key, _ = stored_photo
    client = TestClient(media_api())
    assert client.get(f"/media/{key}").status_code == 403
    assert client.get("/media/../data/secret.key?exp=1&sig=x").status_code == 404


@pytest.mark.parametrize("name", ['a"b.jpg', "line\r\nSet-Cookie: x=1.jpg", "日本.jpg"])
def test_content_disposition_cannot_inject_headers(name):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2
