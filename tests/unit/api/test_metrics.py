import uuid
from contextlib import nullcontext
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from imgstream import config, runtime
from imgstream.api import http_api, metrics
from imgstream.services.ingest import IngestResult, IngestStatus

TOKEN = "t" * 32


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("IMGSTREAM_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    config.get_settings.cache_clear()
    runtime.engine.cache_clear()
    yield monkeypatch
    config.get_settings.cache_clear()
    runtime.engine.cache_clear()


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_off_without_a_token(settings_env):
    assert TestClient(http_api()).get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(settings_env):
    settings_env.setenv("IMGSTREAM_METRICS_TOKEN", TOKEN)
    config.get_settings.cache_clear()
    client = TestClient(http_api())
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "imgstream_http_requests_total" in answer.text
    assert "imgstream_open_sockets" in answer.text


def test_several_workers_are_added_up_from_the_shared_directory(settings_env, tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    settings_env.setenv("IMGSTREAM_METRICS_TOKEN", TOKEN)
    settings_env.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    config.get_settings.cache_clear()
    answer = TestClient(http_api()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    # Nothing was written in multiprocess mode by this process, so the scrape is empty.
    assert "imgstream_http_requests_total{" not in answer.text


@pytest.mark.parametrize(("path", "route"), [
    ("/api/v1/uploads", "/api/v1/uploads"),
    (f"/api/v1/uploads/{uuid.uuid4()}/chunks", "/api/v1/uploads/{id}/chunks"),
    (f"/api/v1/uploads/{uuid.uuid4()}/complete", "/api/v1/uploads/{id}/complete"),
    (f"/api/v1/uploads/{uuid.uuid4()}", "/api/v1/uploads/{id}"),
    (f"/media/photos/{uuid.uuid4()}/x.jpg", "/media/{key}"),
    ("/s/abcdef", "/s/{token}"),
    ("/_event/", "/_event"),
    ("/health", "/health"),
    ("/trash/", "/trash"),
    ("/", "/"),
    ("/assets/index-abc123.js", "/assets/{file}"),
    ("/photo/123", "/photo/{id}"),
    ("/../../etc/passwd", "other"),
    (f"/{uuid.uuid4()}", "other"),
])
def test_paths_become_a_bounded_set_of_routes(path, route):
    assert metrics.route_of(path) == route


def test_upload_begins_are_counted_by_outcome():
    before = value("imgstream_uploads_total", format="unknown", outcome="too_large")
    metrics.observe_request(method="POST", route="/api/v1/uploads", status=413, seconds=0.01)
    assert value("imgstream_uploads_total", format="unknown", outcome="too_large") == before + 1


@pytest.mark.parametrize(("filename", "announced"), [
    ("IMG_0001.JPG", "jpeg"), ("a.jpeg", "jpeg"), ("b.heic", "heic"), ("c.HEIF", "heif"),
    ("d.avif", "avif"), ("e.png", "png"), ("f.webp", "webp"), ("g.gif", "gif"),
    ("notes.txt", "other"), ("no-extension", "other"), ("../evil.<script>", "other"),
])
def test_an_announced_format_is_one_of_a_fixed_set(filename, announced):
    assert metrics.announced_format(filename) == announced


def test_an_ingest_is_counted_timed_and_logged(caplog):
    before = value("imgstream_ingests_total", format="unknown", outcome="rejected")
    run = metrics.measured(lambda: IngestResult(IngestStatus.REJECTED, "not a photo"))
    with caplog.at_level("INFO", logger="imgstream.ingest"):
        assert run().status is IngestStatus.REJECTED
    assert value("imgstream_ingests_total", format="unknown", outcome="rejected") == before + 1
    assert caplog.records[-1].json_fields["ingest"]["outcome"] == "rejected"


def test_a_failed_ingest_is_counted_as_an_error():
    before = value("imgstream_ingests_total", format="unknown", outcome="error")

    def failing():
        raise OSError("disk full")

    with pytest.raises(OSError):
        metrics.measured(failing)()
    assert value("imgstream_ingests_total", format="unknown", outcome="error") == before + 1


def test_an_added_photo_counts_its_stored_bytes():
    photo_id = uuid.uuid4()

    class Rows:
        def get(self, model, key):
            assert key == photo_id
            return SimpleNamespace(format="JPEG", size_bytes=1234)

    before = value("imgstream_stored_bytes_total", format="jpeg")
    added = value("imgstream_ingests_total", format="jpeg", outcome="added")
    metrics.measured(lambda: IngestResult(IngestStatus.ADDED, "added", photo_id=photo_id),
                     lambda: nullcontext(Rows()))()
    assert value("imgstream_stored_bytes_total", format="jpeg") == before + 1234
    assert value("imgstream_ingests_total", format="jpeg", outcome="added") == added + 1


def test_a_photo_that_cannot_be_looked_up_still_counts_and_the_ingest_succeeds():
    def broken():
        raise RuntimeError("no database")

    before = value("imgstream_ingests_total", format="unknown", outcome="added")
    result = metrics.measured(
        lambda: IngestResult(IngestStatus.ADDED, "added", photo_id=uuid.uuid4()), broken)()
    assert result.status is IngestStatus.ADDED
    assert value("imgstream_ingests_total", format="unknown", outcome="added") == before + 1


def test_database_errors_are_counted(engine):
    metrics.watch_database()
    before = value("imgstream_database_errors_total")
    with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table"))
    assert value("imgstream_database_errors_total") == before + 1
