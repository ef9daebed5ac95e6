"""ImgStream's tester kit: a pytest plugin (entry point `pytest11: imgstream`).

Installed with the project, it gives any pytest suite:

- `imgstream_app`: the real app (`reflex run --env prod`) on a free port with a throwaway data
  directory and a migrated database, once per test module; override the module- or
  session-scoped fixture `imgstream_app_env` to pass it settings (`IMGSTREAM_*`).
- `imgstream_browser`: Chromium driven by Playwright (the system one when there is one).
- `imgstream_page`: a fresh page on the app, failing the test on any JavaScript error.
- `signed_in_page`: `signed_in_page("ada@example.com")` is such a page, signed in as that
  person through development sign-in, on the library once the app is hydrated.
- `seeded_photos`: `seeded_photos("ada@example.com", 3)` uploads generated photos (or
  `files={"name.jpg": bytes}`) through the chunked upload API and answers their outcomes.

and the helpers behind them (`running_app`, `free_port`, `sign_in`, `open_library`,
`seed_photos`). Stable element hooks are listed in docs/testing.md. Without a browser or an app
the fixtures skip, except under `CI`, where that is a failure.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imgstream.cli.transfer import Journal, LocalFile, Transfer

ROOT = Path(__file__).resolve().parents[1]
"""The project checkout the app is started from (where rxconfig.py is)."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_EMAIL = "ada@example.com"
HYDRATION_TIMEOUT_MS = 60_000


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


def unavailable(reason: str) -> None:
    """Skip locally; in CI a missing browser or app is a failure, never a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"E2E cannot run in CI: {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The Chromium to drive: $IMGSTREAM_CHROMIUM, the system one, or None (Playwright's)."""
    for candidate in (os.environ.get("IMGSTREAM_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


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

    Every start of `reflex run --env prod` rebuilds the shared `.web` build for its own port,
    so two apps must never be alive at once.

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


def sign_in(page: Any, email: str = DEFAULT_EMAIL) -> None:
    """Sign in through the development sign-in page."""
    page.goto("/signin")
    field = page.get_by_test_id("dev-signin-email")
    # The default address arrives with the page's state: typing before that would be lost.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=dev-signin-email]')?.value",
        timeout=HYDRATION_TIMEOUT_MS,
    )
    field.fill(email)
    page.get_by_test_id("dev-signin-submit").click()
    page.wait_for_selector(f"[data-testid=current-user]:has-text('{email}')",
                           timeout=HYDRATION_TIMEOUT_MS)


def open_library(page: Any, email: str = DEFAULT_EMAIL) -> None:
    """Open the home page signed in, once the app is hydrated."""
    page.goto("/")
    page.wait_for_selector("[data-testid=current-user]:has-text('@'), "
                           "[data-testid=dev-signin-email]", timeout=HYDRATION_TIMEOUT_MS)
    if page.get_by_test_id("dev-signin-email").count():
        sign_in(page, email)


def photo_bytes(index: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG that differs from every other index (so none is a duplicate of another)."""
    image = Image.new("RGB", size, ((index * 53) % 256, (index * 97) % 256, (index * 31) % 256))
    image.putpixel((index % size[0], (index // size[0]) % size[1]), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def seed_photos(url: str, email: str, files: dict[str, bytes]) -> list[dict[str, Any]]:
    """Upload files into someone's library through the app's chunked upload API.

    The person signs in through development sign-in (and is created on first sight); the files
    go through the same client as `imgstream upload`.

    Args:
        url: The app's base URL.
        email: Whose library.
        files: File name to content.

    Returns:
        Each file's outcome: `path`, `status` (`added`, `duplicate`, ...), `photo_id`, `message`.
    """
    with tempfile.TemporaryDirectory(prefix="imgstream-seed-") as scratch:
        folder = Path(scratch)
        local = []
        for name, data in files.items():
            path = folder / Path(name).name
            path.write_bytes(data)
            stat = path.stat()
            local.append(LocalFile(path, stat.st_size, stat.st_mtime_ns))

        async def send() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(base_url=url, timeout=120) as http:
                signed_in = await http.post("/auth/dev-sign-in", data={"email": email})
                if signed_in.status_code != 303:
                    raise RuntimeError(f"development sign-in answered {signed_in.status_code}")
                transfer = Transfer(http, Journal(url, folder / "journal.json"), "keep_both")
                return [(await transfer.send(file)).as_json() for file in local]

        # Playwright's sync API runs an event loop in the test's thread: this one has its own.
        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, send()).result()


@pytest.fixture(scope="module")
def imgstream_app_env() -> dict[str, str]:
    """Settings (environment) for `imgstream_app`; override it to change them."""
    return {}


@pytest.fixture(scope="module")
def imgstream_app(tmp_path_factory: pytest.TempPathFactory,
                  imgstream_app_env: dict[str, str]) -> Iterator[RunningApp]:
    """The real app on a free port with a throwaway data directory, one per test module."""
    try:
        with running_app(tmp_path_factory.mktemp("imgstream-data"), imgstream_app_env) as app:
            yield app
    except AppDidNotStart as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def imgstream_browser() -> Iterator[Any]:
    """Chromium, driven by Playwright."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright is not installed")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except Error as exc:
            unavailable(f"no Chromium to drive ({exc.message.splitlines()[0]})")
        yield browser
        browser.close()


@contextmanager
def _page(browser: Any, app: RunningApp, width: int = 1280, height: int = 900) -> Iterator[Any]:
    context = browser.new_context(base_url=app.url, accept_downloads=True,
                                  viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def imgstream_page(imgstream_browser: Any, imgstream_app: RunningApp) -> Iterator[Any]:
    """A new page (its own cookies) on the app; any JavaScript error fails the test."""
    with _page(imgstream_browser, imgstream_app) as page:
        yield page


@pytest.fixture
def signed_in_page(imgstream_browser: Any, imgstream_app: RunningApp) -> Iterator[Callable]:
    """`signed_in_page(email)`: a new page signed in as that person, on their library."""
    with ExitStack() as stack:

        def open_page(email: str = DEFAULT_EMAIL, *, width: int = 1280,
                      height: int = 900) -> Any:
            page = stack.enter_context(_page(imgstream_browser, imgstream_app, width, height))
            open_library(page, email)
            return page

        yield open_page


@pytest.fixture
def seeded_photos(imgstream_app: RunningApp) -> Callable[..., list[dict[str, Any]]]:
    """`seeded_photos(email, count)` or `seeded_photos(email, files={name: bytes})`."""
    seeded = 0

    def seed(email: str = DEFAULT_EMAIL, count: int = 3, *,
             files: dict[str, bytes] | None = None) -> list[dict[str, Any]]:
        nonlocal seeded
        if files is None:
            files = {f"seeded-{seeded + i + 1}.jpg": photo_bytes(seeded + i + 1)
                     for i in range(count)}
            seeded += count
        return seed_photos(imgstream_app.url, email, files)

    return seed
