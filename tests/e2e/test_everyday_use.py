"""Selection with ZIP download, tabs that follow each other, and every page on a phone."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
import uuid
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e
TIMEOUT = 60_000
LIVE_SECONDS = 2.0
SHOTS = Path(os.environ.get("IMGSTREAM_SCREENSHOTS", "/tmp/imgstream-screenshots"))


@pytest.fixture(scope="module")
def imgstream_app_env() -> dict[str, str]:
    return {"IMGSTREAM_DEFAULT_PAGE_SIZE": "60"}


def person() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


def photos(tmp_path: Path, count: int, prefix: str = "p", *, one_day: bool = False
           ) -> list[Path]:
    folder = tmp_path / prefix
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}-{i}.jpg"
        path.write_bytes(images.jpeg(size=(320, 240), color=(20 + 3 * i, 90, 200 - 2 * i),
                                     date_original=f"2020:01:{1 if one_day else 1 + i % 28:02d} "
                                                   f"12:{i % 60:02d}:00"))
        paths.append(path)
    return paths


def upload(page, paths: list[Path]) -> None:
    page.get_by_test_id("upload-input").set_input_files([str(p) for p in paths])


def wait_added(page, count: int) -> None:
    try:
        expect(page.get_by_test_id("photo-card")).to_have_count(count, timeout=TIMEOUT)
    except AssertionError:
        rows = page.get_by_test_id("upload-item").all_inner_texts()
        raise AssertionError(f"{page.get_by_test_id('photo-card').count()} cards, not {count}; "
                             f"upload rows: {rows}") from None


def new_page(browser, app, *, width=1280, height=900, context=None):
    context = context or browser.new_context(base_url=app.url, accept_downloads=True,
                                             viewport={"width": width, "height": height})
    return context, context.new_page()


def test_selection_range_escape_zip_and_trash_with_undo(browser, app, tmp_path):
    context, page = new_page(browser, app)
    try:
        email = person()
        open_library(page, email)
        files = photos(tmp_path, 5)
        upload(page, files)
        wait_added(page, 5)
        checks = page.get_by_test_id("photo-select")
        checks.nth(0).click()
        checks.nth(3).click(modifiers=["Shift"])
        bar = page.get_by_test_id("selection-bar")
        expect(bar.get_by_test_id("selection-count")).to_have_text("4 photos selected")
        page.keyboard.press("Escape")
        expect(bar).to_have_count(0)

        checks.nth(1).click()
        checks.nth(2).click()
        expect(bar.get_by_test_id("selection-count")).to_have_text("2 photos selected")
        names = sorted(page.get_by_test_id("photo-card").nth(i).get_attribute("title")
                       for i in (1, 2))
        start = time.monotonic()
        with page.expect_download() as download_info:
            bar.get_by_test_id("selection-download").click()
        download = download_info.value
        started = time.monotonic() - start
        assert download.suggested_filename.endswith("(2 photos).zip")
        with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as zipped:
            assert sorted(zipped.namelist()) == names
            by_name = {p.name: p for p in files}
            for name in names:
                assert zipped.read(name) == by_name[name].read_bytes()
                assert zipped.getinfo(name).compress_type == zipfile.ZIP_STORED
        assert started < 5, f"the download took {started:.1f}s to start"

        bar.get_by_test_id("selection-trash").click()
        wait_added(page, 3)
        undo = page.get_by_test_id("selection-undo-bar")
        expect(undo).to_contain_text("2 photos moved to the trash")
        undo.get_by_test_id("selection-undo").click()
        wait_added(page, 5)
        expect(undo).to_have_count(0)

        # Favourite two, then move their dates a day later.
        checks.nth(0).click()
        checks.nth(1).click()
        chosen = [page.get_by_test_id("photo-card").nth(i).get_attribute("data-photo-id")
                  for i in (0, 1)]
        before = taken(app, chosen)
        bar.get_by_test_id("selection-favorite").click()
        until(lambda: favourites(app, email) == set(chosen))
        bar.get_by_test_id("selection-shift").click()
        page.get_by_test_id("selection-shift-days").fill("1")
        page.get_by_test_id("selection-shift-apply").click()
        until(lambda: all(taken(app, chosen)[i] - before[i] == timedelta(days=1)
                          for i in chosen))
        bar.get_by_test_id("selection-unfavorite").click()
        until(lambda: favourites(app, email) == set())
    finally:
        context.close()


def until(check, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change never reached the database"
        time.sleep(0.2)


def _db(app):
    return sqlite3.connect(app.data_dir / "imgstream.db")


def favourites(app, email: str) -> set[str]:
    with _db(app) as db:
        rows = db.execute('SELECT p.id FROM photo p JOIN "user" u ON u.id = p.owner_id '
                          "WHERE u.email = ? AND p.favorite", (email,)).fetchall()
    return {str(uuid.UUID(row[0])) for row in rows}


def taken(app, photo_ids: list[str]) -> dict[str, datetime]:
    with _db(app) as db:
        rows = db.execute("SELECT id, taken_at FROM photo").fetchall()
    found = {str(uuid.UUID(i)): datetime.fromisoformat(t) for i, t in rows}
    return {i: found[i] for i in photo_ids}


def test_changes_show_in_the_persons_other_tabs_and_nowhere_else(browser, app, tmp_path):
    ada = browser.new_context(base_url=app.url, viewport={"width": 1280, "height": 900})
    eve = browser.new_context(base_url=app.url, viewport={"width": 1280, "height": 900})
    try:
        first, second = ada.new_page(), ada.new_page()
        ada_email = person()
        open_library(first, ada_email)
        open_library(second, ada_email)
        other = eve.new_page()
        open_library(other, person())
        expect(other.get_by_test_id("empty-library")).to_be_visible(timeout=TIMEOUT)
        # Let every tab's watcher start.
        time.sleep(1.5)

        upload(first, photos(tmp_path, 2, "live"))
        wait_added(first, 2)
        shown = time.monotonic()
        expect(second.get_by_test_id("photo-card")).to_have_count(2, timeout=10_000)
        upload_lag = time.monotonic() - shown

        # The tab that uploaded follows what the other one does next.
        second.get_by_test_id("photo-select").nth(0).click()
        second.get_by_test_id("selection-trash").click()
        wait_added(second, 1)
        shown = time.monotonic()
        expect(first.get_by_test_id("photo-card")).to_have_count(1, timeout=10_000)
        trash_lag = time.monotonic() - shown

        second.get_by_test_id("selection-undo").click()
        wait_added(second, 2)
        shown = time.monotonic()
        expect(first.get_by_test_id("photo-card")).to_have_count(2, timeout=10_000)
        restore_lag = time.monotonic() - shown

        print(f"live lag: upload {upload_lag:.2f}s, trash {trash_lag:.2f}s, "
              f"restore {restore_lag:.2f}s")
        assert max(upload_lag, trash_lag, restore_lag) < LIVE_SECONDS
        # The other person's tab never showed any of it.
        expect(other.get_by_test_id("empty-library")).to_be_visible()
        assert other.get_by_test_id("photo-card").count() == 0
    finally:
        ada.close()
        eve.close()


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def test_every_page_at_phone_and_desktop_width(browser, app, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, app, width=390, height=844)
    try:
        open_library(page, person())
        upload(page, photos(tmp_path, 8, "phone", one_day=True))
        wait_added(page, 8)
        photo_id = page.get_by_test_id("photo-card").first.get_attribute("data-photo-id")
        pages = {"library": "/", "albums": "/albums", "trash": "/trash",
                 "settings": "/settings", "admin": "/admin", "photo": f"/photo/{photo_id}",
                 "not-found": "/no/such/page"}
        for width in (390, 1440):
            page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
            for name, path in pages.items():
                page.goto(path)
                page.wait_for_selector("[data-testid=current-user]:has-text('@')",
                                       timeout=TIMEOUT)
                page.wait_for_timeout(800)
                no_horizontal_scroll(page)
                page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        # The photo fills the phone's width.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"/photo/{photo_id}")
        image = page.get_by_test_id("photo-preview")
        expect(image).to_be_visible(timeout=TIMEOUT)
        assert image.bounding_box()["width"] >= 340
    finally:
        context.close()


def test_the_library_has_3_to_4_columns_on_a_phone(browser, app, tmp_path):
    context, page = new_page(browser, app, width=390, height=844)
    try:
        open_library(page, person())
        upload(page, photos(tmp_path, 8, "columns", one_day=True))
        wait_added(page, 8)
        tops = page.eval_on_selector_all(
            "[data-testid=photo-card]", "cards => cards.map(c => c.getBoundingClientRect().top)")
        columns = sum(1 for top in tops if abs(top - tops[0]) < 2)
        assert 3 <= columns <= 4, f"{columns} columns at 390 px"
    finally:
        context.close()


def test_collision_dialog_fits_a_phone(browser, app, tmp_path):
    context, page = new_page(browser, app, width=390, height=844)
    try:
        open_library(page, person())
        first = tmp_path / "a" / "same.jpg"
        first.parent.mkdir()
        first.write_bytes(images.jpeg(size=(300, 200), color=(200, 0, 0)))
        upload(page, [first])
        wait_added(page, 1)
        again = tmp_path / "b" / "same.jpg"
        again.parent.mkdir()
        again.write_bytes(images.jpeg(size=(300, 200), color=(0, 200, 0)))
        upload(page, [again])
        dialog = page.get_by_test_id("collision-dialog")
        expect(dialog).to_be_visible(timeout=TIMEOUT)
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "collision-390.png"))
        for testid in ("collision-keep-both", "collision-replace", "collision-skip"):
            box = dialog.get_by_test_id(testid).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (testid, box)
            assert box["y"] + box["height"] <= 844, (testid, box)
        dialog.get_by_test_id("collision-skip").click()
        item = page.get_by_test_id("upload-item").filter(has_text="same.jpg").last
        expect(item).to_contain_text("a photo named same.jpg exists", timeout=TIMEOUT)
    finally:
        context.close()


def test_not_found_back_links_sign_out_and_home_screen(browser, app):
    context, page = new_page(browser, app)
    try:
        open_library(page, person())
        page.goto("/no/such/page")
        expect(page.get_by_test_id("not-found")).to_be_visible(timeout=TIMEOUT)
        page.get_by_test_id("not-found-home").click()
        expect(page).to_have_url(app.url + "/")
        for path in ("/settings", "/admin"):
            page.goto(path)
            page.get_by_test_id("back-link").click()
            expect(page).to_have_url(app.url + "/")
        manifest = page.request.get("/manifest.webmanifest")
        assert manifest.ok
        data = json.loads(manifest.body())
        assert data["display"] in ("fullscreen", "standalone")
        for icon in data["icons"]:
            assert page.request.get(icon["src"]).ok
        assert page.request.get("/favicon.ico").ok
        assert page.locator("link[rel=manifest]").count() == 1
        page.locator("button:has([data-testid=current-user])").click()
        page.get_by_test_id("sign-out").click()
        page.wait_for_url("**/signin**", timeout=TIMEOUT)
        expect(page.get_by_test_id("dev-signin-email")).to_be_visible(timeout=TIMEOUT)
        assert "Not Found" not in page.content()
    finally:
        context.close()


def test_uploads_show_from_any_page_ask_before_leaving_and_drop_anywhere(browser, app, tmp_path):
    context, page = new_page(browser, app)
    held = []
    try:
        open_library(page, person())

        def hold(route):
            if len(held) < 1:
                held.append(route)
            else:
                route.continue_()

        page.route("**/chunks**", hold)
        upload(page, photos(tmp_path, 1, "held"))
        page.wait_for_function("() => true")
        deadline = time.monotonic() + 30
        while not held and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert held, "the upload never sent its bytes"
        # The header shows the upload on another page reached inside the app.
        page.get_by_test_id("albums-link").click()
        page.wait_for_url("**/albums")
        expect(page.get_by_test_id("upload-indicator")).to_be_visible(timeout=TIMEOUT)
        asks = page.evaluate("""() => {
            const e = new Event('beforeunload', {cancelable: true});
            window.dispatchEvent(e);
            return e.defaultPrevented;
        }""")
        assert asks, "leaving mid-upload should ask first"
        for route in held:
            route.continue_()
        page.unroute("**/chunks**")
        expect(page.get_by_test_id("upload-indicator")).to_have_count(0, timeout=TIMEOUT)
        assert not page.evaluate("""() => {
            const e = new Event('beforeunload', {cancelable: true});
            window.dispatchEvent(e);
            return e.defaultPrevented;
        }""")

        # A file dropped on the library page outside the drop zone is uploaded.
        page.goto("/")
        wait_added(page, 1)
        data = images.jpeg(size=(200, 150), color=(1, 200, 90))
        page.evaluate("""([bytes]) => {
            const file = new File([new Uint8Array(bytes)], 'dropped.jpg', {type: 'image/jpeg'});
            const transfer = new DataTransfer();
            transfer.items.add(file);
            const target = document.querySelector('[data-testid=photo-grid]');
            for (const type of ['dragenter', 'dragover', 'drop']) {
                target.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                          cancelable: true}));
            }
        }""", [list(data)])
        wait_added(page, 2)
    finally:
        context.close()


# The goal is no task over 100 ms. On a quiet two-core machine the longest is 70-150 ms today,
# and what is over 100 ms is the browser taking the picked files in (the page's own scripts in
# it take under 50 ms): this holds the line against regressions.
MAX_TASK_MS = 300
LONG_TASKS = """() => {
  window.imgstreamLongTasks = [];
  window.imgstreamLongFrames = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.imgstreamLongTasks.push({start: entry.startTime, duration: entry.duration});
    }
  }).observe({type: 'longtask', buffered: false});
  if ((PerformanceObserver.supportedEntryTypes || []).includes('long-animation-frame')) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.imgstreamLongFrames.push({
          start: entry.startTime, duration: entry.duration, blocking: entry.blockingDuration,
          render: entry.renderStart ? entry.startTime + entry.duration - entry.renderStart : 0,
          scripts: (entry.scripts || []).map(s => ({
            duration: s.duration, invoker: s.invoker, source: s.sourceURL,
            fn: s.sourceFunctionName, layout: s.forcedStyleAndLayoutDuration}))});
      }
    }).observe({type: 'long-animation-frame', buffered: false});
  }
}"""


def overloaded(load_before: float) -> bool:
    """Whether the machine ran more than twice as many processes as cores, before or after."""
    return min(load_before, os.getloadavg()[0]) > 2 * (os.cpu_count() or 1)


def test_the_page_stays_responsive_during_a_60_file_upload(browser, app, tmp_path):
    context, page = new_page(browser, app)
    try:
        open_library(page, person())
        files = photos(tmp_path, 60, "busy")
        page.wait_for_timeout(1000)
        page.evaluate(LONG_TASKS)
        load_before = os.getloadavg()[0]
        start = time.monotonic()
        upload(page, files)
        wait_added(page, 60)
        elapsed = time.monotonic() - start
        page.wait_for_timeout(500)
        tasks = page.evaluate("() => window.imgstreamLongTasks")
        frames = page.evaluate("() => window.imgstreamLongFrames")
        durations = sorted(t["duration"] for t in tasks)
        busy = sum(durations)
        longest = durations[-1] if durations else 0
        over = [round(d) for d in durations if d > MAX_TASK_MS]
        print(f"60-file upload: {elapsed:.1f}s, {len(tasks)} long tasks, "
              f"busy {busy / 1000:.1f}s, longest {longest:.0f}ms, "
              f"median {durations[len(durations) // 2] if durations else 0:.0f}ms, "
              f"over {MAX_TASK_MS}ms: {len(over)}")
        (SHOTS.parent / "imgstream-longtasks.json").write_text(json.dumps(
            {"elapsed_s": elapsed, "count": len(tasks), "busy_ms": busy, "longest_ms": longest,
             "tasks": tasks, "frames": frames}))
        # The goal is no task over 100 ms; the margin is for a noisy two-core machine.
        # On one running more than twice as many processes as it has cores (other tests), every
        # task stretches with the load: the figures then measure the neighbours, and only the
        # guard against gross regressions holds.
        if overloaded(load_before):
            print(f"the machine was overloaded (load {load_before:.1f} → "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
                  f"tasks over {MAX_TASK_MS}ms not held against the page")
            assert busy < 0.6 * elapsed * 1000, f"busy {busy / 1000:.1f}s of {elapsed:.1f}s"
            assert longest < 1500, f"a long task of {longest:.0f}ms"
        else:
            assert not over, f"long tasks over {MAX_TASK_MS}ms: {over}"
    finally:
        context.close()
