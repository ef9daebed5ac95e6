"""The chunked-upload API called by browser JavaScript from a page on another origin.

In development the page (port 3000) and the backend (port 8000) are different origins, so every
call is cross-origin with the sign-in cookie: Reflex's CORS middleware must answer the preflight
of a PUT and let credentialed answers through, for ImgStream's own routes too.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests import images
from tests.e2e.conftest import MAX_UPLOAD_BYTES, unavailable
from tests.e2e.running_app import AppDidNotStart, free_port, running_app

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
def app(tmp_path_factory):
    try:
        with running_app(tmp_path_factory.mktemp("data"),
                         {"IMGSTREAM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
                          "IMGSTREAM_UPLOAD_CHUNK_BYTES": str(CHUNK)}) as app:
            yield app
    except AppDidNotStart as exc:
        unavailable(str(exc))


@pytest.fixture
def other_origin(tmp_path):
    """A page served from another port than the app: another origin, the same site."""
    (tmp_path / "index.html").write_text("<!doctype html><title>elsewhere</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


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
    assert log["again"] == [409, {"error": f"the upload continues at byte {len(data)}",
                                  "received": len(data)}]
    status, result = log["complete"]
    assert status == 200 and result["status"] == "added", result
    # The upload's row keeps its outcome: the same answer as completing it.
    assert log["after"] == [200, result]
    originals = list(Path(app.data_dir, "library", "photos").rglob("*.jpg"))
    assert [p.read_bytes() for p in originals] == [data]
