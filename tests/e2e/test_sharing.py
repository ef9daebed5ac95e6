"""Albums and share links in Chromium: the owner organises and shares, a visitor without any
cookie opens, browses, downloads, types a password, meets expiry and revocation."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import Session, select

from imgstream.config import Settings
from imgstream.models import ShareLink, User, utcnow
from imgstream.runtime import create_engine
from imgstream.services import shares
from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e

EMAIL = "sam@example.com"


def screenshot_dir(tmp_path) -> Path:
    return Path(os.environ.get("IMGSTREAM_SCREENSHOT_DIR", tmp_path))


def upload(page, tmp_path, name: str, data: bytes) -> None:
    photo = tmp_path / name
    photo.write_bytes(data)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    expect(page.get_by_test_id("upload-item").filter(has_text=name)).to_contain_text(
        "added", timeout=60_000)


def card(page, name: str):
    return page.locator(f"[data-testid=photo-card][title='{name}']")


def pick(page, name: str) -> None:
    photo_id = card(page, name).get_attribute("data-photo-id")
    page.locator(f"[data-testid=photo-select][data-photo-id='{photo_id}']").click()


def create_link(page, *, password: str = "", shots: Path | None = None) -> str:
    dialog = page.get_by_test_id("share-dialog")
    expect(dialog).to_be_visible()
    if password:
        page.get_by_test_id("share-password-field").fill(password)
    if shots is not None:
        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(shots / f"share-dialog-{width}.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("share-submit").click()
    url = page.get_by_test_id("share-link-url")
    expect(url).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{32,}$"), timeout=30_000)
    link = url.input_value()
    page.get_by_test_id("share-done").click()
    expect(dialog).to_have_count(0)
    return link


def visitor(browser, app, width: int = 1280):
    context = browser.new_context(base_url=app.url, accept_downloads=True,
                                  viewport={"width": width, "height": 900})
    assert context.cookies() == []
    return context


def expired_link(app) -> str:
    """A link made through the service eight days ago with a seven-day expiry."""
    engine = create_engine(f"sqlite:///{app.data_dir / 'imgstream.db'}")
    secret = Settings(data_dir=app.data_dir).signing_key()
    past = utcnow() - timedelta(days=8)
    with Session(engine, expire_on_commit=False) as session:
        owner = session.exec(select(User).where(User.email == EMAIL)).one()
        album_id = session.exec(
            select(ShareLink.album_id).where(ShareLink.owner_id == owner.id,
                                                    ShareLink.album_id.is_not(None))
        ).first()
        new = shares.create_share(session=session, secret=secret, owner_id=owner.id,
                                  album_id=album_id, now=past,
                                  expires_at=past + timedelta(days=7))
    engine.dispose()
    return f"{app.url}/s/{new.token}"


def test_album_share_seen_by_a_visitor_without_an_account(page, browser, app, tmp_path):
    shots = screenshot_dir(tmp_path)
    open_library(page, EMAIL)
    upload(page, tmp_path, "harbour.jpg", images.jpeg(
        size=(1200, 800), color=(30, 90, 200), make="Canon", model="EOS R5",
        date_original="2024:07:01 09:00:00", gps=(43.7, 7.26)))
    upload(page, tmp_path, "cliffs.jpg", images.jpeg(
        size=(900, 1200), color=(200, 120, 40), date_original="2024:07:02 18:30:00"))
    upload(page, tmp_path, "kitchen.jpg", images.jpeg(size=(640, 480), color=(90, 90, 90)))

    # The timeline loads the months near the viewport by itself: the oldest photo is there.
    expect(card(page, "harbour.jpg")).to_have_count(1, timeout=30_000)

    # Select two photos and add them to a new album.
    pick(page, "harbour.jpg")
    pick(page, "cliffs.jpg")
    expect(page.get_by_test_id("selection-count")).to_have_text("2 photos selected")
    page.get_by_test_id("album-add").click()
    page.get_by_test_id("album-new-name").fill("Riviera")
    page.get_by_test_id("album-new-submit").click()
    expect(page.get_by_text("Added 2 photos to Riviera.")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("selection-bar")).to_have_count(0)

    page.get_by_test_id("albums-link").click()
    album = page.locator("[data-testid=album-card][data-album-name='Riviera']")
    expect(album).to_contain_text("2 photos", timeout=30_000)
    expect(album).to_contain_text("Jul 2024")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"albums-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    album.click()
    expect(page.get_by_test_id("album-title")).to_have_text("Riviera", timeout=30_000)
    expect(page.get_by_test_id("photo-card")).to_have_count(2)

    # The viewer opens over the album, and previous and next walk the album only: kitchen.jpg,
    # the newest photo of the library, is not before cliffs.jpg here.
    card(page, "cliffs.jpg").click()
    detail = page.get_by_test_id("photo-detail")
    expect(detail).to_contain_text("cliffs.jpg", timeout=30_000)
    expect(page).to_have_url(re.compile(r"/albums/[0-9a-f-]{36}\?photo=[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("viewer-prev")).to_be_disabled()
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"album-viewer-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("viewer-next").click()
    expect(detail).to_contain_text("harbour.jpg", timeout=30_000)
    expect(page.get_by_test_id("viewer-next")).to_be_disabled()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("viewer")).to_have_count(0, timeout=30_000)
    expect(page).to_have_url(re.compile(r"/albums/[0-9a-f-]{36}$"))

    # Share the album: one open link, one with a password.
    page.get_by_test_id("share-create").first.click()
    open_link = create_link(page)
    pick(page, "cliffs.jpg")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"album-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("selection-clear").click()
    page.get_by_test_id("share-create").first.click()
    locked_link = create_link(page, password="sesame", shots=shots)

    # The visitor: a fresh browser context without any cookie.
    context = visitor(browser, app)
    guest = context.new_page()
    response = guest.goto(open_link)
    assert response.status == 200
    expect(guest.get_by_test_id("share-title")).to_have_text("Riviera")
    expect(guest.get_by_test_id("share-card")).to_have_count(2)
    assert "kitchen.jpg" not in guest.content()
    guest.get_by_test_id("share-card").first.click()
    expect(guest.get_by_test_id("share-position")).to_have_text("1 of 2")
    expect(guest.get_by_test_id("share-details")).not_to_contain_text("Location")
    guest.get_by_test_id("share-next").click()
    expect(guest.get_by_test_id("share-position")).to_have_text("2 of 2")
    guest.keyboard.press("ArrowLeft")
    expect(guest.get_by_test_id("share-position")).to_have_text("1 of 2")
    image = guest.get_by_test_id("share-image")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    with guest.expect_download() as download_info:
        guest.get_by_test_id("share-download").click()
    one = Path(download_info.value.path()).read_bytes()
    assert Image.open(io.BytesIO(one)).getexif().get_ifd(0x8825) == {}, "no GPS in the file"
    guest.get_by_test_id("share-back").click()
    with guest.expect_download() as download_info:
        guest.get_by_test_id("share-download-all").click()
    assert download_info.value.suggested_filename == "Riviera.zip"
    with zipfile.ZipFile(download_info.value.path()) as archive:
        assert sorted(archive.namelist()) == ["cliffs.jpg", "harbour.jpg"]
        harbour = Image.open(io.BytesIO(archive.read("harbour.jpg")))
        assert harbour.getexif().get_ifd(0x8825) == {}
        assert harbour.getexif()[0x010F] == "Canon"
    # Nothing of the app opens from here: no socket state, no pages, no media of the owner.
    assert guest.goto(f"{app.url}/albums").status in (200, 401)
    expect(guest.get_by_test_id("current-user")).to_have_count(0)
    guest.goto(open_link)
    for width in (1440, 390):
        guest.set_viewport_size({"width": width, "height": 900})
        guest.screenshot(path=str(shots / f"visitor-grid-{width}.png"), full_page=True)
    guest.get_by_test_id("share-card").first.click()
    for width in (1440, 390):
        guest.set_viewport_size({"width": width, "height": 900})
        guest.screenshot(path=str(shots / f"visitor-viewer-{width}.png"), full_page=True)

    # Wrong then right password, in another fresh context.
    locked = visitor(browser, app).new_page()
    assert locked.goto(locked_link).status == 401
    locked.get_by_test_id("share-password").fill("open sesame")
    locked.get_by_test_id("share-password-submit").click()
    expect(locked.get_by_test_id("share-password-error")).to_be_visible()
    expect(locked.get_by_test_id("share-card")).to_have_count(0)
    locked.get_by_test_id("share-password").fill("sesame")
    locked.get_by_test_id("share-password-submit").click()
    expect(locked.get_by_test_id("share-card")).to_have_count(2)
    [cookie] = locked.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/s/" + locked_link.rsplit("/", 1)[1]
    assert guest.goto(locked_link).status == 401, "the cookie opens that link only"

    # Expired links answer 410 with a page that says so.
    gone = guest.goto(expired_link(app))
    assert gone.status == 410
    expect(guest.get_by_test_id("share-expired")).to_contain_text("expired")

    # The owner's list of links, then revoke the open one.
    page.goto("/settings")
    rows = page.get_by_test_id("share-row")
    expect(rows).to_have_count(3, timeout=30_000)
    open_row = rows.filter(has_text="active").filter(has_not_text="password")
    expect(open_row).to_have_count(1)
    expect(open_row).to_contain_text("Album Riviera (2 photos)")
    expect(open_row.get_by_test_id("share-row-views")).to_contain_text("3 views · last viewed")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"settings-sharing-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    open_row.get_by_test_id("share-revoke").click()
    expect(page.get_by_test_id("share-row-status").filter(has_text="revoked")).to_have_count(
        1, timeout=30_000)
    revoked = guest.goto(open_link)
    assert revoked.status == 404
    expect(guest.get_by_test_id("share-not-found")).to_be_visible()
    context.close()
    locked.context.close()
    log = (app.data_dir / "app.log").read_text()
    for link in (open_link, locked_link):
        assert link.rsplit("/", 1)[1] not in log, "share tokens never reach the logs"


def test_album_made_renamed_filled_emptied_and_deleted(page, tmp_path):
    open_library(page, "alba@example.com")
    upload(page, tmp_path, "fern.jpg", images.jpeg(size=(640, 480), color=(40, 160, 60),
                                                   date_original="2023:04:05 10:00:00"))
    upload(page, tmp_path, "moss.jpg", images.jpeg(size=(640, 480), color=(60, 120, 40),
                                                   date_original="2023:04:06 10:00:00"))

    # A selection shared on its own shows that photo only.
    pick(page, "moss.jpg")
    page.get_by_test_id("share-create").click()
    expect(page.get_by_test_id("share-dialog")).to_contain_text("Share 1 photo")
    selection_link = create_link(page)
    shared = page.request.get(selection_link)
    assert shared.status == 200
    assert "moss.jpg" in shared.text() and "fern.jpg" not in shared.text()

    page.get_by_test_id("albums-link").click()
    expect(page.get_by_test_id("albums-empty")).to_be_visible(timeout=30_000)
    page.get_by_test_id("album-create").click()
    page.get_by_test_id("album-name").fill("Forest")
    page.get_by_test_id("album-create-submit").click()
    expect(page.get_by_test_id("album-title")).to_have_text("Forest", timeout=30_000)
    expect(page.get_by_test_id("album-empty")).to_be_visible()

    page.get_by_test_id("album-rename").click()
    page.get_by_test_id("album-edit-name").fill("Green forest")
    page.get_by_test_id("album-edit-description").fill("Walks in April")
    page.get_by_test_id("album-edit-save").click()
    expect(page.get_by_test_id("album-title")).to_have_text("Green forest", timeout=30_000)
    expect(page.get_by_test_id("album-description")).to_have_text("Walks in April")

    # From a photo's own page.
    page.goto("/")
    card(page, "fern.jpg").click()
    expect(page.get_by_test_id("photo-detail")).to_contain_text("fern.jpg", timeout=30_000)
    page.get_by_test_id("album-add").click()
    page.locator("[data-testid=album-picker-choice][data-album-name='Green forest']").click()
    expect(page.get_by_text("Added 1 photo to Green forest.")).to_be_visible(timeout=30_000)
    # And from a selection, where the photo already in the album is said so.
    page.goto("/")
    expect(card(page, "moss.jpg")).to_have_count(1, timeout=60_000)
    pick(page, "moss.jpg")
    pick(page, "fern.jpg")
    page.get_by_test_id("album-add").click()
    page.locator("[data-testid=album-picker-choice][data-album-name='Green forest']").click()
    expect(page.get_by_text("Added 1 photo to Green forest (1 already there).")).to_be_visible(
        timeout=30_000)

    page.get_by_test_id("albums-link").click()
    album = page.locator("[data-testid=album-card][data-album-name='Green forest']")
    expect(album).to_contain_text("2 photos · Apr 2023", timeout=30_000)
    album.click()
    expect(page.get_by_test_id("photo-card")).to_have_count(2, timeout=30_000)

    # A change made in another tab shows on this album page (opened from the list of albums),
    # which stays on this album: the refresh reads the album of the page shown.
    other = page.context.new_page()
    other.goto(page.url)
    other.get_by_test_id("album-rename").click()
    other.get_by_test_id("album-edit-name").fill("Forest walks")
    other.get_by_test_id("album-edit-save").click()
    expect(other.get_by_test_id("album-title")).to_have_text("Forest walks", timeout=30_000)
    other.close()
    expect(page.get_by_test_id("album-title")).to_have_text("Forest walks", timeout=30_000)
    expect(page.get_by_test_id("photo-card")).to_have_count(2)
    pick(page, "moss.jpg")
    page.get_by_test_id("album-remove").click()
    expect(page.get_by_test_id("photo-card")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("album-facts")).to_contain_text("1 photo")

    page.get_by_test_id("album-delete").click()
    expect(page.get_by_test_id("album-delete-confirm")).to_be_visible()
    page.get_by_test_id("album-delete-confirm").click()
    expect(page.get_by_test_id("albums-empty")).to_be_visible(timeout=30_000)
    page.goto("/")
    expect(card(page, "fern.jpg")).to_have_count(1, timeout=60_000)
    expect(card(page, "moss.jpg")).to_have_count(1)
