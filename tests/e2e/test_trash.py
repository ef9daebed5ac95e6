"""The trash in Chromium: move a photo there, undo, restore, delete forever, empty the trash."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e


def upload(page, tmp_path, name: str, shade: int) -> None:
    photo = tmp_path / name
    photo.write_bytes(images.jpeg(size=(640, 480), color=(shade, 140, 255 - shade)))
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    expect(page.get_by_test_id("upload-item").filter(has_text=name)).to_contain_text(
        "added", timeout=60_000)


def library_card(page, name: str):
    return page.locator(f"[data-testid=photo-card][title='{name}']")


def trash_card(page, name: str):
    return page.locator(f"[data-testid=trash-card][data-filename='{name}']")


def move_to_trash(page, name: str) -> None:
    library_card(page, name).click()
    expect(page.get_by_test_id("photo-detail")).to_contain_text(name, timeout=30_000)
    page.get_by_test_id("move-to-trash").click()
    expect(page.get_by_test_id("upload-input")).to_be_attached(timeout=30_000)
    expect(library_card(page, name)).to_have_count(0)


def open_trash(page) -> None:
    page.get_by_test_id("current-user").click()
    page.get_by_test_id("trash-link").click()
    expect(page).to_have_url(re.compile(r"/trash$"))
    expect(page.get_by_test_id("trash-card").or_(page.get_by_test_id("trash-empty-state"))
           ).not_to_have_count(0, timeout=30_000)


def test_trash_restore_and_delete_forever(page, tmp_path):
    open_library(page, "tess@example.com")
    upload(page, tmp_path, "lighthouse.jpg", 20)
    upload(page, tmp_path, "meadow.jpg", 200)

    # Moving to the trash can be undone from the toast.
    move_to_trash(page, "lighthouse.jpg")
    toast = page.locator("[data-sonner-toast]").filter(
        has_text="Moved lighthouse.jpg to the trash.")
    toast.get_by_role("button", name="Undo").click()
    expect(library_card(page, "lighthouse.jpg")).to_have_count(1, timeout=30_000)

    move_to_trash(page, "lighthouse.jpg")
    expect(library_card(page, "meadow.jpg")).to_have_count(1)

    open_trash(page)
    card = trash_card(page, "lighthouse.jpg")
    expect(card).to_have_count(1)
    expect(page.get_by_test_id("trash-card")).to_have_count(1)
    expect(card).to_contain_text("Deleted ")
    expect(card.get_by_test_id("trash-days-left")).to_have_text("30 days left")
    expect(page.get_by_test_id("trash-summary")).to_contain_text(
        "still count toward your storage")
    thumb = card.locator("img")
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") == 400
    screenshot = Path(os.environ.get("IMGSTREAM_SCREENSHOT_DIR", tmp_path)) / "trash-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0

    # Restore puts it back in the library under its name.
    card.get_by_test_id("trash-restore").click()
    expect(page.get_by_test_id("trash-empty-state")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Library").click()
    expect(library_card(page, "lighthouse.jpg")).to_have_count(1, timeout=30_000)

    # Delete forever: confirmed, then the photo and its objects are gone.
    move_to_trash(page, "lighthouse.jpg")
    open_trash(page)
    card = trash_card(page, "lighthouse.jpg")
    thumb_url = card.locator("img").get_attribute("src")
    assert page.request.get(thumb_url).status == 200
    card.get_by_test_id("trash-delete-forever").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete lighthouse.jpg forever?")
    page.get_by_test_id("trash-confirm").click()
    expect(page.get_by_test_id("trash-empty-state")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert page.request.get(thumb_url).status == 404
    page.goto("/")
    expect(library_card(page, "meadow.jpg")).to_have_count(1, timeout=60_000)
    expect(library_card(page, "lighthouse.jpg")).to_have_count(0)


def test_empty_trash_says_what_it_frees(page, tmp_path):
    open_library(page, "emma@example.com")
    for i, name in enumerate(["one.jpg", "two.jpg"]):
        upload(page, tmp_path, name, 60 + 90 * i)
    move_to_trash(page, "one.jpg")
    move_to_trash(page, "two.jpg")
    expect(page.get_by_test_id("empty-library")).to_be_visible()

    open_trash(page)
    expect(page.get_by_test_id("trash-card")).to_have_count(2)
    # Most recently trashed first.
    expect(page.get_by_test_id("trash-card").first).to_have_attribute("data-filename", "two.jpg")
    cancel_first = page.get_by_test_id("trash-empty")
    cancel_first.click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete 2 photos forever?")
    expect(dialog).to_contain_text("frees")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("trash-card")).to_have_count(2)

    page.get_by_test_id("trash-empty").click()
    page.get_by_test_id("trash-confirm").click()
    expect(page.get_by_test_id("trash-empty-state")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("trash-empty")).to_be_disabled()
    expect(page.get_by_text("Deleted 2 photos forever")).to_be_visible()
