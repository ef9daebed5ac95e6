"""Two backend workers sharing state through Redis: uploads and browsing lose nothing."""

from __future__ import annotations

import os
import uuid

import psutil
import pytest
from playwright.sync_api import expect

from imgstream.testing import AppDidNotStart, running_app
from tests import images
from tests.e2e.conftest import open_library, unavailable

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("IMGSTREAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture(scope="module")
def scaled_app(tmp_path_factory):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    env = {"REFLEX_REDIS_URL": REDIS_URL, "GRANIAN_WORKERS": "2",
           "IMGSTREAM_DEFAULT_PAGE_SIZE": "4"}
    try:
        with running_app(tmp_path_factory.mktemp("scaled"), env) as app:
            yield app
    except AppDidNotStart as exc:
        unavailable(str(exc))


def worker_count(app) -> int:
    """Backend worker processes: the children the server forked from itself."""
    workers = psutil.Process(app.process.pid).children(recursive=True)
    return sum(1 for p in workers if "reflex" in " ".join(p.cmdline()))


def test_two_workers_upload_and_browse(scaled_app, browser, tmp_path):
    assert worker_count(scaled_app) >= 2, "the backend should run several workers"
    context = browser.new_context(base_url=scaled_app.url)
    try:
        page = context.new_page()
        open_library(page, f"{uuid.uuid4().hex[:8]}@example.com")
        files = []
        for i in range(6):
            path = tmp_path / f"scaled-{i}.jpg"
            path.write_bytes(images.jpeg(size=(320, 240), color=(30 * i, 90, 150),
                                         date_original=f"201{i}:06:01 12:00:00"))
            files.append(str(path))
        page.get_by_test_id("upload-input").set_input_files(files)
        rows = page.get_by_test_id("upload-item")
        expect(rows).to_have_count(6, timeout=60_000)
        for i in range(6):
            expect(rows.filter(has_text=f"scaled-{i}.jpg")).to_contain_text("added",
                                                                             timeout=60_000)
        # Six months near the viewport: the timeline loads them all by itself.
        cards = page.get_by_test_id("photo-card")
        expect(cards).to_have_count(6, timeout=30_000)

        # A new connection (possibly on the other worker) reads everything from the database.
        page.reload()
        expect(cards).to_have_count(6, timeout=30_000)
        assert [cards.nth(i).get_attribute("title") for i in range(6)] == [
            f"scaled-{i}.jpg" for i in reversed(range(6))
        ]
    finally:
        context.close()


def test_tabs_on_either_worker_follow_each_others_changes(scaled_app, browser, tmp_path):
    import time

    ada = browser.new_context(base_url=scaled_app.url)
    eve = browser.new_context(base_url=scaled_app.url)
    try:
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        # Several tabs: their sockets spread over both workers.
        tabs = [ada.new_page() for _ in range(4)]
        for tab in tabs:
            open_library(tab, email)
        other = eve.new_page()
        open_library(other, f"{uuid.uuid4().hex[:8]}@example.com")
        time.sleep(1.5)
        path = tmp_path / "live.jpg"
        path.write_bytes(images.jpeg(size=(320, 240), color=(200, 40, 90)))
        tabs[0].get_by_test_id("upload-input").set_input_files([str(path)])
        expect(tabs[0].get_by_test_id("photo-card")).to_have_count(1, timeout=60_000)
        shown = time.monotonic()
        for tab in tabs[1:]:
            expect(tab.get_by_test_id("photo-card")).to_have_count(1, timeout=10_000)
        upload_lag = time.monotonic() - shown
        tabs[1].get_by_test_id("photo-select").first.click()
        tabs[1].get_by_test_id("selection-trash").click()
        expect(tabs[1].get_by_test_id("photo-card")).to_have_count(0, timeout=30_000)
        shown = time.monotonic()
        for tab in (tabs[0], *tabs[2:]):
            expect(tab.get_by_test_id("photo-card")).to_have_count(0, timeout=10_000)
        trash_lag = time.monotonic() - shown
        print(f"two workers, live lag: upload {upload_lag:.2f}s, trash {trash_lag:.2f}s")
        assert max(upload_lag, trash_lag) < 2.0
        assert other.get_by_test_id("photo-card").count() == 0
    finally:
        ada.close()
        eve.close()
