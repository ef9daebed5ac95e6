"""The container image, built from the Dockerfile and run for real with podman.

The base image is made from Debian's packages (`debian-base.sh`) because no registry is reachable
here; everything else is the Dockerfile as a user builds it. Photos and the SQLite database live
on a named volume, so a photo uploaded through the chunk API must survive the container being
replaced. With CI set, a machine without podman fails these tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import images

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "localhost/debian-python:bookworm"
STOP_SECONDS = 10
MAX_IMAGE_BYTES = 600_000_000
METRICS_TOKEN = "m" * 32
CONTAINERS_CONF = (
    "[containers]\n"
    # Raising ulimits is not allowed in unprivileged sandboxes; lowering them is.
    'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
    "[engine]\n"
    # crun cannot run under cgroups in hybrid mode; runc can.
    'runtime = "runc"\n'
)
pytestmark = pytest.mark.timeout(1800)


@dataclass
class Podman:
    """The podman command with this suite's configuration."""

    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True, timeout: float = 600
                 ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["podman", *args], env=self.env, text=True, capture_output=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited with {done.returncode}:\n"
                                 f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return done


@dataclass
class Image:
    """The built image and what it cost."""

    name: str
    build_seconds: float
    size_bytes: int


@pytest.fixture(scope="session")
def podman(tmp_path_factory) -> Podman:
    if shutil.which("podman") is None:
        message = "podman is needed to build and run the image (apt-get install podman " \
                  "buildah mmdebstrap runc)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return Podman({**os.environ, "CONTAINERS_CONF": str(conf)})


@pytest.fixture(scope="session")
def image(podman: Podman, request) -> Iterator[Image]:
    subprocess.run([str(ROOT / "tests/image/debian-base.sh"), BASE_IMAGE], env=podman.env,
                   check=True, timeout=900)
    name = f"localhost/imgstream:test-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    build = podman("build", "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                   "-t", name, str(ROOT), check=False, timeout=1500)
    seconds = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-6000:]
    size = int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None:
        # Output is captured while fixtures run; the figures are for the person running the suite.
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"image {name}: {size / 1e6:.0f} MB, built in {seconds:.0f} s")
    yield Image(name, seconds, size)
    podman("rmi", "--force", name, check=False)
    # The builder stage is a gigabyte; other images in the store are left alone.
    podman("image", "prune", "--force", "--filter",
           "label=org.opencontainers.image.title=imgstream-build", check=False)


@dataclass
class Container:
    """A running container of the image, published on a free loopback port."""

    name: str
    url: str


@pytest.fixture
def volume(podman: Podman) -> Iterator[str]:
    name = f"imgstream-test-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", name)
    yield name
    podman("volume", "rm", "--force", name, check=False)


def _start(podman: Podman, image: Image, volume: str, *env: str) -> Container:
    name = f"imgstream-test-{uuid.uuid4().hex[:8]}"
    podman("run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-v", f"{volume}:/data",
           *(f"--env={setting}" for setting in env), image.name)
    return _published(podman, name)


def _published(podman: Podman, name: str) -> Container:
    address = podman("port", name, "8080").stdout.strip().splitlines()[0]
    container = Container(name, f"http://{address}")
    _wait_healthy(podman, container)
    return container


def _wait_healthy(podman: Podman, container: Container, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{container.url}/health", timeout=3) as response:
                if response.status == 200:
                    return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    logs = podman("logs", container.name, check=False)
    raise AssertionError(f"/health never answered 200:\n{logs.stdout[-4000:]}"
                         f"{logs.stderr[-4000:]}")


def _remove(podman: Podman, container: Container) -> None:
    podman("rm", "--force", "--time", "0", container.name, check=False)


@pytest.fixture
def migrated(podman: Podman, image: Image, volume: str) -> str:
    """A volume whose database the migration command (the Cloud Run job) has created."""
    podman("run", "--rm", "-v", f"{volume}:/data", image.name, "reflex", "db", "migrate")
    return volume


class Session:
    """An HTTP client holding the development sign-in cookie of one person."""

    def __init__(self, url: str, email: str):
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.cookie = ""
        status, headers, _ = self.call("POST", "/auth/dev-sign-in",
                                       urllib.parse.urlencode({"email": email}).encode(),
                                       "application/x-www-form-urlencoded")
        assert status == 303, status
        # Every cookie the sign-in sets (the sign-in itself and the remembered addresses).
        self.cookie = "; ".join(line.split(";", 1)[0]
                                for line in headers["set-cookie"].split("\n"))

    def call(self, method: str, path: str, body: bytes | None = None,
             content_type: str | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            headers[name] = f"{headers[name]}\n{value}" if name in headers else value
        return response.status, headers, data

    def json(self, method: str, path: str, payload: dict | None = None,
             body: bytes | None = None) -> tuple[int, dict]:
        if payload is not None:
            status, _, data = self.call(method, path, json.dumps(payload).encode(),
                                        "application/json")
        else:
            status, _, data = self.call(method, path, body,
                                        "application/octet-stream" if body else None)
        return status, json.loads(data) if data else {}

    def upload(self, filename: str, data: bytes) -> tuple[str, dict]:
        status, begun = self.json("POST", "/api/v1/uploads",
                                  {"filename": filename, "size": len(data)})
        assert status == 201, begun
        step = begun["chunk_bytes"]
        for offset in range(0, len(data), step):
            status, answer = self.json(
                "PUT", f"/api/v1/uploads/{begun['id']}/chunks?offset={offset}",
                body=data[offset:offset + step])
            assert status == 200, answer
        status, outcome = self.json("POST", f"/api/v1/uploads/{begun['id']}/complete",
                                    {"on_collision": "keep_both"})
        assert status == 200, outcome
        return begun["id"], outcome


def test_the_image_serves_health_and_the_built_frontend_as_a_user_other_than_root(
        podman: Podman, image: Image, volume: str):
    container = _start(podman, image, volume, f"IMGSTREAM_METRICS_TOKEN={METRICS_TOKEN}",
                       "GRANIAN_WORKERS=2", "IMGSTREAM_GCP_PROJECT=photos")
    try:
        with urllib.request.urlopen(f"{container.url}/health", timeout=10) as response:
            assert response.status == 200
            assert json.load(response)["checks"] == {"database": "ok", "storage": "ok",
                                                         "signing": "ok"}
        with urllib.request.urlopen(f"{container.url}/", timeout=10) as response:
            assert response.status == 200
            assert response.headers.get_content_type() == "text/html"
            assert b"<script" in response.read()
        uids = podman("exec", container.name, "sh", "-c",
                      "grep -h '^Uid:' /proc/[0-9]*/status").stdout.split()
        assert uids and all(uid == "10001" for uid in uids if uid.isdigit()), uids
        podman("healthcheck", "run", container.name)

        scrape = urllib.request.Request(f"{container.url}/metrics",
                                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(scrape, timeout=10) as response:
            figures = response.read().decode()
        assert 'imgstream_http_requests_total{method="GET",route="/health",status="200"}' \
            in figures, figures[:2000]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{container.url}/metrics", timeout=10)
        assert refused.value.code == 401

        lines = [json.loads(line) for line in podman("logs", container.name).stdout.splitlines()
                 if line.startswith("{")]
        served = [line for line in lines if line.get("httpRequest", {}).get("requestUrl") == "/"]
        assert served and served[0]["severity"] == "INFO", lines[-5:]
        command = json.loads(podman("image", "inspect", "--format", "{{json .Config.Cmd}}",
                                    image.name).stdout)
        assert "migrate" not in " ".join(command), command
    finally:
        _remove(podman, container)


def test_the_image_is_smaller_than_600_mb(image: Image):
    assert image.size_bytes < MAX_IMAGE_BYTES, f"{image.size_bytes / 1e6:.0f} MB"


def test_a_photo_uploaded_into_the_container_is_still_there_after_it_is_replaced(
        podman: Podman, image: Image, migrated: str):
    photo = images.jpeg(size=(640, 480))
    container = _start(podman, image, migrated)
    try:
        _, outcome = Session(container.url, "box@example.com").upload("box.jpg", photo)
        assert outcome["status"] == "added", outcome
        photo_id = outcome["photo_id"]
    finally:
        podman("stop", "--time", str(STOP_SECONDS), container.name, check=False)
        _remove(podman, container)

    container = _start(podman, image, migrated)
    try:
        person = Session(container.url, "box@example.com")
        listing = podman("exec", container.name, "sh", "-c",
                         f"sha256sum /data/library/photos/*/{photo_id}.jpg").stdout
        assert listing.split()[0] == hashlib.sha256(photo).hexdigest()
        _, again = person.upload("box-again.jpg", photo)
        assert again["status"] == "duplicate", again
        assert again["photo_id"] == photo_id
    finally:
        _remove(podman, container)


def test_sigterm_lets_the_request_in_flight_finish_and_stops_within_ten_seconds(
        podman: Podman, image: Image, migrated: str):
    container = _start(podman, image, migrated)
    try:
        person = Session(container.url, "stop@example.com")
        photo = images.jpeg(size=(320, 240))
        status, begun = person.json("POST", "/api/v1/uploads",
                                    {"filename": "stop.jpg", "size": len(photo)})
        assert status == 201, begun
        in_flight = http.client.HTTPConnection(person.host, person.port, timeout=30)
        in_flight.putrequest("PUT", f"/api/v1/uploads/{begun['id']}/chunks?offset=0")
        in_flight.putheader("Cookie", person.cookie)
        in_flight.putheader("Content-Type", "application/octet-stream")
        in_flight.putheader("Content-Length", str(len(photo)))
        in_flight.endheaders()
        in_flight.send(photo[:100])
        time.sleep(0.5)

        started = time.monotonic()
        podman("kill", "--signal", "TERM", container.name)
        time.sleep(0.5)
        in_flight.send(photo[100:])
        response = in_flight.getresponse()
        assert response.status == 200, response.read()
        assert json.loads(response.read())["received"] == len(photo)

        exit_code = podman("wait", container.name, timeout=30).stdout.strip()
        stopped_after = time.monotonic() - started
        assert stopped_after < STOP_SECONDS, stopped_after
        assert exit_code == "0", podman("logs", container.name).stderr[-3000:]
    finally:
        _remove(podman, container)
