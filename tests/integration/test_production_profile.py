"""The app in the production profile, started for real, behind a stand-in for IAP's keys."""

from __future__ import annotations

import base64
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from imgstream.testing import ROOT, AppDidNotStart, free_port, running_app
from tests.gcs import gcs_storage
from tests.iap import AUDIENCE, SigningKey
from tests.service_account import write_key_file

IAP = "x-goog-iap-jwt-assertion"


@pytest.fixture(scope="module")
def key():
    return SigningKey()


@pytest.fixture(scope="module")
def certs_url(key):
    body = key.certs()

    class Certs(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/iap/verify/public_key"
    server.shutdown()


@pytest.fixture(scope="module")
def app(tmp_path_factory, key, certs_url):
    port = free_port()
    data_dir = tmp_path_factory.mktemp("prod")
    with gcs_storage() as bucket, _serve(data_dir, port, bucket, key, certs_url) as running:
        yield running


@contextmanager
def _serve(data_dir, port, bucket, key, certs_url):
    env = {
        "IMGSTREAM_DATABASE_URL": f"sqlite:///{data_dir / 'imgstream.db'}",
        "IMGSTREAM_GCS_BUCKET": bucket.bucket_name,
        "STORAGE_EMULATOR_HOST": os.environ["STORAGE_EMULATOR_HOST"],
        "GOOGLE_APPLICATION_CREDENTIALS": str(write_key_file(data_dir / "signer.json")),
        "IMGSTREAM_ENV": "production",
        "IMGSTREAM_SECRET": "p" * 64,
        "IMGSTREAM_IAP_AUDIENCE": AUDIENCE,
        "IMGSTREAM_IAP_CERTS_URL": certs_url,
        "IMGSTREAM_PUBLIC_URL": f"http://localhost:{port}",
    }
    try:
        with running_app(data_dir, env, port=port,
                         ready_headers={IAP: key.token()}
                         ) as running:
            yield running
    except AppDidNotStart as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def get(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def users(app) -> list[str]:
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        return [row[0] for row in db.execute("select email from user order by email")]


def test_health_checks_the_database_the_bucket_and_signing_without_sign_in(app):
    with urllib.request.urlopen(f"{app.url}/health", timeout=20) as response:
        body = json.loads(response.read())
    assert response.status == 200
    assert body["checks"] == {"database": "ok", "storage": "ok", "signing": "ok"}


def test_without_the_header_everything_is_401(app):
    assert get(f"{app.url}/") == 401
    assert get(f"{app.url}/settings") == 401
    assert get(f"{app.url}/", {"x-goog-authenticated-user-email": "a:x@example.com"}) == 401
    assert get(f"{app.url}/ping") == 200


def test_a_valid_assertion_signs_in_and_provisions(app, key):
    token = key.token(sub="accounts.google.com:77", email="accounts.google.com:zoe@example.com")
    assert "zoe@example.com" not in users(app)
    assert get(f"{app.url}/", {IAP: token}) == 200
    assert "zoe@example.com" in users(app)


def test_expired_or_foreign_assertions_are_401(app, key):
    assert get(f"{app.url}/", {IAP: key.token(iat=1_000_000, exp=1_000_600)}) == 401
    assert get(f"{app.url}/", {IAP: SigningKey(kid=key.kid).token()}) == 401
    assert get(f"{app.url}/", {IAP: key.token(aud="/projects/9/apps/other")}) == 401


def handshake_status(app, origin: str, token: str) -> int:
    port = int(app.url.rsplit(":", 1)[1])
    request = (
        "GET /_event/?EIO=4&transport=websocket&token=t1 HTTP/1.1\r\n"
        f"Host: localhost:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n{IAP}: {token}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_socket_from_another_origin_is_refused(app, key):
    assert handshake_status(app, app.url, key.token()) == 101
    assert handshake_status(app, "https://evil.example", key.token()) == 403
    assert handshake_status(app, app.url, "garbage") == 403


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMGSTREAM_ENV": "production", "IMGSTREAM_SIGN_IN": "development"},
         "cannot run in the production profile"),
        ({"IMGSTREAM_ENV": "development", "K_SERVICE": "imgstream"}, "cannot run on Cloud Run"),
        ({"IMGSTREAM_ENV": "production"}, "IMGSTREAM_IAP_AUDIENCE"),
    ],
)
def test_the_app_refuses_to_start(tmp_path, env, message):
    result = subprocess.run(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-port",
         str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "IMGSTREAM_DATA_DIR": str(tmp_path), **env},
    )
    assert result.returncode != 0
    assert "ImgStream cannot start" in result.stderr + result.stdout
    assert message in result.stderr + result.stdout


def test_a23_production_answers_carry_the_security_headers(app, key):
    for path, headers in (("/", {IAP: key.token()}), ("/health", {}), ("/ping", {}),
                          ("/", {})):
        request = urllib.request.Request(f"{app.url}{path}", headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=20)
        except urllib.error.HTTPError as refused:
            response = refused
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, path
        assert "https://storage.googleapis.com" in policy
        assert os.environ["STORAGE_EMULATOR_HOST"].rstrip("/") in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"

