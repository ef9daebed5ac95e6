"""The `imgstream` command and the tester kit against the real app.

One app (from the tester kit's `imgstream_app`) serves every test here; the CLI runs as the
installed console script in a process of its own, with its config and state folders under the
test's temporary directory, and its API key made by `imgstream admin keys create`.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from imgstream.testing import photo_bytes
from tests import images

pytestmark = pytest.mark.e2e

CHUNK = 64 * 1024
EMAIL = "cli@example.com"
IMGSTREAM = str(Path(sys.executable).parent / "imgstream")


@pytest.fixture(scope="module")
def imgstream_app_env():
    return {"IMGSTREAM_UPLOAD_CHUNK_BYTES": str(CHUNK),
            "IMGSTREAM_MAX_UPLOAD_BYTES": str(20_000_000)}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The CLI user's home: config and state folders."""
    return tmp_path_factory.mktemp("home")


def cli(home: Path, *args: str, data_dir: Path | None = None, stdin: str = "",
        timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state"), "COLUMNS": "200"}
    env.pop("IMGSTREAM_API_KEY", None)
    if data_dir is not None:
        env["IMGSTREAM_DATA_DIR"] = str(data_dir)
    return subprocess.run([IMGSTREAM, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def key(imgstream_app, home):
    made = cli(home, "admin", "keys", "create", "--user", EMAIL, "--scope", "photos:read",
               "--scope", "upload", "--name", "tests", data_dir=imgstream_app.data_dir)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("isk_")
    return token


@pytest.fixture(scope="module")
def logged_in(imgstream_app, home, key):
    done = cli(home, "login", imgstream_app.url, "--key", key)
    assert done.returncode == 0, done.stderr
    return imgstream_app


def upload_json(home: Path, *args: str, stdin: str = "") -> tuple[int, dict]:
    done = cli(home, "upload", "--json", *args, stdin=stdin)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def library(app, email: str = EMAIL) -> list[str]:
    """The file names of someone's photos (not in the trash), read from the app's database."""
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        rows = db.execute(
            "SELECT photo.filename FROM photo JOIN user ON user.id = photo.owner_id "
            "WHERE user.email = ? AND photo.deleted_at IS NULL", (email,)).fetchall()
    return sorted(name for (name,) in rows)


def listed(home: Path) -> list[dict]:
    done = cli(home, "ls", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_bad_key_is_refused_clearly_and_nothing_is_kept(imgstream_app, tmp_path):
    done = cli(tmp_path, "login", imgstream_app.url, "--key", "isk_" + "0" * 32 + "_" + "x" * 43)
    assert done.returncode == 1
    assert "refused the API key" in done.stderr
    assert not (tmp_path / "config" / "imgstream" / "credentials.json").exists()
    not_a_key = cli(tmp_path, "login", imgstream_app.url, "--key", "hunter2")
    assert not_a_key.returncode == 1 and "not an ImgStream API key" in not_a_key.stderr
    nobody = cli(tmp_path, "upload", str(tmp_path))
    assert nobody.returncode == 1 and "imgstream login" in nobody.stderr


def test_login_keeps_the_key_for_the_owner_only(logged_in, home, key):
    kept = home / "config" / "imgstream" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text()) == {"url": logged_in.url, "key": key}


def test_a_revoked_key_fails_with_a_message_and_a_non_zero_exit(logged_in, tmp_path):
    other = cli(tmp_path, "admin", "keys", "create", "--user", "gone@example.com",
                "--scope", "upload", data_dir=logged_in.data_dir)
    token = other.stdout.strip()
    assert cli(tmp_path, "login", logged_in.url, "--key", token).returncode == 0
    key_id = uuid.UUID(hex=token.split("_")[1])
    revoked = cli(tmp_path, "admin", "keys", "revoke", "--user", "gone@example.com",
                  str(key_id), data_dir=logged_in.data_dir)
    assert revoked.returncode == 0, revoked.stderr
    photo = tmp_path / "a.jpg"
    photo.write_bytes(photo_bytes(1))
    done = cli(tmp_path, "upload", str(photo))
    assert done.returncode == 1
    assert "refused the API key" in done.stderr


def make_folder(root: Path) -> dict[str, bytes]:
    """A folder tree of photos (and things that are not photos)."""
    files = {
        "trip/day1/sea.jpg": images.noisy_jpeg(size=(500, 400)),
        "trip/day1/dunes.png": images.png(size=(300, 200)),
        "trip/day2/harbour.jpg": photo_bytes(11),
        "trip/cover.jpg": photo_bytes(12),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "trip" / "notes.txt").write_text("not a photo")
    (root / "trip" / ".cache").mkdir()
    (root / "trip" / ".cache" / "hidden.jpg").write_bytes(photo_bytes(13))
    return files


def test_dry_run_lists_the_folder_and_sends_nothing(logged_in, home, tmp_path):
    files = make_folder(tmp_path)
    code, plan = upload_json(home, str(tmp_path / "trip"), "--recursive", "--dry-run")
    assert code == 0
    assert sorted(Path(f["path"]).relative_to(tmp_path).as_posix() for f in plan["files"]) == \
        sorted(files)
    assert [Path(o["path"]).name for o in plan["left_out"]] == ["notes.txt"]
    assert library(logged_in) == []
    shallow = cli(home, "upload", str(tmp_path / "trip"), "--dry-run")
    assert shallow.returncode == 0 and "cover.jpg" in shallow.stdout
    assert "sea.jpg" not in shallow.stdout


def test_a_folder_uploads_recursively(logged_in, home, tmp_path):
    files = make_folder(tmp_path)
    done = cli(home, "upload", str(tmp_path / "trip"), "--recursive")
    assert done.returncode == 0, done.stderr
    assert "4 added, 1 left out" in done.stderr
    assert library(logged_in) == sorted(Path(name).name for name in files)
    again = cli(home, "upload", str(tmp_path / "trip"), "-r")
    assert again.returncode == 0 and "4 already there" in again.stderr


def stored_digests(app, email: str = EMAIL) -> dict[str, str]:
    with sqlite3.connect(app.data_dir / "imgstream.db") as db:
        rows = db.execute(
            "SELECT photo.filename, photo.sha256 FROM photo JOIN user ON user.id = "
            "photo.owner_id WHERE user.email = ? AND photo.deleted_at IS NULL", (email,))
        return dict(rows.fetchall())


def test_ls_lists_and_download_saves_byte_identical_originals(logged_in, home, tmp_path):
    mine = {"dl-a.jpg": images.noisy_jpeg(size=(700, 500)), "dl-b.png": images.png()}
    for name, data in mine.items():
        (tmp_path / name).write_bytes(data)
    assert cli(home, "upload", *(str(tmp_path / name) for name in mine)).returncode == 0
    stored = stored_digests(logged_in)
    assert sorted(photo["filename"] for photo in listed(home)) == sorted(stored)

    target = tmp_path / "backup"
    fetched = cli(home, "download", "--to", str(target))
    assert fetched.returncode == 0, fetched.stderr
    saved = {p.name: p.read_bytes() for p in target.iterdir()}
    assert {name: hashlib.sha256(data).hexdigest() for name, data in saved.items()} == stored
    assert {name: saved[name] for name in mine} == mine
    second = cli(home, "download", "--to", str(target))
    assert second.returncode == 0 and f"{len(stored)} already there" in second.stderr


def _journal(home: Path) -> dict:
    path = home / "state" / "imgstream" / "uploads.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def test_an_interrupted_upload_resumes_without_sending_again(logged_in, home, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    originals = {}
    for n in range(5):
        data = images.noisy_jpeg(size=(900, 700))
        originals[f"big{n}.jpg"] = data
        (folder / f"big{n}.jpg").write_bytes(data)
    total = sum(len(data) for data in originals.values())
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state")}
    first = subprocess.Popen([IMGSTREAM, "upload", str(folder), "--concurrency", "1", "--json"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        entries = next(iter(_journal(home).values()), {})
        done = [e for e in entries.values() if e.get("status")]
        under_way = [e for e in entries.values() if e.get("upload_id") and not e.get("status")]
        if done and under_way:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert done and under_way, "the first run was not caught half-way"

    code, second = upload_json(home, str(folder))
    assert code == 0, second
    results = {Path(r["path"]).name: r for r in second["results"]}
    assert all(r["status"] == "added" for r in results.values()), results
    assert any(r["resumed"] for r in results.values())
    assert second["sent_bytes"] < total
    in_library = [name for name in library(logged_in) if name.startswith("big")]
    assert sorted(in_library) == sorted(originals)
    assert _journal(home) == {}


def test_collisions_follow_the_choice_or_ask(logged_in, home, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (first / "pier.jpg").write_bytes(photo_bytes(21))
    assert cli(home, "upload", str(first / "pier.jpg")).returncode == 0

    def other(n: int) -> Path:
        path = second / "pier.jpg"
        path.write_bytes(photo_bytes(n))
        return path

    code, skipped = upload_json(home, str(other(22)), "--on-collision", "skip")
    assert (code, skipped["results"][0]["status"]) == (0, "skipped")
    code, kept = upload_json(home, str(other(23)), "--on-collision", "keep-both")
    assert (code, kept["results"][0]["status"]) == (0, "kept_both")
    code, replaced = upload_json(home, str(other(24)), "--on-collision", "replace")
    assert (code, replaced["results"][0]["status"]) == (0, "replaced")
    code, waiting = upload_json(home, str(other(25)), "--on-collision", "ask")
    assert (code, waiting["results"][0]["status"]) == (1, "needs_decision")
    asked = cli(home, "upload", str(other(25)), "--on-collision", "ask", stdin="k\n")
    assert asked.returncode == 0, asked.stderr
    assert "[s]kip, [r]eplace" in asked.stderr and "kept both" in asked.stderr
    piers = [name for name in library(logged_in) if name.startswith("pier")]
    assert len(piers) == 3, piers


def test_a_rejected_file_fails_the_run(logged_in, home, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"not really a jpeg" * 10)
    code, report = upload_json(home, str(bad))
    assert code == 1
    assert report["results"][0]["status"] == "rejected"


def test_the_kit_seeds_photos_and_opens_a_signed_in_page(imgstream_app, seeded_photos,
                                                        signed_in_page):
    seeded = seeded_photos("kit@example.com", 2)
    assert [photo["status"] for photo in seeded] == ["added", "added"]
    page = signed_in_page("kit@example.com")
    page.wait_for_selector("[data-testid=photo-card]")
    assert page.get_by_test_id("current-user").inner_text().strip().endswith("kit@example.com")
    assert sorted(page.locator("[data-testid=photo-card]").evaluate_all(
        "cards => cards.map(card => card.dataset.photoId)")) == sorted(
        photo["photo_id"] for photo in seeded)
