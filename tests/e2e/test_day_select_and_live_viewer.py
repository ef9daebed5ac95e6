"""A day's header check selects the day; a viewer follows edits made in another tab."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e
TIMEOUT = 60_000
LIVE_SECONDS = 2.0
SHOTS = Path(os.environ.get("IMGSTREAM_SCREENSHOTS", "/tmp/imgstream-screenshots"))
# Newest first, as the timeline shows them: one photo on the 3rd, two on the 2nd, three on the 1st.
DAYS = {"2020-01-03": 1, "2020-01-02": 2, "2020-01-01": 3}


def person() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


def day_photos(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for day, count in DAYS.items():
        for i in range(count):
            path = folder / f"{day}-{i}.jpg"
            stamp = day.replace("-", ":") + f" {10 + i}:00:00"
            path.write_bytes(images.jpeg(size=(320, 240), color=(40 * i, 90, 200),
                                         date_original=stamp))
            paths.append(path)
    return paths


def new_page(browser, app, *, width=1280, height=900, context=None):
    context = context or browser.new_context(base_url=app.url,
                                             viewport={"width": width, "height": height})
    return context, context.new_page()


def day_check(page, day: str):
    return page.locator(f'[data-testid="day-select"][data-day="{day}"]')


def photo_checks(page, day: str):
    return page.locator(f'[data-testid="timeline-day"][data-day="{day}"] '
                        '[data-testid="photo-select"]')


def test_a_days_check_selects_and_unselects_its_photos(browser, app, tmp_path):
    context, page = new_page(browser, app, width=1440)
    try:
        open_library(page, person())
        page.get_by_test_id("upload-input").set_input_files(
            [str(p) for p in day_photos(tmp_path / "days")])
        expect(page.get_by_test_id("photo-card")).to_have_count(6, timeout=TIMEOUT)
        bar = page.get_by_test_id("selection-bar")
        count = bar.get_by_test_id("selection-count")

        second = day_check(page, "2020-01-02")
        expect(second).to_have_attribute("aria-label", "Select 2 January 2020")
        expect(second).to_have_attribute("aria-checked", "false")
        # From the keyboard: it is in the tab order and Space presses it.
        assert second.evaluate("(el) => el.tabIndex") >= 0
        second.focus()
        page.keyboard.press("Space")
        expect(count).to_have_text("2 photos selected")
        expect(second).to_have_attribute("aria-checked", "true")
        for check in photo_checks(page, "2020-01-02").all():
            expect(check).to_have_attribute("aria-checked", "true")
        expect(day_check(page, "2020-01-03")).to_have_attribute("aria-checked", "false")

        # A day partly selected shows mixed; its check then selects the rest of it.
        first = day_check(page, "2020-01-01")
        photo_checks(page, "2020-01-01").nth(0).click()
        expect(count).to_have_text("3 photos selected")
        expect(first).to_have_attribute("aria-checked", "mixed")
        page.screenshot(path=SHOTS / "day-select-1440.png", full_page=True)
        first.click()
        expect(count).to_have_text("5 photos selected")
        expect(first).to_have_attribute("aria-checked", "true")
        # Pressed again with all of the day selected: the day is unselected, the rest stays.
        first.click()
        expect(count).to_have_text("2 photos selected")
        expect(first).to_have_attribute("aria-checked", "false")
        expect(second).to_have_attribute("aria-checked", "true")

        # Escape clears everything, the day checks too.
        page.keyboard.press("Escape")
        expect(bar).to_have_count(0)
        expect(second).to_have_attribute("aria-checked", "false")

        # A shift-click after a day's check selects from that day's last photo onwards.
        second.click()
        expect(count).to_have_text("2 photos selected")
        photo_checks(page, "2020-01-01").nth(2).click(modifiers=["Shift"])
        expect(count).to_have_text("5 photos selected")
        expect(first).to_have_attribute("aria-checked", "true")
        expect(day_check(page, "2020-01-03")).to_have_attribute("aria-checked", "false")
        page.screenshot(path=SHOTS / "selection-1440.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        expect(first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=SHOTS / "selection-390.png", full_page=True)
        page.keyboard.press("Escape")
        day_check(page, "2020-01-03").click()
        expect(count).to_have_text("1 photo selected")
        page.screenshot(path=SHOTS / "day-select-390.png")
    finally:
        context.close()


def lag(started: float) -> float:
    return time.monotonic() - started


def test_an_open_viewer_shows_edits_made_in_another_tab(browser, app, tmp_path):
    context, mine = new_page(browser, app)
    try:
        email = person()
        open_library(mine, email)
        mine.get_by_test_id("upload-input").set_input_files(
            [str(p) for p in day_photos(tmp_path / "live")][:1])
        expect(mine.get_by_test_id("photo-card")).to_have_count(1, timeout=TIMEOUT)
        photo_id = mine.get_by_test_id("photo-card").get_attribute("data-photo-id")
        # This tab opens the viewer over its timeline; the other one opens the photo's address.
        mine.get_by_test_id("photo-card").click()
        expect(mine.get_by_test_id("viewer")).to_be_visible()
        mine.get_by_test_id("viewer-info").click()
        expect(mine.get_by_test_id("photo-description-input")).to_be_visible()
        other = context.new_page()
        other.goto(f"/photo/{photo_id}")
        their_title = other.get_by_test_id("photo-title-input")
        expect(their_title).to_be_editable(timeout=TIMEOUT)
        expect(other.get_by_test_id("fact-dimensions")).to_have_text("320 × 240")
        mine.evaluate("() => { window.imgstreamNotReloaded = true; }")
        # Let both tabs' watchers start.
        time.sleep(1.5)
        lags = {}

        # The person is typing a description here while the title changes in the other tab.
        description = mine.get_by_test_id("photo-description-input")
        description.click()
        description.press_sequentially("Typed here")
        their_title.fill("Harbour at dusk")
        their_title.blur()
        expect(other.get_by_text("Title saved.")).to_be_visible()
        started = time.monotonic()
        expect(mine.get_by_test_id("photo-title-input")).to_have_value("Harbour at dusk",
                                                                        timeout=10_000)
        lags["title"] = lag(started)
        their_description = other.get_by_test_id("photo-description-input")
        their_description.fill("Written there")
        their_description.blur()
        expect(other.get_by_text("Description saved.")).to_be_visible()
        time.sleep(LIVE_SECONDS + 0.5)
        expect(description).to_have_value("Typed here")
        expect(description).to_be_focused()
        # Once this tab's field is left (and saved), later edits from elsewhere show again.
        description.blur()
        expect(mine.get_by_text("Description saved.")).to_be_visible()
        their_description.fill("Written there again")
        their_description.blur()
        started = time.monotonic()
        expect(description).to_have_value("Written there again", timeout=10_000)
        lags["description"] = lag(started)

        other.get_by_test_id("photo-details").get_by_test_id("photo-favorite").click()
        started = time.monotonic()
        expect(mine.get_by_test_id("photo-details").get_by_test_id("photo-favorite")
               ).to_have_attribute("data-favorite", "true", timeout=10_000)
        lags["favourite"] = lag(started)

        other.get_by_test_id("photo-rotate").click()
        expect(other.get_by_test_id("fact-dimensions")).to_have_text("240 × 320", timeout=30_000)
        started = time.monotonic()
        expect(mine.get_by_test_id("fact-dimensions")).to_have_text("240 × 320", timeout=10_000)
        lags["rotate"] = lag(started)
        tall = ('() => { const i = document.querySelector(\'[data-testid="photo-preview"]\');'
                ' return !!i && i.complete && i.naturalHeight > i.naturalWidth; }')
        mine.wait_for_function(tall, timeout=10_000)

        other.get_by_test_id("photo-date-input").fill("2001-05-06T07:08")
        other.get_by_test_id("photo-date-save").click()
        expect(other.get_by_test_id("fact-taken")).to_contain_text("6 May 2001, 07:08")
        started = time.monotonic()
        expect(mine.get_by_test_id("fact-taken")).to_contain_text("6 May 2001, 07:08",
                                                                  timeout=10_000)
        lags["date"] = lag(started)
        expect(mine.get_by_test_id("photo-date-input")).to_have_value("2001-05-06T07:08")
        # Nothing was reloaded: the viewer is still open over this tab's timeline.
        expect(mine.get_by_test_id("viewer")).to_be_visible()
        assert mine.evaluate("() => window.imgstreamNotReloaded === true")
        expect(mine.get_by_test_id("photo-title-input")).to_have_value("Harbour at dusk")

        print("viewer lag: " + ", ".join(f"{k} {v:.2f}s" for k, v in lags.items()))
        assert max(lags.values()) < LIVE_SECONDS, lags
    finally:
        context.close()
