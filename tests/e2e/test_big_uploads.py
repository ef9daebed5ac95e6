"""Big files travel in chunks: progress, byte-identical arrival, retry, resume and cancel."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

TIMEOUT = 120_000
MB = 1_000_000


@pytest.fixture(scope="module")
def imgstream_app_env() -> dict[str, str]:
    """An app that takes files up to 100 MB (the default limit)."""
    return {"IMGSTREAM_DEFAULT_PAGE_SIZE": "4"}


def big_png(path, megabytes: int) -> bytes:
    """A real PNG of about `megabytes` MB (noise does not compress)."""
    data = images.png_of_size(megabytes * MB)
    path.write_bytes(data)
    return data


def stored_original(app, filename: str) -> bytes:
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        (photo_id, owner_id, revision), = db.execute(
            "SELECT id, owner_id, revision FROM photo WHERE filename = ?", (filename,))
    key = f"{_uuid(photo_id)}{'-' + str(revision) if revision else ''}.png"
    return (app.data_dir / "library" / "photos" / _uuid(owner_id) / key).read_bytes()


def _uuid(raw: str) -> str:
    return raw if "-" in raw else f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def leftovers(app) -> list[str]:
    """What an upload left behind: chunk objects, spool files, unfinished upload rows."""
    found = []
    for folder in (app.data_dir / "library" / "incoming", app.data_dir / "incoming"):
        if folder.exists():
            found += [str(p) for p in folder.rglob("*") if p.is_file()]
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        found += [f"unfinished upload {row}" for row in db.execute(
            "SELECT id FROM upload WHERE status IN ('uploading', 'needs_decision', 'processing')")]
    return found


def upload_rows(app, filename: str) -> list[tuple[str, int]]:
    """The server's rows of uploads of a file: their status and bytes received."""
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        return list(db.execute("SELECT status, received_bytes FROM upload WHERE filename = ?",
                               (filename,)))


def throttle(page, bytes_per_second: int | None):
    """Slow the page's uploads down (None: full speed again)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20 if bytes_per_second else 0, "downloadThroughput": -1,
        "uploadThroughput": bytes_per_second or -1,
    })
    return cdp


def reload_after_the_first_chunk(page, photo) -> None:
    """Pick a file on a slow line and reload the page once its first chunk has arrived."""
    committed: list[str] = []
    page.on("response", lambda r: committed.append(r.url.rsplit("offset=", 1)[-1])
            if "/chunks" in r.url and r.status == 200 else None)
    throttle(page, 4 * 1024 * 1024)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    for _ in range(600):
        if committed:
            break
        page.wait_for_timeout(100)
    assert committed == ["0"]
    page.reload()


def chunk_requests(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if "/chunks" in r.url else None)
    return sent


def test_a_60_mb_photo_arrives_in_chunks_byte_identical(page, app, tmp_path):
    photo = tmp_path / "panorama.png"
    data = big_png(photo, 60)
    sizes: list[int] = []
    page.on("request", lambda r: sizes.append(len(r.post_data_buffer or b""))
            if "/chunks" in r.url else None)
    open_library(page)
    # A line of 15 MB/s: the transfer lasts several of the page's progress reports.
    throttle(page, 15 * 1024 * 1024)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    row = page.get_by_test_id("upload-item").filter(has_text="panorama.png")
    expect(row).to_have_attribute("data-status", "uploading", timeout=TIMEOUT)
    expect(row).to_contain_text(" of 60", timeout=TIMEOUT)
    expect(row).to_have_attribute("data-status", "added", timeout=TIMEOUT)
    assert len(sizes) == 8 and max(sizes) <= 8 * 1024 * 1024, sizes
    assert hashlib.sha256(stored_original(app, "panorama.png")).digest() == (
        hashlib.sha256(data).digest())
    assert leftovers(app) == []


def test_a_lost_chunk_is_sent_again(page, app, tmp_path):
    photo = tmp_path / "flaky.png"
    data = big_png(photo, 20)
    failures = {"left": 2}

    def flaky(route):
        if failures["left"] > 0 and "offset=8388608" in route.request.url:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/chunks*", flaky)
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    row = page.get_by_test_id("upload-item").filter(has_text="flaky.png")
    expect(row).to_have_attribute("data-status", "added", timeout=TIMEOUT)
    assert failures["left"] == 0
    assert stored_original(app, "flaky.png") == data


def test_a_failed_upload_resumes_where_it_stopped(page, app, tmp_path):
    photo = tmp_path / "resume.png"
    data = big_png(photo, 20)
    offsets: list[str] = []
    broken = {"on": True}

    def outage(route):
        offsets.append(route.request.url.rsplit("offset=", 1)[-1])
        if broken["on"] and not route.request.url.endswith("offset=0"):
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/chunks*", outage)
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    row = page.get_by_test_id("upload-item").filter(has_text="resume.png")
    expect(row).to_have_attribute("data-status", "failed", timeout=TIMEOUT)
    expect(row).to_contain_text("upload stopped")
    assert offsets.count("0") == 1 and offsets.count("8388608") == 4, offsets
    broken["on"] = False
    row.get_by_test_id("upload-retry").click()
    expect(row).to_have_attribute("data-status", "added", timeout=TIMEOUT)
    assert offsets.count("0") == 1, "the first chunk was not sent again"
    assert stored_original(app, "resume.png") == data


def test_cancel_midway_leaves_nothing(page, app, tmp_path):
    photo = tmp_path / "cancelled.png"
    big_png(photo, 40)
    open_library(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1,
        "uploadThroughput": 4 * 1024 * 1024,
    })
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    row = page.get_by_test_id("upload-item").filter(has_text="cancelled.png")
    expect(row).to_contain_text(" of 40", timeout=TIMEOUT)
    page.wait_for_timeout(2500)  # a few chunks in, at 4 MiB/s
    expect(row).to_have_attribute("data-status", "uploading")
    page.get_by_test_id("upload-cancel-all").click()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT)
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Cancelled (1)")
    page.wait_for_timeout(1500)
    assert leftovers(app) == []
    assert upload_rows(app, "cancelled.png") == []
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        assert db.execute("SELECT count(*) FROM photo WHERE filename = 'cancelled.png'"
                          ).fetchone() == (0,)


def test_a_reload_lists_the_unfinished_upload_and_picking_the_file_resumes_it(page, app,
                                                                            tmp_path):
    photo = tmp_path / "reloaded.png"
    data = big_png(photo, 30)
    open_library(page)
    reload_after_the_first_chunk(page, photo)

    # The page lists the upload from the server, stopped where the server says.
    row = page.get_by_test_id("upload-item").filter(has_text="reloaded.png")
    expect(row).to_have_attribute("data-status", "paused", timeout=TIMEOUT)
    expect(row).to_contain_text("pick the file again")
    expect(row).to_contain_text("8.4 MB of 30")
    expect(row.get_by_test_id("upload-discard")).to_be_visible()
    with page.expect_file_chooser() as chooser:
        row.get_by_test_id("upload-resume").click()

    throttle(page, None)
    sent_after_reload: list[str] = []
    page.on("request", lambda r: sent_after_reload.append(r.url.rsplit("offset=", 1)[-1])
            if "/chunks" in r.url else None)
    chooser.value.set_files(str(photo))
    expect(row).to_have_attribute("data-status", "added", timeout=TIMEOUT)
    # One row, finished: the resumed file took the place of its paused row.
    expect(page.get_by_test_id("upload-item").filter(has_text="reloaded.png")).to_have_count(1)
    assert sent_after_reload and "0" not in sent_after_reload, sent_after_reload
    assert stored_original(app, "reloaded.png") == data
    assert upload_rows(app, "reloaded.png") == [("added", len(data))]
    assert leftovers(app) == []


def test_an_unfinished_upload_can_be_discarded_after_a_reload(page, app, tmp_path):
    photo = tmp_path / "abandoned.png"
    big_png(photo, 20)
    open_library(page)
    reload_after_the_first_chunk(page, photo)
    row = page.get_by_test_id("upload-item").filter(has_text="abandoned.png")
    expect(row).to_have_attribute("data-status", "paused", timeout=TIMEOUT)
    assert upload_rows(app, "abandoned.png") == [("uploading", 8 * 1024 * 1024)]
    row.get_by_test_id("upload-discard").click()
    expect(row).to_have_count(0, timeout=TIMEOUT)
    assert upload_rows(app, "abandoned.png") == []
    assert leftovers(app) == []
    page.reload()
    expect(page.get_by_test_id("upload-zone")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("upload-item").filter(has_text="abandoned.png")).to_have_count(0)


def test_at_most_three_files_upload_at_once(page, app, tmp_path):
    files = []
    for i in range(6):
        path = tmp_path / f"queued-{i}.png"
        big_png(path, 3)
        files.append(path)
    in_flight, most = set(), [0]

    def started(request):
        if "/chunks" in request.url:
            in_flight.add(request.url)
            most[0] = max(most[0], len(in_flight))

    def ended(request):
        in_flight.discard(request.url)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    open_library(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 50, "downloadThroughput": -1,
        "uploadThroughput": 8 * 1024 * 1024,
    })
    page.get_by_test_id("upload-input").set_input_files([str(f) for f in files])
    expect(page.get_by_test_id("upload-summary")).to_contain_text("Added (6)", timeout=TIMEOUT)
    assert most[0] == 3


def test_l03_a_chunk_answered_408_is_sent_again(page, app, tmp_path):
    """The server gives up on a chunk whose body arrives too slowly; the page sends it again."""
    photo = tmp_path / "slowlink.png"
    data = big_png(photo, 12)
    attempts: list[str] = []

    def too_slow_once(route):
        offset = route.request.url.rsplit("offset=", 1)[-1]
        attempts.append(offset)
        if offset == "8388608" and attempts.count(offset) == 1:
            route.fulfill(status=408, content_type="application/problem+json",
                          headers={"Connection": "close"},
                          body='{"type":"about:blank","title":"Request Timeout","status":408,'
                               '"detail":"the request body arrived too slowly; send it again",'
                               '"error":"the request body arrived too slowly; send it again"}')
        else:
            route.continue_()

    page.route("**/chunks*", too_slow_once)
    open_library(page)
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    row = page.get_by_test_id("upload-item").filter(has_text="slowlink.png")
    expect(row).to_have_attribute("data-status", "added", timeout=TIMEOUT)
    assert attempts == ["0", "8388608", "8388608"], attempts
    assert stored_original(app, "slowlink.png") == data
