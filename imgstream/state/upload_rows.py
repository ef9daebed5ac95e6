"""The upload queue's rows: what each shows, from the server's upload rows, and the summary.

Plain data and functions (no Reflex), so the queue's display rules are tested on their own.
"""

from __future__ import annotations

import dataclasses

from imgstream.models import CollisionChoice, UploadStatus
from imgstream.presentation import format_bytes
from imgstream.services.upload_progress import UploadProgress

S = UploadStatus

# How each final status is summed up, in the order the summary lists them.
SUMMARY_GROUPS = {
    S.ADDED: "Added",
    S.REPLACED: "Replaced",
    S.KEPT_BOTH: "Kept both",
    S.SKIPPED: "Skipped",
    S.DUPLICATE: "Already in your library",
    S.REJECTED: "Not added",
    S.FAILED: "Failed",
    S.CANCELLED: "Cancelled",
}

CHOICE_LABELS = {
    CollisionChoice.SKIP: "skip",
    CollisionChoice.REPLACE: "will replace the photo in your library",
    CollisionChoice.KEEP_BOTH: "will be kept as a new photo",
}

# Statuses the browser may report about an upload it sends.
REPORTED = frozenset({S.UPLOADING, S.PROCESSING, S.FAILED, S.REJECTED})


def is_active(status: str) -> bool:
    """Whether a row's file is still on its way."""
    return S(status).active


@dataclasses.dataclass(frozen=True)
class UploadRow:
    """One file in the upload queue."""

    key: str
    filename: str
    received_label: str
    status: str
    message: str = ""
    photo_id: str = ""
    progress: int = 0
    size: int = 0
    in_trash: bool = False
    stored_as: str = ""
    """The name the photo has in the library, when it differs from the file's."""


def summary_line(row: UploadRow) -> str:
    """How the batch summary lists a file.

    Its name, with what became of it where that says more than the group's heading.
    """
    if row.status == S.KEPT_BOTH and row.stored_as:
        return f"{row.filename} → {row.stored_as}"
    if row.status in (S.ADDED, S.REPLACED, S.CANCELLED) or not row.message:
        return row.filename
    reason = row.message
    for prefix in ("rejected: ", "skipped: ", "upload stopped: "):
        reason = reason.removeprefix(prefix)
    return f"{row.filename}: {reason}"


@dataclasses.dataclass(frozen=True)
class CollisionItem:
    """A file whose name is taken, beside the photo that has it, for the person to decide."""

    key: str
    new_name: str
    new_size_label: str
    new_preview: str
    existing_id: str
    existing_name: str
    existing_thumbnail_url: str
    existing_taken_label: str
    existing_uploaded_label: str
    existing_size_label: str


@dataclasses.dataclass(frozen=True)
class SummaryGroup:
    """The files of a finished batch that had one outcome."""

    status: str
    label: str
    count: int
    files: list[str]


def summarise(rows: list[UploadRow]) -> list[SummaryGroup]:
    """A finished batch grouped by outcome (empty while anything is on its way)."""
    if not rows or any(is_active(row.status) for row in rows):
        return []
    groups = []
    for status, label in SUMMARY_GROUPS.items():
        done = [row for row in rows if row.status == status]
        if done:
            groups.append(SummaryGroup(status.value, label, len(done),
                                       [summary_line(row) for row in done]))
    return groups


def progress_label(received: int, size: int) -> str:
    """How much of a file has arrived, for people."""
    return f"{format_bytes(received)} of {format_bytes(size)}"


def row_view(upload: UploadProgress) -> dict:
    """What an upload's row in the queue shows, from what its server row says.

    An upload on its way is waiting (for its turn in this page) until the page reports sending.
    """
    status = upload.status
    view: dict = {"status": status.value, "photo_id": str(upload.photo_id or ""),
                  "in_trash": upload.in_trash}
    if status is S.NEEDS_DECISION:
        view["message"] = f"a photo named {upload.photo_filename} exists already"
    elif status is S.UPLOADING:
        # A taken name says what will happen to it; the choice holds from now on.
        taken = upload.photo_id is not None
        view.update(status=S.WAITING.value,
                    message=CHOICE_LABELS.get(upload.collision_choice, "waiting…")
                    if taken else "waiting…")
    elif status is S.PROCESSING:
        view["message"] = "processing…"
    else:
        message = upload.message
        if status is S.REJECTED and not message.startswith("rejected"):
            message = f"rejected: {message}"
        view.update(message=message, progress=100, received_label=format_bytes(upload.size),
                    stored_as=upload.photo_filename
                    if upload.photo_filename != upload.filename else "")
    return view


def paused_view(upload: UploadProgress) -> dict:
    """What the row of an unfinished upload this page does not hold shows."""
    return {"status": S.PAUSED.value,
            "progress": round(100 * upload.received / max(1, upload.size)),
            "received_label": progress_label(upload.received, upload.size),
            "message": "paused: pick the file again to resume"}
