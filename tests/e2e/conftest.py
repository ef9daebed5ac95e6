"""The real app, started as `reflex run --env prod` on a free port, driven by Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(reason: str):
    """Skip locally; in CI a missing browser or app is a failure, never a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"E2E cannot run in CI: {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("IMGSTREAM_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"app did not come up in {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    port = free_port()
    env = {
        **os.environ,
        "IMGSTREAM_DATA_DIR": str(data_dir),
        "IMGSTREAM_DEFAULT_PAGE_SIZE": "2",
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    reflex = [sys.executable, "-m", "reflex"]
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
        wait_until_up(f"{url}/ping", proc, log)
        wait_until_up(f"{url}/", proc, log)
        yield url
    except RuntimeError as exc:
        unavailable(str(exc))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as exc:
            unavailable(f"no Chromium to drive ({exc.message.splitlines()[0]})")
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(base_url=app_url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def open_library(page) -> None:
    """Open the home page and wait until the app is hydrated and signed in."""
    page.goto("/")
    page.wait_for_selector("[data-testid=current-user]:has-text('@')", timeout=60_000)
