"""Two people in two browser contexts: neither can reach the other's photos."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e


def status_of(page, url: str) -> int:
    return page.request.get(url).status


def test_another_user_sees_nothing_of_mine(browser, app, tmp_path):
    alice = browser.new_context(base_url=app.url, accept_downloads=True)
    bob = browser.new_context(base_url=app.url)
    try:
        a = alice.new_page()
        open_library(a, "alice@example.com")
        photo = tmp_path / "private.jpg"
        photo.write_bytes(images.jpeg(size=(300, 200), color=(7, 77, 177),
                                      date_original="2010:10:10 10:10:10"))
        a.get_by_test_id("upload-input").set_input_files(str(photo))
        expect(a.get_by_test_id("upload-item").filter(has_text="private.jpg")).to_contain_text(
            "added", timeout=60_000)
        card = a.get_by_test_id("photo-card").filter(has=a.locator("[title='private.jpg']"))
        card = a.locator("[data-testid=photo-card][title='private.jpg']")
        photo_id = card.get_attribute("data-photo-id")
        thumb_url = card.locator("img").get_attribute("src")
        card.click()
        download_url = a.get_by_test_id("download-original").get_attribute("href")
        assert status_of(a, thumb_url) == 200
        assert status_of(a, download_url) == 200

        b = bob.new_page()
        open_library(b, "bob@example.com")
        expect(b.get_by_test_id("current-user")).to_have_text("bob@example.com")
        expect(b.locator("[data-testid=photo-card][title='private.jpg']")).to_have_count(0)
        assert status_of(b, thumb_url) == 404
        assert status_of(b, download_url) == 404
        tampered = download_url.replace("sig=", "sig=f")
        assert status_of(a, tampered) == 403
        b.goto(f"/photo/{photo_id}")
        expect(b.get_by_text("not in your library")).to_be_visible(timeout=30_000)
        expect(b.get_by_test_id("photo-detail")).to_have_count(0)

        # Without any sign-in, nothing either.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(thumb_url, timeout=10)
        assert refused.value.code == 404
    finally:
        alice.close()
        bob.close()
