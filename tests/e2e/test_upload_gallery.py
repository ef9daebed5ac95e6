"""Upload → thumbnail → gallery → detail → download, in Chromium against the running app."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from playwright.sync_api import expect

from imgstream.presentation import format_bytes
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
    # The drop zone states what it takes and the limit the server enforces (3 MB in this run).
    expect(page.get_by_test_id("upload-zone").get_by_test_id("upload-limits")).to_have_text(
        f"JPEG, PNG, WebP, GIF, HEIC or AVIF, up to {format_bytes(MAX_UPLOAD_BYTES)} each")
    expect(page.get_by_text("up to 3 MB each")).to_be_visible()

    page.get_by_test_id("upload-input").set_input_files([str(f) for f in files])

    rows = page.get_by_test_id("upload-item")
    expect(rows).to_have_count(4, timeout=60_000)
    for name in PHOTOS:
        expect(rows.filter(has_text=name)).to_contain_text("added", timeout=60_000)
    expect(rows.filter(has_text="notes.jpg")).to_contain_text(
        "rejected: not a supported image", timeout=60_000
    )

    # Three months, newest first, each near the viewport: all three load by themselves.
    cards = page.get_by_test_id("photo-card")
    expect(cards).to_have_count(3, timeout=30_000)
    assert [cards.nth(i).get_attribute("title") for i in range(3)] == [
        "summit.jpg", "harbour.jpg", "winter.jpg"
    ]
    months = page.get_by_test_id("timeline-month")
    assert [months.nth(i).get_attribute("data-month") for i in range(3)] == [
        "2023-07", "2021-05", "2019-01"]
    expect(page.get_by_test_id("timeline-count")).to_have_text("3 photos")
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

    page.get_by_test_id("viewer-close").click()
    expect(page.get_by_test_id("viewer")).to_have_count(0)
    # Closing takes the viewer's history entry back; a reload issued before that lands would be
    # cancelled by it.
    expect(page).to_have_url(re.compile(r"/$"))
    page.reload()
    open_library(page)
    expect(cards).to_have_count(3, timeout=30_000)


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
    invisible.write_bytes(images.noisy_jpeg(date_original="2012:01:01 00:00:00"))
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
    new_blobs = [p.relative_to(library).parts[0] for p in blobs_after if p not in blobs_before]
    # keeper.jpg (its own preview) and smile.jpg (with a preview): nothing of the others.
    assert sorted(new_blobs) == ["photos", "photos", "previews", "thumbnails", "thumbnails"]
    assert list((app.data_dir / "incoming").iterdir()) == []


def test_move_a_photo_to_the_trash(page, tmp_path):
    photo = tmp_path / "unwanted.jpg"
    photo.write_bytes(images.jpeg(size=(300, 200), color=(250, 250, 0)))
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    expect(page.get_by_test_id("upload-item").filter(has_text="unwanted.jpg")).to_contain_text(
        "added", timeout=60_000)
    page.locator("[data-testid=photo-card][title='unwanted.jpg']").click()
    page.get_by_test_id("move-to-trash").click()
    expect(page.get_by_test_id("upload-input")).to_be_attached(timeout=30_000)
    expect(page.locator("[data-testid=photo-card][title='unwanted.jpg']")).to_have_count(0)
    expect(page.get_by_text("Moved unwanted.jpg to the trash.")).to_be_visible()


PIXEL_AT = """(img, [x, y]) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
}"""


def assert_upright_in_browser(img) -> None:
    """The green marker is top-left and the red body bottom-right, as the browser draws it."""
    width = img.evaluate("img => img.naturalWidth")
    height = img.evaluate("img => img.naturalHeight")
    r, g, b = img.evaluate(PIXEL_AT, [width // 8, height // 8])
    assert g > 180 and r < 90, ("marker", (r, g, b))
    r, g, b = img.evaluate(PIXEL_AT, [width * 7 // 8, height * 7 // 8])
    assert r > 140 and g < 100, ("body", (r, g, b))


def test_heic_upload_shows_thumbnail_preview_and_camera_details(page, tmp_path):
    from PIL import Image

    # Stored rotated with EXIF orientation 6, as phones do: it must display upright.
    stored = images.marked((2400, 1600)).transpose(Image.Transpose.ROTATE_90)
    heic = tmp_path / "IMG_2025.HEIC"
    heic.write_bytes(images.heic(stored, exif=images.exif_bytes(
        orientation=6, date_original="2025:03:14 15:09:26", offset_original="+09:00",
        make="Apple", model="iPhone 15 Pro", lens="iPhone 15 Pro back camera 6.86mm f/1.78",
        f_number=1.78, exposure=Fraction(1, 120), focal_length=6.86, iso=80,
        gps=(35.658581, 139.745433),
    )))
    held: list = []
    releasing = []

    def hold_thumbnails(route) -> None:
        if releasing:
            route.continue_()
        else:
            held.append(route)

    page.route("**/media/thumbnails/**", hold_thumbnails)

    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(heic))
    row = page.get_by_test_id("upload-item").filter(has_text="IMG_2025.HEIC")
    expect(row).to_contain_text("added", timeout=60_000)

    # Newest date taken first: the 2025 photo leads the grid. Its thumbnail is held back, so
    # the thumbhash placeholder is what shows.
    card = page.get_by_test_id("photo-card").first
    expect(card).to_have_attribute("title", "IMG_2025.HEIC")
    frame = card.get_by_test_id("photo-thumb-frame")
    expect(frame).to_have_css("background-image", re.compile(r'^url\("data:image/png;base64,'))
    thumb = card.locator("img")
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0") is False
    page.wait_for_timeout(200)
    assert held, "the thumbnail was requested"
    releasing.append(True)
    for route in held:
        route.continue_()
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [400, 267]
    assert_upright_in_browser(thumb)

    card.click()
    detail = page.get_by_test_id("photo-detail")
    expect(detail).to_be_visible(timeout=30_000)
    preview = page.get_by_test_id("photo-preview")
    expect(preview).to_have_attribute("src", re.compile(r"/media/previews/.+_preview\.jpg\?"))
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1440, 960]
    assert_upright_in_browser(preview)
    expect(page.get_by_test_id("fact-camera")).to_have_text("Apple iPhone 15 Pro")
    expect(page.get_by_test_id("fact-taken")).to_have_text("14 March 2025, 15:09 (UTC+09:00)")
    expect(page.get_by_test_id("fact-dimensions")).to_have_text("2400 × 1600")
    expect(page.get_by_test_id("fact-format")).to_have_text("HEIC")
    expect(page.get_by_test_id("fact-lens")).to_have_text("iPhone 15 Pro back camera 6.86mm f/1.78")
    expect(page.get_by_test_id("fact-exposure")).to_have_text("ƒ/1.78 · 1/120 s · 6.86 mm · ISO 80")
    expect(page.get_by_test_id("fact-location")).to_have_text("35.65858° N, 139.74543° E")


def test_the_same_photo_twice_links_to_the_one_in_the_library(page, tmp_path):
    first = tmp_path / "original-name.jpg"
    first.write_bytes(images.jpeg(size=(360, 240), color=(12, 34, 56),
                                  date_original="2001:02:03 04:05:06"))
    again = tmp_path / "copy-of-it.jpg"
    again.write_bytes(first.read_bytes())
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(first))
    rows = page.get_by_test_id("upload-item")
    expect(rows.filter(has_text="original-name.jpg")).to_contain_text("added", timeout=60_000)
    page.get_by_test_id("upload-input").set_input_files(str(again))
    duplicate = rows.filter(has_text="copy-of-it.jpg")
    expect(duplicate).to_contain_text("already in your library as original-name.jpg",
                                      timeout=60_000)
    expect(duplicate).to_have_attribute("data-status", "duplicate")
    expect(page.locator("[data-testid=photo-card][title='copy-of-it.jpg']")).to_have_count(0)
    duplicate.get_by_test_id("open-duplicate").click()
    expect(page.get_by_test_id("photo-detail")).to_contain_text("original-name.jpg",
                                                                timeout=30_000)
