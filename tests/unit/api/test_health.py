import pytest
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api import http_api


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    runtime.engine.cache_clear()
    runtime.storage.cache_clear()
    SQLModel.metadata.create_all(runtime.engine())
    yield TestClient(http_api())
    config.get_settings.cache_clear()
    runtime.engine.cache_clear()
    runtime.storage.cache_clear()


def test_healthy(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "storage": "ok", "signing": "ok"}
    assert body["version"]
    assert body["timestamp"]
    assert "sqlite" not in response.text and "secret" not in response.text


def test_a_failing_database_is_named(client, monkeypatch):
    import imgstream.api.health as health

    def broken():
        raise ConnectionError("database unreachable at postgresql://user:pw@host/db")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failing: ConnectionError",
                                          "storage": "ok", "signing": "ok"}
    assert "pw@host" not in response.text


def test_a_failing_store_is_named(client, monkeypatch):
    class Broken:
        def check(self):
            raise OSError("read-only file system")

    import imgstream.api.health as health

    monkeypatch.setattr(health, "storage", lambda: Broken())
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failing: OSError"


def test_a_store_that_cannot_sign_urls_fails_the_signing_check(client, monkeypatch, caplog):
    import imgstream.api.health as health
    from imgstream.services import photo_urls
    from imgstream.services.storage import UrlUnavailable

    reason = "iam.serviceAccounts.signBlob on run@p.iam.gserviceaccount.com: grant ..."

    class CannotSign:
        def check(self):
            pass

        def url_for(self, key, *, download_name=""):
            raise UrlUnavailable(reason)

    monkeypatch.setattr(health, "storage", lambda: CannotSign())
    monkeypatch.setattr(photo_urls, "_reported", set())
    for _ in range(2):
        response = client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failing"
        assert body["checks"] == {"database": "ok", "storage": "ok",
                                  "signing": "failing: UrlUnavailable"}
        assert "run@p" not in response.text, "the reason goes to the log, not to anyone asking"
    assert [r.getMessage() for r in caplog.records if reason in r.getMessage()] == [
        f"Photos show placeholders because their URLs cannot be signed: {reason}"
    ]
