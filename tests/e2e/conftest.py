"""The real app, started as `reflex run --env prod` on a free port, driven by Chromium.

The app, browser and pages come from the tester kit (`imgstream.testing`, a pytest plugin);
this suite gives the app its settings and keeps the short fixture names its tests use.
"""

from __future__ import annotations

import pytest

from imgstream.testing import (  # noqa: F401 - the suite's tests import these from here
    CHROMIUM_ARGS,
    chromium_path,
    open_library,
    sign_in,
    unavailable,
)

MAX_UPLOAD_BYTES = 3_000_000


@pytest.fixture(scope="module")
def imgstream_app_env() -> dict[str, str]:
    return {"IMGSTREAM_DEFAULT_PAGE_SIZE": "2", "IMGSTREAM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES)}


@pytest.fixture(scope="module")
def app(imgstream_app):
    """A fresh app per test module (two apps must never be alive at once)."""
    return imgstream_app


@pytest.fixture(scope="session")
def browser(imgstream_browser):
    return imgstream_browser


@pytest.fixture
def page(imgstream_page):
    return imgstream_page
