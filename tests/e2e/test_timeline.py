"""The timeline and the viewer in Chromium: months and days, lazy months, the scrubber, and the
viewer's buttons, keys and Escape back to the same place."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlmodel import Session

from bench.timeline import seed_photos, shared_thumbnails
from imgstream.config import Settings
from imgstream.runtime import create_engine
from imgstream.services import identity
from imgstream.services.storage import LocalStorage
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e

EMAIL = "timeline@example.com"
PHOTOS = 400


@pytest.fixture(scope="module")
def seeded_library(app):
    """400 photos over four years, bulk-inserted into the running app's database."""
    settings = Settings(data_dir=app.data_dir)
    engine = create_engine(settings.resolved_database_url)
    with Session(engine) as session:
        owner = identity.provision_user(session=session, email=EMAIL).id
    store = LocalStorage(settings.photos_dir, secret=settings.signing_key(),
                         url_ttl_seconds=settings.media_url_ttl_seconds)
    seed_photos(engine, owner, PHOTOS, years=4, thumbnails=shared_thumbnails(store, owner))
    with engine.connect() as conn:
        months = [row[0] for row in conn.execute(sa.text(
            "SELECT DISTINCT taken_month FROM photo ORDER BY taken_month DESC"))]
    engine.dispose()
    return months


def section(page, month: str):
    return page.locator(f"[data-testid=timeline-month][data-month='{month}']")


def loaded_cards(page, month: str):
    return page.locator(f"[data-testid=timeline-month][data-month='{month}'] "
                        "[data-testid=photo-card]")


def test_months_days_lazy_loading_and_the_scrubber(page, seeded_library):
    months = seeded_library
    asked: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: asked.append(str(frame))))
    open_library(page, EMAIL)
    expect(page.get_by_test_id("timeline-count")).to_have_text(f"{PHOTOS} photos",
                                                               timeout=30_000)
    sections = page.get_by_test_id("timeline-month")
    expect(sections).to_have_count(len(months))
    assert [sections.nth(i).get_attribute("data-month") for i in range(len(months))] == months

    # The newest month loads by itself, its days newest first and all in that month.
    expect(loaded_cards(page, months[0]).first).to_be_visible(timeout=30_000)
    days = section(page, months[0]).get_by_test_id("timeline-day")
    day_keys = [days.nth(i).get_attribute("data-day") for i in range(days.count())]
    assert day_keys and all(day.startswith(months[0]) for day in day_keys)
    assert day_keys == sorted(day_keys, reverse=True)
    expect(loaded_cards(page, months[0]).first.locator("img")).to_have_js_property(
        "complete", True)
    # The top of the timeline came with the months: nothing asked for its first photos.
    # (Nor did the page read the library again once open.)
    assert not [frame[-300:] for frame in asked if f"{months[0]}/0/" in frame]

    # Far months are placeholders sized from their counts: the page is already as tall as the
    # whole timeline, and none of their photos is in the page.
    oldest = months[-1]
    expect(section(page, oldest).get_by_test_id("timeline-placeholder")).to_have_count(1)
    expect(loaded_cards(page, oldest)).to_have_count(0)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 20 * 900, height

    # Scrolling near a month loads it.
    section(page, months[len(months) // 2]).scroll_into_view_if_needed()
    expect(loaded_cards(page, months[len(months) // 2]).first).to_be_visible(timeout=30_000)

    # The scrubber jumps to any month; it loads there.
    page.evaluate("window.scrollTo(0, 0)")
    scrubber = page.get_by_test_id("timeline-scrubber")
    expect(scrubber.get_by_test_id("timeline-scrubber-year")).to_have_count(
        len({m[:4] for m in months}))
    scrubber.locator(f"[data-testid=timeline-scrubber-month][data-month='{oldest}']").click()
    expect(loaded_cards(page, oldest).first).to_be_visible(timeout=30_000)
    top = section(page, oldest).evaluate(
        "el => el.getBoundingClientRect().top")
    assert -900 < top < 900, top


def test_viewer_buttons_keys_and_escape_back_to_the_same_place(page, seeded_library):
    months = seeded_library
    open_library(page, EMAIL)
    middle = months[len(months) // 2]
    page.get_by_test_id("timeline-scrubber").locator(
        f"[data-testid=timeline-scrubber-month][data-month='{middle}']").click()
    cards = loaded_cards(page, middle)
    expect(cards.first).to_be_visible(timeout=30_000)
    # The jump keeps the month at the top while the months around it load (3 s at most).
    page.wait_for_timeout(3500)
    assert page.evaluate("window.scrollY") > 1000

    second = cards.nth(1)
    second.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    placed = second.bounding_box()["y"]
    second_id = second.get_attribute("data-photo-id")
    first_id = cards.first.get_attribute("data-photo-id")
    third_id = cards.nth(2).get_attribute("data-photo-id")
    second.click()
    viewer = page.get_by_test_id("viewer")
    expect(page.get_by_test_id("photo-detail")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(f"/photo/{second_id}$"))
    expect(page.get_by_test_id("photo-preview")).to_have_js_property("complete", True)

    # → and the next button go to older photos, ← and the previous button to newer ones.
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(f"/photo/{third_id}$"), timeout=30_000)
    page.get_by_test_id("viewer-prev").click()
    expect(page).to_have_url(re.compile(f"/photo/{second_id}$"), timeout=30_000)
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(f"/photo/{first_id}$"), timeout=30_000)
    page.get_by_test_id("viewer-next").click()
    expect(page).to_have_url(re.compile(f"/photo/{second_id}$"), timeout=30_000)

    # The info panel, with the location as an OpenStreetMap link when the photo has one.
    panel = page.get_by_test_id("viewer-info-panel")
    expect(panel).to_be_hidden()
    page.get_by_test_id("viewer-info").click()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Dimensions")
    page.get_by_test_id("viewer-info").click()
    expect(panel).to_be_hidden()

    # Zoom: a click shows the photo at full resolution, again back to fit; the wheel zooms.
    image = page.get_by_test_id("photo-preview")
    image.click()
    expect(image).to_have_attribute("style", re.compile(r"scale\("))
    image.click()
    expect(image).not_to_have_attribute("style", re.compile(r"scale\("))
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    expect(image).to_have_attribute("style", re.compile(r"scale\("))

    # Escape closes the viewer: the timeline is where it was, at its own address.
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0, timeout=30_000)
    expect(page).to_have_url(re.compile(r"/$"))
    assert abs(cards.nth(1).bounding_box()["y"] - placed) < 5

    # So do the close button and the browser's Back.
    cards.nth(1).click()
    expect(page.get_by_test_id("photo-detail")).to_be_visible(timeout=30_000)
    page.get_by_test_id("viewer-close").click()
    expect(viewer).to_have_count(0, timeout=30_000)
    assert abs(cards.nth(1).bounding_box()["y"] - placed) < 5
    cards.nth(1).click()
    expect(page.get_by_test_id("photo-detail")).to_be_visible(timeout=30_000)
    page.go_back()
    expect(viewer).to_have_count(0, timeout=30_000)
    expect(page).to_have_url(re.compile(r"/$"))
    assert abs(cards.nth(1).bounding_box()["y"] - placed) < 5


def test_a_photo_address_opens_the_viewer_with_a_map_link(page, seeded_library):
    open_library(page, EMAIL)
    months = seeded_library
    expect(loaded_cards(page, months[0]).first).to_be_visible(timeout=30_000)
    # Seeded photos with a location: every seventh.
    ids = page.evaluate("""() => [...document.querySelectorAll('[data-testid=photo-card]')]
        .map(a => a.getAttribute('data-photo-id'))""")
    for photo_id in ids:
        page.goto(f"/photo/{photo_id}")
        expect(page.get_by_test_id("photo-detail")).to_be_visible(timeout=60_000)
        if page.get_by_test_id("fact-location").count():
            break
    location = page.get_by_test_id("fact-location")
    expect(location).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=48.85837&mlon=2.29448#map=15/48.85837/2.29448")
    page.get_by_test_id("viewer-close").click()
    expect(page.get_by_test_id("viewer")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("timeline-month").first).to_be_visible()


def test_screenshots_at_1440_and_390(page, seeded_library, tmp_path_factory):
    # Kept where IMGSTREAM_SCREENSHOT_DIR says, to be looked at; else in a temporary folder.
    chosen = os.environ.get("IMGSTREAM_SCREENSHOT_DIR")
    shots = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    months = seeded_library
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        open_library(page, EMAIL)
        expect(loaded_cards(page, months[0]).first.locator("img")).to_have_js_property(
            "complete", True, timeout=30_000)
        page.screenshot(path=str(shots / f"timeline-{width}.png"))
        # The timeline and its scrubber stay inside the window.
        right = page.get_by_test_id("timeline").evaluate(
            "el => Math.max(el.getBoundingClientRect().right, ...[...el.querySelectorAll("
            "'[data-testid=timeline-scrubber], [data-testid=photo-card]')]"
            ".map(e => e.getBoundingClientRect().right))")
        assert right <= width, right
        loaded_cards(page, months[0]).first.click()
        preview = page.get_by_test_id("photo-preview")
        expect(preview).to_have_js_property("complete", True, timeout=30_000)
        if width == 390:
            drawn = preview.evaluate("img => img.getBoundingClientRect().width")
            assert drawn >= 385, drawn
        page.screenshot(path=str(shots / f"viewer-{width}.png"))
        page.get_by_test_id("viewer-info").click()
        page.screenshot(path=str(shots / f"viewer-info-{width}.png"))
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("viewer")).to_have_count(0, timeout=30_000)
    print(f"screenshots in {shots}")
