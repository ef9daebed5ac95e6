"""A batch with taken names, a duplicate and a bad file: decide, see the summary and the library."""

from __future__ import annotations

import os
import sqlite3
import time

from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library
from tests.e2e.test_trash import move_to_trash

TIMEOUT = 60_000


def library_names(app) -> list[str]:
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        return sorted(name for (name,) in db.execute(
            "SELECT filename FROM photo WHERE deleted_at IS NULL"))


def upload(page, *paths) -> None:
    page.get_by_test_id("upload-input").set_input_files([str(p) for p in paths])


def test_a_batch_with_collisions_duplicate_and_bad_file(page, app, tmp_path):
    older = tmp_path / "older"
    older.mkdir()
    for name, color in (("beach.jpg", (10, 120, 200)), ("dog.jpg", (160, 110, 40)),
                        ("cat.jpg", (90, 90, 90))):
        (older / name).write_bytes(images.jpeg(size=(400, 300), color=color))
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "Beach.JPEG").write_bytes(images.jpeg(size=(300, 400), color=(250, 200, 10)))
    (batch / "dog.jpg").write_bytes(images.jpeg(size=(640, 480), color=(20, 200, 20)))
    (batch / "cat copy.jpg").write_bytes((older / "cat.jpg").read_bytes())
    (batch / "notes.jpg").write_bytes(b"shopping list: milk, eggs\n")
    (batch / "sunset.jpg").write_bytes(images.jpeg(size=(500, 300), color=(240, 90, 30)))

    open_library(page)
    upload(page, *sorted(older.iterdir()))
    summary = page.get_by_test_id("upload-summary")
    expect(summary.locator("[data-status=added]")).to_contain_text("Added (3)", timeout=TIMEOUT)
    page.get_by_role("button", name="Clear finished").click()

    upload(page, *sorted(batch.iterdir()))
    dialog = page.get_by_test_id("collision-dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    expect(dialog).to_contain_text("2 files have names already taken")
    # Nothing is sent while a collision is undecided.
    expect(page.get_by_test_id("upload-item").filter(has_text="sunset.jpg")).to_have_attribute(
        "data-status", "waiting")
    expect(dialog).to_contain_text("beach.jpg")
    expect(dialog).to_contain_text("Beach.JPEG")
    expect(dialog.get_by_role("img", name="beach.jpg")).to_be_visible()
    dialog.get_by_test_id("collision-keep-both").click()
    expect(dialog).to_contain_text("dog.jpg")
    expect(dialog.get_by_test_id("collision-apply-all")).to_have_count(0)
    dialog.get_by_test_id("collision-replace").click()
    expect(dialog).to_be_hidden()

    groups = summary.get_by_test_id("summary-group")
    expect(summary).to_be_visible(timeout=TIMEOUT)
    expect(groups.and_(page.locator("[data-status=added]"))).to_contain_text("Added (1)")
    expect(groups.and_(page.locator("[data-status=added]"))).to_contain_text("sunset.jpg")
    expect(groups.and_(page.locator("[data-status=replaced]"))).to_contain_text("dog.jpg")
    expect(groups.and_(page.locator("[data-status=kept_both]"))).to_contain_text(
        "Beach.JPEG → Beach (1).JPEG")
    expect(groups.and_(page.locator("[data-status=duplicate]"))).to_contain_text(
        "already in your library as cat.jpg")
    expect(groups.and_(page.locator("[data-status=rejected]"))).to_contain_text(
        "notes.jpg: not a supported image")

    assert library_names(app) == ["Beach (1).JPEG", "beach.jpg", "cat.jpg", "dog.jpg",
                                  "sunset.jpg"]
    # The replaced photo is the new image under its old name.
    page.goto("/")
    expect(page.get_by_test_id("photo-card")).to_have_count(5, timeout=TIMEOUT)
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        (photo_id, width, height, revision), = db.execute(
            "SELECT id, width, height, revision FROM photo WHERE filename = 'dog.jpg'")
    assert (width, height, revision) == (640, 480, 1)
    page.goto(f"/photo/{photo_id}")
    expect(page.get_by_test_id("photo-detail")).to_contain_text("640 × 480", timeout=TIMEOUT)

    page.goto("/settings")
    expect(page.get_by_test_id("settings-collision-stats")).to_contain_text(
        "2 detected: 1 replaced, 1 kept both, 0 skipped", timeout=TIMEOUT)


def test_apply_to_all_and_the_default_choice(page, app, tmp_path):
    names = ["p1.jpg", "p2.jpg", "p3.jpg"]
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for i, name in enumerate(names):
        (first / name).write_bytes(images.jpeg(size=(200, 150), color=(30 * i, 10, 10)))
        (second / name).write_bytes(images.jpeg(size=(200, 150), color=(30 * i, 200, 10)))
    open_library(page, "grace@example.com")
    upload(page, *sorted(first.iterdir()))
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Added (3)", timeout=TIMEOUT)

    upload(page, *sorted(second.iterdir()))
    dialog = page.get_by_test_id("collision-dialog")
    expect(dialog).to_contain_text("3 files have names already taken", timeout=TIMEOUT)
    dialog.get_by_test_id("collision-apply-all").click()
    dialog.get_by_test_id("collision-skip").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Skipped (3)", timeout=TIMEOUT)

    page.goto("/settings")
    page.get_by_test_id("settings-collision-choice").click()
    page.get_by_role("option", name="Keep both").click()
    page.goto("/")
    expect(page.get_by_test_id("upload-input")).to_be_attached(timeout=TIMEOUT)
    page.wait_for_selector("[data-testid=current-user]:has-text('@')", timeout=TIMEOUT)
    upload(page, *sorted(second.iterdir()))
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Kept both (3)",
                                                                  timeout=TIMEOUT)
    expect(page.get_by_test_id("collision-dialog")).to_have_count(0)


def test_two_tabs_uploading_one_name_at_once_ask_the_later_one(browser, app, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "same.jpg").write_bytes(images.jpeg(size=(300, 200), color=(200, 0, 0)))
    (second / "same.jpg").write_bytes(images.jpeg(size=(300, 200), color=(0, 0, 200)))
    tabs = []
    for _ in range(2):
        context = browser.new_context(base_url=app.url)
        tabs.append(context.new_page())
        open_library(tabs[-1], "tabs@example.com")
    tab_a, tab_b = tabs
    held = []
    tab_b.route("**/complete", lambda route: held.append(route))
    upload(tab_b, second / "same.jpg")
    for _ in range(600):
        if held:
            break
        tab_b.wait_for_timeout(100)
    assert held, "tab B never finished sending its file"

    # Tab A's file goes all the way while tab B's waits to be completed.
    upload(tab_a, first / "same.jpg")
    expect(tab_a.get_by_test_id("upload-item")).to_have_attribute("data-status", "added",
                                                                  timeout=TIMEOUT)
    held[0].continue_()
    tab_b.unroute("**/complete")
    dialog = tab_b.get_by_test_id("collision-dialog")
    expect(dialog).to_contain_text("same.jpg", timeout=TIMEOUT)
    dialog.get_by_test_id("collision-keep-both").click()
    expect(tab_b.get_by_test_id("upload-summary")).to_contain_text("Kept both (1)",
                                                                   timeout=TIMEOUT)
    expect(tab_b.get_by_test_id("upload-summary")).to_contain_text("same (1).jpg")
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        names = sorted(name for (name,) in db.execute(
            "SELECT p.filename FROM photo p JOIN user u ON u.id = p.owner_id "
            "WHERE u.email = 'tabs@example.com'"))
    assert names == ["same (1).jpg", "same.jpg"]
    for tab in tabs:
        tab.context.close()


def test_the_server_times_the_decision_without_a_number_from_the_page(page, app, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "harbour.jpg").write_bytes(images.jpeg(size=(240, 160), color=(10, 90, 160)))
    (second / "harbour.jpg").write_bytes(images.jpeg(size=(240, 160), color=(160, 90, 10)))
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data or "")
            if "/api/v1/uploads" in r.url and "/chunks" not in r.url else None)
    open_library(page, "timer@example.com")
    upload(page, first / "harbour.jpg")
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Added (1)", timeout=TIMEOUT)

    upload(page, second / "harbour.jpg")
    dialog = page.get_by_test_id("collision-dialog")
    expect(dialog).to_contain_text("harbour.jpg", timeout=TIMEOUT)
    page.wait_for_timeout(2200)
    dialog.get_by_test_id("collision-keep-both").click()
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Kept both (1)",
                                                                  timeout=TIMEOUT)
    # The page began no upload and sent no choice or time: only bytes and completions.
    assert bodies and all(body in ("", "{}") for body in bodies), bodies
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        (seconds,), = db.execute(
            "SELECT e.decision_seconds FROM collisionevent e JOIN user u ON u.id = e.owner_id"
            " WHERE u.email = 'timer@example.com' AND e.outcome = 'kept_both'")
        (choice, on_row), = db.execute(
            "SELECT p.collision_choice, p.decision_seconds FROM upload p"
            " JOIN user u ON u.id = p.owner_id"
            " WHERE u.email = 'timer@example.com' AND p.status = 'kept_both'")
    assert 2.2 <= seconds < 30 and on_row == seconds and choice == "keep_both"
    page.goto("/settings")
    expect(page.get_by_test_id("settings-collision-stats")).to_contain_text(
        f"Median time to decide: {seconds:.1f} s", timeout=TIMEOUT)


def test_a_duplicate_of_a_photo_in_the_trash_offers_to_restore_it(page, tmp_path):
    photo = tmp_path / "lake.jpg"
    photo.write_bytes(images.jpeg(size=(320, 240), color=(30, 60, 90)))
    again = tmp_path / "lake again.jpg"
    again.write_bytes(photo.read_bytes())
    open_library(page, "trashy@example.com")
    upload(page, photo)
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Added (1)", timeout=TIMEOUT)
    page.get_by_role("button", name="Clear finished").click()
    move_to_trash(page, "lake.jpg")

    upload(page, again)
    row = page.get_by_test_id("upload-item").filter(has_text="lake again.jpg")
    expect(row).to_contain_text("already in your trash as lake.jpg", timeout=TIMEOUT)
    row.get_by_test_id("restore-duplicate").click()
    expect(row).to_contain_text("restored lake.jpg from your trash", timeout=TIMEOUT)
    expect(row.get_by_test_id("restore-duplicate")).to_have_count(0)
    expect(page.locator("[data-testid=photo-card][title='lake.jpg']")).to_have_count(
        1, timeout=TIMEOUT)

def test_the_admin_page_finds_and_repairs_what_reconcile_finds(page, app):
    owner, photo = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-8999-000000000000"
    stray = app.data_dir / "library" / "photos" / owner / f"{photo}.jpg"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(images.jpeg())
    an_hour_ago = time.time() - 3600
    os.utime(stray, (an_hour_ago, an_hour_ago))

    open_library(page)
    page.goto("/admin")
    report = page.get_by_test_id("reconcile-report")
    expect(report).to_contain_text(f"object no photo refers to (found): photos/{owner}/{photo}.jpg",
                                   timeout=TIMEOUT)
    page.get_by_test_id("reconcile-fix").click()
    expect(report).to_contain_text("Repaired:", timeout=TIMEOUT)
    expect(report).to_contain_text("(removed)")
    assert not stray.exists()
    page.get_by_test_id("reconcile-check").click()
    expect(report).to_contain_text("Database and storage agree", timeout=TIMEOUT)
