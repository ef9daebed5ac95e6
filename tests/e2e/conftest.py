"""The real app, started as `reflex run --env prod` on a free port, driven by Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.running_app import AppDidNotStart, running_app

MAX_UPLOAD_BYTES = 3_000_000
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


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A fresh app per test module.

    Every start of `reflex run --env prod` rebuilds the shared `.web` build for its own port, so
    two apps must never be alive at once.
    """
    try:
        with running_app(tmp_path_factory.mktemp("data"),
                         {"IMGSTREAM_DEFAULT_PAGE_SIZE": "2",
                          "IMGSTREAM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES)}) as app:
            yield app
    except AppDidNotStart as exc:
        unavailable(str(exc))


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
def page(browser, app):
    context = browser.new_context(base_url=app.url, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def sign_in(page, email: str = "ada@example.com") -> None:
    """Sign in through the development sign-in page."""
    page.goto("/signin")
    field = page.get_by_test_id("dev-signin-email")
    # The default address arrives with the page's state: typing before that would be lost.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=dev-signin-email]')?.value", timeout=60_000
    )
    field.fill(email)
    page.get_by_test_id("dev-signin-submit").click()
    page.wait_for_selector(f"[data-testid=current-user]:has-text('{email}')", timeout=60_000)


def open_library(page, email: str = "ada@example.com") -> None:
    """Open the home page signed in, once the app is hydrated."""
    page.goto("/")
    page.wait_for_selector("[data-testid=current-user]:has-text('@'), "
                           "[data-testid=dev-signin-email]", timeout=60_000)
    if page.get_by_test_id("dev-signin-email").count():
        sign_in(page, email)
