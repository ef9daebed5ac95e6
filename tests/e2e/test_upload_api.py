"""The chunked-upload API called by browser JavaScript from a page on another origin.

In development the page (port 3000) and the backend (port 8000) are different origins, so every
call is cross-origin with the sign-in cookie: Reflex's CORS middleware must answer the preflight
of a PUT and let credentialed answers through, for ImgStream's own routes too, and only for the
app's own frontend origin.
"""

from __future__ import annotations

import functools
import http.server
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error

from imgstream.testing import AppDidNotStart, free_port, running_app
from tests import images
from tests.e2e.conftest import MAX_UPLOAD_BYTES, unavailable

pytestmark = pytest.mark.e2e

CHUNK = 4096

UPLOAD = """
async ([backend, bytes, chunk]) => {
  const data = new Uint8Array(bytes);
  const form = new URLSearchParams({email: "api@example.com"});
  await fetch(`${backend}/auth/dev-sign-in`,
              {method: "POST", body: form, credentials: "include", redirect: "manual"});
  const call = async (method, path, body, type) => {
    const headers = type ? {"Content-Type": type} : {};
    const response = await fetch(`${backend}${path}`,
                                 {method, body, headers, credentials: "include"});
    return [response.status, response.status === 204 ? null : await response.json()];
  };
  const log = {};
  const [, upload] = await call("POST", "/api/v1/uploads",
    JSON.stringify({filename: "cross-origin.jpg", size: data.length}), "application/json");
  log.begin = upload;
  log.chunks = [];
  for (let offset = 0; offset < data.length; offset += upload.chunk_bytes) {
    log.chunks.push(await call("PUT", `/api/v1/uploads/${upload.id}/chunks?offset=${offset}`,
      data.slice(offset, offset + upload.chunk_bytes), "application/octet-stream"));
  }
  log.again = await call("PUT", `/api/v1/uploads/${upload.id}/chunks?offset=0`,
                         data.slice(0, 10), "application/octet-stream");
  log.complete = await call("POST", `/api/v1/uploads/${upload.id}/complete`,
                            JSON.stringify({on_collision: "keep_both"}), "application/json");
  log.after = await call("GET", `/api/v1/uploads/${upload.id}`);
  return log;
}
"""


@pytest.fixture(scope="module")
def frontend_port() -> int:
    """The port of the app's own frontend when it is served apart from the backend."""
    return free_port()


@pytest.fixture(scope="module")
def app(tmp_path_factory, frontend_port):
    try:
        with running_app(tmp_path_factory.mktemp("data"),
                         {"IMGSTREAM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
                          "IMGSTREAM_UPLOAD_CHUNK_BYTES": str(CHUNK),
                          "IMGSTREAM_FRONTEND_URL": f"http://localhost:{frontend_port}"}) as app:
            yield app
    except AppDidNotStart as exc:
        unavailable(str(exc))


@contextmanager
def page_server(directory: Path, port: int) -> Iterator[str]:
    """Serve a blank page on a port of localhost: another origin than the backend's."""
    (directory / "index.html").write_text("<!doctype html><title>elsewhere</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def other_origin(tmp_path, frontend_port):
    """The app's frontend origin on another port than the backend (as in development)."""
    with page_server(tmp_path, frontend_port) as url:
        yield url


def test_a22_a_page_on_any_other_origin_cannot_call_the_api(browser, app, tmp_path):
    """Another port of localhost is the same site, but not the app: its calls are refused."""
    context = browser.new_context()
    try:
        with page_server(tmp_path, free_port()) as url:
            page = context.new_page()
            page.goto(url)
            with pytest.raises(Error, match="Failed to fetch"):
                page.evaluate(UPLOAD, [app.url, [1, 2, 3], CHUNK])
    finally:
        context.close()
    assert not list(Path(app.data_dir, "library").rglob("*.jpg"))
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        assert db.execute("SELECT count(*) FROM user").fetchone() == (0,)


def test_a_page_on_another_origin_uploads_in_chunks_with_credentials(browser, app,
                                                                      other_origin):
    data = images.jpeg(size=(900, 700), color=(10, 120, 200))
    assert len(data) > 2 * CHUNK
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(other_origin)
        log = page.evaluate(UPLOAD, [app.url, list(data), CHUNK])
    finally:
        context.close()
    assert log["begin"]["chunk_bytes"] == CHUNK
    assert [status for status, _ in log["chunks"]] == [200] * len(log["chunks"])
    assert log["chunks"][-1][1] == {"received": len(data)}
    status, again = log["again"]
    # An RFC 9457 problem that keeps the `error` member older clients read.
    assert status == 409
    assert again["error"] == again["detail"] == f"the upload continues at byte {len(data)}"
    assert (again["status"], again["received"]) == (409, len(data))
    status, result = log["complete"]
    assert status == 200 and result["status"] == "added", result
    # The upload's row keeps its outcome: the same answer as completing it.
    assert log["after"] == [200, result]
    originals = list(Path(app.data_dir, "library", "photos").rglob("*.jpg"))
    assert [p.read_bytes() for p in originals] == [data]
