"""Start the real app (`reflex run --env prod`) on a free port with its own data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class AppDidNotStart(RuntimeError):
    """The app exited or did not answer in time; the message holds the end of its log."""


@dataclass
class RunningApp:
    """A started app."""

    url: str
    process: subprocess.Popen
    data_dir: Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float,
                   headers: dict[str, str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AppDidNotStart(f"app exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                        timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AppDidNotStart(f"app did not answer in {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_app(data_dir: Path, extra_env: dict[str, str] | None = None, *,
                port: int | None = None, ready_headers: dict[str, str] | None = None,
                timeout: float = 900) -> Iterator[RunningApp]:
    """Migrate a fresh database and serve the production build on one port.

    Args:
        data_dir: The app's IMGSTREAM_DATA_DIR.
        extra_env: More environment for the app.
        port: The port to serve on (a free one by default).
        ready_headers: Headers that let the readiness check through sign-in.
        timeout: Seconds to wait for the first build and start.

    Yields:
        The running app; it is stopped on exit.
    """
    port = port or free_port()
    env = {
        **os.environ,
        "IMGSTREAM_DATA_DIR": str(data_dir),
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    reflex = [sys.executable, "-m", "reflex"]
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([*reflex, "db", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log = data_dir / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*reflex, "run", "--env", "prod", "--backend-port", str(port),
             "--frontend-port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://localhost:{port}"
    try:
        _wait_until_up(f"{url}/ping", proc, log, timeout, {})
        _wait_until_up(f"{url}/", proc, log, timeout, ready_headers or {})
        yield RunningApp(url, proc, data_dir)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
