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
    assert body["checks"] == {"database": "ok", "storage": "ok"}
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
                                          "storage": "ok"}
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
