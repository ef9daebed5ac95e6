"""Search with filters, favourites and /favorites, editing title and date, rotating: in Chromium."""

from __future__ import annotations

import hashlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import expect

from tests import images

SCREENS = Path(tempfile.gettempdir()) / "imgstream-screens"
SCREENS.mkdir(exist_ok=True)
EMAIL = "search-e2e@example.com"


def library(seeded_photos):
    # The seeding client runs its own event loop: beside Playwright's it needs a thread.
    with ThreadPoolExecutor(1) as pool:
        outcomes = pool.submit(seeded_photos, EMAIL, files=FILES).result()
    return {r["path"].rsplit("/", 1)[-1]: r["photo_id"] for r in outcomes}


FILES = {
    "harbour.jpg": images.jpeg(size=(900, 600), color=(20, 60, 160),
                               date_original="2023:07:14 09:30:00", make="Canon",
                               model="EOS R5"),
    "forest.jpg": images.jpeg(size=(900, 600), color=(20, 140, 40),
                              date_original="2024:02:03 12:00:00", make="FUJIFILM",
                              model="X100V"),
    "tower.png": images.png(size=(600, 900), mode="RGB"),
}


def original_sha(page, app) -> str:
    href = page.get_by_test_id("download-original").get_attribute("href")
    answer = page.request.get(href if href.startswith("http") else app.url + href)
    assert answer.ok
    return hashlib.sha256(answer.body()).hexdigest()


def search_for(page, words: str) -> None:
    box = page.get_by_test_id("search-input")
    box.fill(words)
    box.press("Enter")
    page.wait_for_url("**/search**")


def test_search_with_filters_and_why_nothing_was_found(signed_in_page, seeded_photos):
    ids = library(seeded_photos)
    assert len(ids) == 3
    page = signed_in_page(EMAIL, width=1440)
    search_for(page, "canon")
    results = page.get_by_test_id("search-results")
    expect(results.get_by_test_id("photo-card")).to_have_count(1)
    expect(page.locator('[data-testid="search-day"][data-day="2023-07-14"]')).to_be_visible()
    expect(page.locator('[data-testid="search-month"][data-month="2023-07"]')).to_be_visible()
    page.screenshot(path=SCREENS / "search-1440.png", full_page=True)

    search_for(page, "")
    expect(page.get_by_test_id("photo-card")).to_have_count(3)
    page.get_by_test_id("search-filter-from").fill("2024-01-01")
    expect(page.get_by_test_id("photo-card")).to_have_count(2)
    page.get_by_test_id("search-filter-format").click()
    page.get_by_role("option", name="JPEG").click()
    expect(page.get_by_test_id("photo-card")).to_have_count(1)
    expect(page.locator(f'[data-photo-id="{ids["forest.jpg"]}"]').first).to_be_visible()
    page.get_by_test_id("search-filter-to").fill("2024-01-31")
    expect(page.get_by_test_id("search-empty")).to_contain_text(
        "No photos between 1 January 2024 and 31 January 2024 in JPEG.")

    search_for(page, "zebra")
    expect(page.get_by_test_id("search-empty")).to_contain_text("No photos match 'zebra'")

    narrow = signed_in_page(EMAIL, width=390, height=844)
    search_for(narrow, "x100v")
    expect(narrow.get_by_test_id("photo-card")).to_have_count(1)
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
    narrow.screenshot(path=SCREENS / "search-390.png", full_page=True)


def test_favourite_edit_and_rotate(signed_in_page, seeded_photos, app):
    ids = library(seeded_photos)
    page = signed_in_page(EMAIL, width=1440)
    card = page.locator(f'[data-testid="photo-card"][data-photo-id="{ids["forest.jpg"]}"]')
    heart = page.locator(f'[data-testid="photo-favorite"][data-photo-id="{ids["forest.jpg"]}"]')
    card.hover()
    heart.click()
    expect(heart).to_have_attribute("data-favorite", "true")
    page.goto(app.url + "/favorites")
    expect(page.get_by_test_id("photo-card")).to_have_count(1)
    page.screenshot(path=SCREENS / "favorites-1440.png", full_page=True)

    page.goto(app.url + f"/photo/{ids['tower.png']}")
    fav = page.get_by_test_id("photo-details").get_by_test_id("photo-favorite")
    expect(fav).to_have_attribute("data-favorite", "false")
    fav.click()
    expect(fav).to_have_attribute("data-favorite", "true")
    title = page.get_by_test_id("photo-title-input")
    title.fill("Old water tower")
    page.get_by_test_id("photo-description-input").click()
    page.get_by_test_id("photo-description-input").fill("Seen from the bridge")
    title.click()
    page.get_by_test_id("photo-date-input").fill("2001-05-06T07:08")
    page.get_by_test_id("photo-timezone-select").click()
    page.get_by_role("option", name="UTC+02:00").click()
    page.get_by_test_id("photo-date-save").click()
    expect(page.get_by_test_id("fact-taken")).to_contain_text("6 May 2001, 07:08 (UTC+02:00)")

    before = original_sha(page, app)
    # The preview image itself (the frame around it is the viewer's stage).
    wide = ('() => { const i = document.querySelector(\'[data-testid="photo-preview"]\');'
            ' return !!i && i.complete && i.naturalWidth > i.naturalHeight; }')
    tall = wide.replace("naturalWidth > i.naturalHeight", "naturalHeight > i.naturalWidth")
    page.wait_for_function(tall)
    assert not page.evaluate(wide), "the tower stands upright before it is turned"
    page.get_by_test_id("photo-rotate").click()
    page.wait_for_function(wide)
    page.screenshot(path=SCREENS / "photo-edit-1440.png", full_page=True)
    assert original_sha(page, app) == before, "the original downloads byte-identical"

    page.reload()
    expect(page.get_by_test_id("photo-title-input")).to_have_value("Old water tower")
    expect(page.get_by_test_id("photo-description-input")).to_have_value(
        "Seen from the bridge")
    search_for(page, "water tower")
    expect(page.get_by_test_id("photo-card")).to_have_count(1)
    expect(page.locator('[data-testid="search-day"][data-day="2001-05-06"]')).to_be_visible()

    narrow = signed_in_page(EMAIL, width=390, height=844)
    narrow.goto(app.url + f"/photo/{ids['tower.png']}")
    expect(narrow.get_by_test_id("photo-title-input")).to_have_value("Old water tower")
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
    narrow.screenshot(path=SCREENS / "photo-edit-390.png", full_page=True)
