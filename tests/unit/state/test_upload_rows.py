import json
import re
import uuid

from imgstream.components.upload_panel import UPLOAD_QUEUE_SCRIPT
from imgstream.models import CollisionChoice, UploadStatus
from imgstream.services.upload_progress import UploadProgress
from imgstream.state.upload_rows import UploadRow, paused_view, row_view, summarise, summary_line

S = UploadStatus


def test_summary_lines_say_what_the_group_heading_does_not():
    assert summary_line(UploadRow("k", "a.jpg", "", "added", "added")) == "a.jpg"
    assert summary_line(UploadRow("k", "a.jpg", "", "replaced", "replaced a.jpg")) == "a.jpg"
    assert summary_line(UploadRow("k", "a.jpg", "", "kept_both", "kept both: added as a (1).jpg",
                                  stored_as="a (1).jpg")) == "a.jpg → a (1).jpg"
    assert summary_line(UploadRow("k", "n.jpg", "", "rejected",
                                  "rejected: not a supported image")) == (
        "n.jpg: not a supported image")
    assert summary_line(UploadRow("k", "b.jpg", "", "skipped",
                                  "skipped: a photo named B.JPG exists")) == (
        "b.jpg: a photo named B.JPG exists")
    assert summary_line(UploadRow("k", "c.jpg", "", "duplicate",
                                  "already in your trash as d.jpg")) == (
        "c.jpg: already in your trash as d.jpg")
    assert summary_line(UploadRow("k", "e.jpg", "", "failed",
                                  "upload stopped: the connection was lost")) == (
        "e.jpg: the connection was lost")


def progress(status, **kwargs):
    fields = {"id": uuid.uuid4(), "filename": "beach.jpg", "size": 2_000_000,
              "received": 500_000, "status": status, **kwargs}
    return UploadProgress(**fields)


def test_a_row_shows_what_its_upload_says():
    assert row_view(progress(S.UPLOADING))["status"] == "waiting"
    assert row_view(progress(S.UPLOADING))["message"] == "waiting…"
    assert row_view(progress(S.UPLOADING, photo_id=uuid.uuid4(),
                             collision_choice=CollisionChoice.KEEP_BOTH))["message"] == (
        "will be kept as a new photo")
    asked = row_view(progress(S.NEEDS_DECISION, photo_filename="Beach.JPG"))
    assert (asked["status"], asked["message"]) == (
        "needs_decision", "a photo named Beach.JPG exists already")
    photo = uuid.uuid4()
    kept = row_view(progress(S.KEPT_BOTH, received=2_000_000, photo_id=photo,
                             photo_filename="beach (1).jpg", message="kept both"))
    assert kept == {"status": "kept_both", "photo_id": str(photo), "in_trash": False,
                    "message": "kept both", "progress": 100, "received_label": "2 MB",
                    "stored_as": "beach (1).jpg"}
    assert row_view(progress(S.REJECTED, message="not a supported image"))["message"] == (
        "rejected: not a supported image")
    assert row_view(progress(S.ADDED, photo_filename="beach.jpg"))["stored_as"] == ""


def test_an_unfinished_upload_the_page_does_not_hold_is_paused_where_it_stopped():
    view = paused_view(progress(S.UPLOADING))
    assert (view["status"], view["progress"], view["received_label"]) == (
        "paused", 25, "500 KB of 2 MB")
    assert "pick the file again" in view["message"]


def test_the_page_script_names_statuses_as_the_enum_does():
    prefix, _, script = UPLOAD_QUEUE_SCRIPT.partition(";\n")
    constant = json.loads(prefix.removeprefix("window.imgstreamUploadStatus = Object.freeze(")
                          .removesuffix(")"))
    assert constant == {status.name.lower(): status.value for status in UploadStatus}
    used = set(re.findall(r"STATUS\.(\w+)", script))
    assert used and used <= set(constant)
    # No status is spelled out in the script: every one comes from the constant.
    for status in UploadStatus:
        assert f'"{status.value}"' not in script and f"'{status.value}'" not in script


def test_the_summary_waits_for_the_batch_and_groups_it_by_outcome():
    rows = [UploadRow("a", "a.jpg", "", "added", "added"),
            UploadRow("b", "b.jpg", "", "paused", "paused: pick the file again to resume"),
            UploadRow("c", "c.jpg", "", "skipped", "skipped: a photo named C.jpg exists"),
            UploadRow("d", "d.jpg", "", "added", "added")]
    assert [(g.status, g.count, g.files) for g in summarise(rows)] == [
        ("added", 2, ["a.jpg", "d.jpg"]),
        ("skipped", 1, ["c.jpg: a photo named C.jpg exists"])]
    assert summarise([*rows, UploadRow("e", "e.jpg", "", "uploading")]) == []
