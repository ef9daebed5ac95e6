import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from imgstream import config
from imgstream.api.headers import content_security_policy, security_headers
from imgstream.config import Settings


def app() -> Starlette:
    async def page(request):
        return PlainTextResponse("<html></html>", media_type="text/html")

    async def own_policy(request):
        return Response(b"x", headers={"content-security-policy": "sandbox"})

    return Starlette(routes=[Route("/", page), Route("/own", own_policy)])


@pytest.fixture
def client(monkeypatch, tmp_path):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    yield TestClient(security_headers(app()))
    config.get_settings.cache_clear()


@pytest.mark.parametrize("path", ["/", "/missing"])
def test_a23_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def test_a23_a_route_keeps_its_own_policy(client):
    response = client.get("/own")
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-frame-options"] == "DENY"


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split("; "))}


def test_a23_policy_allows_the_backend_socket_and_photo_sources(monkeypatch):
    monkeypatch.setenv("REFLEX_FRONTEND_PORT", "3000")
    monkeypatch.setenv("REFLEX_BACKEND_PORT", "8000")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443")
    policy = directives(content_security_policy(Settings(_env_file=None, gcs_bucket="b")))
    assert "ws://localhost:8000" in policy["connect-src"]
    assert "http://localhost:8000" in policy["connect-src"]
    assert {"data:", "https://storage.googleapis.com", "http://127.0.0.1:4443",
            "http://localhost:8000"} <= set(policy["img-src"])
    assert "http://localhost:8000" in policy["form-action"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "*" not in " ".join(source for sources in policy.values() for source in sources)


def test_a23_production_policy_names_only_the_public_origin(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    policy = directives(content_security_policy(Settings(
        _env_file=None, env="production", secret="s" * 64, gcs_bucket="b",
        iap_audience="/projects/1/global/backendServices/2",
        public_url="https://photos.example.com", database_url="postgresql://x")))
    assert policy["connect-src"] == ["'self'", "https://photos.example.com",
                                     "wss://photos.example.com"]
    assert "https://storage.googleapis.com" in policy["img-src"]
