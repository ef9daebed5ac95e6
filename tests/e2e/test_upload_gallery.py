"""Upload → thumbnail → gallery → detail → download, in Chromium against the running app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import MAX_UPLOAD_BYTES, open_library

pytestmark = pytest.mark.e2e

PHOTOS = {
    "harbour.jpg": "2021:05:01 10:30:00",
    "summit.jpg": "2023:07:14 18:05:00",
    "winter.jpg": "2019:01:02 08:00:00",
}


def test_upload_batch_browse_open_download_and_reload(page, tmp_path):
    files = []
    for i, (name, date) in enumerate(PHOTOS.items()):
        path = tmp_path / name
        path.write_bytes(images.jpeg(size=(640, 480), date_original=date,
                                     color=(60 * i, 120, 200 - 60 * i)))
        files.append(path)
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list: milk, bread")
    files.insert(1, notes)

    open_library(page)
    expect(page.get_by_test_id("empty-library")).to_be_visible()

    page.get_by_test_id("upload-input").set_input_files([str(f) for f in files])

    rows = page.get_by_test_id("upload-item")
    expect(rows).to_have_count(4, timeout=60_000)
    for name in PHOTOS:
        expect(rows.filter(has_text=name)).to_contain_text("added", timeout=60_000)
    expect(rows.filter(has_text="notes.jpg")).to_contain_text(
        "rejected: not a supported image", timeout=60_000
    )

    # Page size is 2 in this run: the third photo comes with "load more".
    cards = page.get_by_test_id("photo-card")
    expect(cards).to_have_count(2)
    page.get_by_test_id("load-more").click()
    expect(cards).to_have_count(3)
    expect(page.get_by_test_id("load-more")).to_have_count(0)
    assert [cards.nth(i).get_attribute("title") for i in range(3)] == [
        "summit.jpg", "harbour.jpg", "winter.jpg"
    ]
    for i in range(3):
        thumb = cards.nth(i).locator("img")
        expect(thumb).to_have_js_property("complete", True)
        assert thumb.evaluate("img => img.naturalWidth") == 400

    cards.nth(1).click()
    detail = page.get_by_test_id("photo-detail")
    expect(detail).to_be_visible(timeout=30_000)
    expect(detail).to_contain_text("harbour.jpg")
    expect(detail).to_contain_text("1 May 2021, 10:30")
    expect(detail).to_contain_text("640 × 480")
    expect(detail).to_contain_text(re.compile(r"\d+(\.\d)? KB"))
    with page.expect_download() as download_info:
        page.get_by_test_id("download-original").click()
    download = download_info.value
    assert download.suggested_filename == "harbour.jpg"
    assert open(download.path(), "rb").read() == (tmp_path / "harbour.jpg").read_bytes()

    page.reload()
    open_library(page)
    expect(cards).to_have_count(2)
    page.get_by_test_id("load-more").click()
    expect(cards).to_have_count(3)


def test_unknown_photo_id_shows_not_found(page):
    open_library(page)
    page.goto("/photo/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_text("not in your library")).to_be_visible(timeout=60_000)


def test_bad_files_are_refused_one_by_one_and_leave_nothing(page, app, tmp_path):
    good = tmp_path / "keeper.jpg"
    good.write_bytes(images.jpeg(size=(320, 240), date_original="2015:03:03 03:03:03",
                                 color=(1, 2, 3)))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    truncated = tmp_path / "cut.jpg"
    whole = images.jpeg(size=(640, 480), color=(9, 9, 9))
    truncated.write_bytes(whole[: len(whole) // 2])
    oversized = tmp_path / "huge.jpg"
    oversized.write_bytes(whole + b"\0" * MAX_UPLOAD_BYTES)
    # A name with an invisible character, big enough to arrive in many chunks: one file, one row.
    invisible = tmp_path / "smile\u200b.jpg"
    invisible.write_bytes(images.noisy_jpeg())
    assert invisible.stat().st_size > 1_000_000
    library = app.data_dir / "library"
    blobs_before = sorted(p for p in library.rglob("*") if p.is_file())

    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(
        [str(empty), str(truncated), str(good), str(oversized), str(invisible)]
    )

    rows = page.get_by_test_id("upload-item")
    expect(rows.filter(has_text="keeper.jpg")).to_contain_text("added", timeout=60_000)
    expect(rows.filter(has_text="empty.jpg")).to_contain_text("rejected: empty file",
                                                             timeout=60_000)
    expect(rows.filter(has_text="cut.jpg")).to_contain_text(
        "rejected: not a supported image: the file is incomplete", timeout=60_000
    )
    expect(rows.filter(has_text="huge.jpg")).to_contain_text(
        "rejected: larger than the 3 MB limit", timeout=60_000
    )

    expect(rows.filter(has_text="smile.jpg")).to_contain_text("added", timeout=60_000)
    expect(rows).to_have_count(5)

    blobs_after = sorted(p for p in library.rglob("*") if p.is_file())
    assert len(blobs_after) == len(blobs_before) + 4, "keeper.jpg, smile.jpg, two thumbnails"
    assert list((app.data_dir / "incoming").iterdir()) == []


def test_delete_a_photo(page, tmp_path):
    photo = tmp_path / "unwanted.jpg"
    photo.write_bytes(images.jpeg(size=(300, 200), color=(250, 250, 0)))
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    expect(page.get_by_test_id("upload-item").filter(has_text="unwanted.jpg")).to_contain_text(
        "added", timeout=60_000)
    card = page.locator("[data-testid=photo-card][title='unwanted.jpg']")
    thumb_url = card.locator("img").get_attribute("src")
    card.click()
    page.get_by_test_id("delete-photo").click()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_test_id("upload-input")).to_be_attached(timeout=30_000)
    expect(page.locator("[data-testid=photo-card][title='unwanted.jpg']")).to_have_count(0)
    assert page.request.get(thumb_url).status == 404
