"""The upload queue: one row per file, collision decisions, and the batch's summary.

The browser sends the bytes (components/upload_queue.js, in chunks to /api/v1/uploads); this
state decides what is sent and when, and shows what happened. Every change the browser sees is
reported to `report`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid

import reflex as rx
from reflex_base.utils.format import format_queue_events

from imgstream import models, presentation
from imgstream.config import get_settings
from imgstream.models import CollisionChoice, Photo, RenditionKind
from imgstream.presentation import format_bytes
from imgstream.runtime import db_session, storage
from imgstream.services import collisions, identity, renditions, timeline, trash
from imgstream.services.collisions import CollisionOutcome
from imgstream.services.filenames import display_name
from imgstream.services.spooling import FileTooLarge
from imgstream.state.gallery import GalleryState
from imgstream.state.session import signed_in_user

ACTIVE = ("waiting", "needs_decision", "uploading", "processing")

# How each final status is summed up, in the order the summary lists them.
SUMMARY_GROUPS = {
    "added": "Added",
    "replaced": "Replaced",
    "kept_both": "Kept both",
    "skipped": "Skipped",
    "duplicate": "Already in your library",
    "rejected": "Not added",
    "failed": "Failed",
    "cancelled": "Cancelled",
}

CHOICE_LABELS = {
    CollisionChoice.SKIP.value: "skip",
    CollisionChoice.REPLACE.value: "will replace the photo in your library",
    CollisionChoice.KEEP_BOTH.value: "will be kept as a new photo",
}


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
    in_trash: bool = False
    stored_as: str = ""
    """The name the photo has in the library, when it differs from the file's."""


def summary_line(row: UploadRow) -> str:
    """How the batch summary lists a file.

    Its name, with what became of it where that says more than the group's heading.
    """
    if row.status == "kept_both" and row.stored_as:
        return f"{row.filename} → {row.stored_as}"
    if row.status in ("added", "replaced", "cancelled") or not row.message:
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


def _existing_side(key: str, new_name: str, size: int, preview: str,
                   photo: Photo, thumb_key: str) -> CollisionItem:
    return CollisionItem(
        key=key,
        new_name=new_name,
        new_size_label=format_bytes(size),
        new_preview=preview,
        existing_id=str(photo.id),
        existing_name=photo.filename,
        existing_thumbnail_url=storage().url_for(thumb_key),
        existing_taken_label=presentation.taken_at_local(photo).strftime("%-d %b %Y, %H:%M"),
        existing_uploaded_label=models.as_utc(photo.uploaded_at).strftime("%-d %b %Y"),
        existing_size_label=format_bytes(photo.size_bytes),
    )


def _check_names(owner_id: uuid.UUID,
                 files: list[dict]) -> tuple[dict[str, CollisionItem], str]:
    """Collisions of a batch (one query), recorded as detected, by file key; and the default.

    The owner's default collision choice is read now: another tab may have changed it.
    """
    with db_session() as session:
        owner = identity.get_user(session=session, user_id=owner_id)
        default_choice = owner.collision_choice if owner else CollisionChoice.ASK.value
        found = collisions.find_collisions(session=session, owner_id=owner_id,
                                       names=[f["filename"] for f in files])
        if not found:
            return {}, default_choice
        thumbs = renditions.renditions_of(session=session,
                                      photo_ids=[photo.id for photo in found.values()])
        items = {}
        for f in files:
            photo = found.get(f["filename"])
            if photo is None:
                continue
            items[f["key"]] = _existing_side(
                f["key"], f["filename"], f["size"], f["preview"], photo,
                renditions.thumbnail_of(photo, thumbs.get((photo.id, RenditionKind.THUMB))),
            )
            collisions.record_collision(session=session, owner_id=owner_id, filename=f["filename"],
                                    outcome=CollisionOutcome.DETECTED)
        return items, default_choice


def _collision_with(owner_id: uuid.UUID, key: str, new_name: str, size: int, preview: str,
                    photo_id: str) -> CollisionItem | None:
    """The dialog item for a file whose name was taken while it was being sent."""
    with db_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id,
                                 photo_id=uuid.UUID(photo_id))
        if photo is None:
            return None
        thumb = renditions.renditions_of(session=session, photo_ids=[photo.id]).get(
            (photo.id, RenditionKind.THUMB))
        collisions.record_collision(session=session, owner_id=owner_id, filename=new_name,
                                outcome=CollisionOutcome.DETECTED)
        return _existing_side(key, new_name, size, preview, photo,
                              renditions.thumbnail_of(photo, thumb))


def _record_skips(owner_id: uuid.UUID, skipped: list[tuple[str, float]]) -> None:
    with db_session() as session:
        for filename, seconds in skipped:
            collisions.record_collision(session=session, owner_id=owner_id, filename=filename,
                                    outcome=CollisionOutcome.SKIPPED, decision_seconds=seconds)


def _restore(owner_id: uuid.UUID, photo_id: str) -> str | None:
    with db_session() as session:
        photo = trash.restore_photo(session=session, owner_id=owner_id,
                                     photo_id=uuid.UUID(photo_id))
        return photo.filename if photo else None


def _connect_script() -> str:
    report = format_queue_events(UploadState.report, args_spec=lambda event: [event])
    return f"window.imgstreamUploads.connect({report._js_expr})"


class UploadState(rx.State):
    """Files being uploaded in this browser tab."""

    rows: list[UploadRow] = []
    collisions: list[CollisionItem] = []
    apply_to_all: bool = False
    _sizes: dict[str, int] = {}
    _previews: dict[str, str] = {}
    _asked_at: dict[str, float] = {}
    _choices: dict[str, list] = {}
    _arrived: list[str] = []
    """Keys of files the server holds, waiting for a collision choice."""
    _started: list[str] = []

    @rx.var
    def uploading(self) -> bool:
        """Whether anything is still on its way."""
        return any(row.status in ACTIVE for row in self.rows)

    @rx.var
    def batch_progress(self) -> int:
        """Percent of the batch's bytes sent."""
        total = sum(self._sizes.get(row.key, 0) for row in self.rows) or 1
        sent = sum(
            self._sizes.get(row.key, 0) * (100 if row.status not in ACTIVE else row.progress)
            for row in self.rows
        )
        return round(sent / total)

    @rx.var
    def summary(self) -> list[SummaryGroup]:
        """The finished batch grouped by outcome (empty while anything is on its way)."""
        if not self.rows or any(row.status in ACTIVE for row in self.rows):
            return []
        groups = []
        for status, label in SUMMARY_GROUPS.items():
            rows = [row for row in self.rows if row.status == status]
            if rows:
                groups.append(SummaryGroup(status, label, len(rows),
                                           [summary_line(row) for row in rows]))
        return groups

    @rx.var
    def collision_count(self) -> int:
        """How many collisions wait for a decision."""
        return len(self.collisions)

    def _row(self, key: str) -> UploadRow | None:
        return next((row for row in self.rows if row.key == key), None)

    def _update(self, key: str, **changes) -> None:
        self.rows = [dataclasses.replace(row, **changes) if row.key == key else row
                     for row in self.rows]

    def _start_waiting(self) -> list[rx.event.EventSpec]:
        """Send every file that waits, once no collision is undecided."""
        if self.collisions:
            return []
        items = []
        for row in self.rows:
            if row.status == "waiting" and row.key not in self._started:
                choice, seconds = self._choices.get(row.key, [CollisionChoice.ASK.value, None])
                items.append({"id": row.key, "choice": choice, "seconds": seconds})
                self._started.append(row.key)
        if not items:
            return []
        settings = get_settings()
        options = {"concurrency": settings.upload_concurrency}
        return [rx.call_script(
            f"window.imgstreamUploads.start({json.dumps(items)}, {json.dumps(options)})"
        )]

    async def _after_change(self) -> list:
        """Reload the first timeline page once nothing is on its way any more."""
        if any(row.status in ACTIVE for row in self.rows):
            return []
        return [GalleryState.load_first_page]

    @rx.event
    def connect(self):
        """Let the page's upload script report to this state (page mount)."""
        return rx.call_script(_connect_script())

    @rx.event
    async def report(self, event: dict):
        """Take in what the browser reports about the files it holds."""
        kind = event.get("kind")
        if kind == "selected":
            return await self._selected(list(event.get("files") or []))
        if kind == "holding":
            return await self._interrupted(set(event.get("ids") or []))
        key = str(event.get("id", ""))
        row = self._row(key)
        if row is None:
            return None
        size = self._sizes.get(key, 0)
        if kind != "finished" and row.status not in ACTIVE:
            # Late news of a file the person already cancelled.
            return None
        if kind == "progress":
            sent = min(int(event.get("sent", 0)), size)
            if row.status in ("waiting", "uploading"):
                self._update(key, status="uploading", message="uploading…",
                             received_label=f"{format_bytes(sent)} of {format_bytes(size)}",
                             progress=round(100 * sent / max(1, size)))
        elif kind == "retrying":
            self._update(key, status="uploading",
                         message=f"{event.get('reason', 'connection lost')}, "
                                 f"trying again ({event.get('attempt', 1)} of 3)…")
        elif kind == "processing":
            self._update(key, status="processing", message="processing…", progress=100,
                         received_label=format_bytes(size))
        elif kind == "failed":
            self._update(key, status="failed",
                         message=f"upload stopped: {event.get('reason', 'connection lost')}")
        elif kind == "cancelled":
            self._update(key, status="cancelled", message="cancelled")
        elif kind == "finished":
            return await self._finished(key, row, dict(event.get("result") or {}))
        return await self._after_change()

    async def _selected(self, files: list[dict]):
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return rx.call_script(
                f"window.imgstreamUploads.forget({json.dumps([f.get('id') for f in files])})")
        settings = get_settings()
        new_rows, accepted = [], []
        for f in files:
            key, size = str(f.get("id")), int(f.get("size") or 0)
            filename = display_name(str(f.get("name") or ""))
            self._sizes[key] = size
            label = format_bytes(size)
            if size == 0:
                new_rows.append(UploadRow(key, filename, label, "rejected",
                                          "rejected: empty file"))
            elif size > settings.max_upload_bytes:
                new_rows.append(UploadRow(key, filename, label, "rejected",
                                          f"rejected: {FileTooLarge(settings.max_upload_bytes)}"))
            else:
                new_rows.append(UploadRow(key, filename, label, "waiting", "waiting…"))
                self._previews[key] = str(f.get("preview") or "")
                accepted.append({"key": key, "filename": filename, "size": size,
                                 "preview": self._previews[key]})
        self.rows = [*self.rows, *new_rows]
        scripts = []
        refused = [row.key for row in new_rows if row.status == "rejected"]
        if refused:
            scripts.append(rx.call_script(
                f"window.imgstreamUploads.forget({json.dumps(refused)})"))
        collisions, default_choice = await asyncio.to_thread(_check_names, owner_id, accepted)
        now = time.monotonic()
        for key, item in collisions.items():
            if default_choice == CollisionChoice.ASK.value:
                self._update(key, status="needs_decision",
                             message=f"{item.existing_name} is already in your library")
                self.collisions = [*self.collisions, item]
                self._asked_at[key] = now
            else:
                scripts.extend(self._decide_one(item, default_choice, None))
        return [*scripts, *self._start_waiting(), *await self._after_change()]

    async def _interrupted(self, held: set[str]):
        """Files on their way that this page no longer holds (it was reloaded) stop there."""
        lost = [row.key for row in self.rows if row.status in ACTIVE and row.key not in held]
        if not lost:
            return None
        self.collisions = [item for item in self.collisions if item.key not in lost]
        self._arrived = [key for key in self._arrived if key not in lost]
        for key in lost:
            self._update(key, status="failed",
                         message="upload stopped: the page was reloaded; pick the file again "
                                 "to continue where it stopped")
        return await self._after_change()

    async def _finished(self, key: str, row: UploadRow, result: dict):
        status = str(result.get("status") or "rejected")
        message = str(result.get("message") or "")
        photo_id = str(result.get("photo_id") or "")
        if status == "collision":
            owner_id = await signed_in_user(self)
            item = await asyncio.to_thread(
                _collision_with, owner_id, key, row.filename, self._sizes.get(key, 0),
                self._previews.get(key, ""), photo_id) if owner_id and photo_id else None
            if item is not None:
                self._update(key, status="needs_decision",
                             message=f"{item.existing_name} is already in your library")
                self._arrived.append(key)
                self._asked_at[key] = time.monotonic()
                self.collisions = [*self.collisions, item]
                return None
            status, message = "rejected", "its name is taken; please try again"
        if status == "rejected" and not message.startswith("rejected"):
            message = f"rejected: {message}"
        stored_as = str(result.get("filename") or "")
        self._update(key, status=status, message=message, photo_id=photo_id,
                     in_trash=bool(result.get("in_trash")), progress=100,
                     stored_as=stored_as if stored_as != row.filename else "")
        return await self._after_change()

    def _decide_one(self, item: CollisionItem, choice: str, seconds: float | None) -> list:
        """Apply a choice to one colliding file; the browser calls that are needed."""
        key = item.key
        if key in self._arrived:
            # The server holds the bytes: it applies the choice and records it.
            self._arrived = [k for k in self._arrived if k != key]
            self._update(key, status="processing", message="processing…")
            return [rx.call_script(
                f"window.imgstreamUploads.decide({json.dumps(key)}, {json.dumps(choice)}, "
                f"{json.dumps(seconds)})")]
        if choice == CollisionChoice.SKIP.value:
            self._update(key, status="skipped",
                         message=f"skipped: {item.existing_name} is already in your library")
            return [rx.call_script(f"window.imgstreamUploads.forget({json.dumps([key])})")]
        self._choices[key] = [choice, seconds]
        self._update(key, status="waiting", message=CHOICE_LABELS[choice])
        return []

    @rx.event
    def set_apply_to_all(self, value: bool) -> None:
        """Whether the next choice applies to every remaining collision."""
        self.apply_to_all = bool(value)

    @rx.event
    async def decide(self, choice: str):
        """Apply the person's choice to the collision shown (or to all that remain)."""
        if not self.collisions or choice not in CHOICE_LABELS:
            return None
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        targets = list(self.collisions) if self.apply_to_all else [self.collisions[0]]
        now = time.monotonic()
        scripts, skipped = [], []
        for item in targets:
            seconds = round(now - self._asked_at.pop(item.key, now), 2)
            if choice == CollisionChoice.SKIP.value and item.key not in self._arrived:
                skipped.append((item.new_name, seconds))
            scripts.extend(self._decide_one(item, choice, seconds))
        done = {item.key for item in targets}
        self.collisions = [item for item in self.collisions if item.key not in done]
        if not self.collisions:
            self.apply_to_all = False
        if skipped:
            await asyncio.to_thread(_record_skips, owner_id, skipped)
        return [*scripts, *self._start_waiting(), *await self._after_change()]

    @rx.event
    async def skip_remaining(self):
        """Closing the dialog skips every collision left."""
        self.apply_to_all = True
        return await self.decide(CollisionChoice.SKIP.value)

    @rx.event
    async def cancel_file(self, key: str):
        """Stop one file: nothing of it is kept."""
        row = self._row(key)
        if row is None or row.status not in ACTIVE:
            return None
        self.collisions = [item for item in self.collisions if item.key != key]
        self._arrived = [k for k in self._arrived if k != key]
        self._update(key, status="cancelled", message="cancelled")
        return [rx.call_script(f"window.imgstreamUploads.cancel({json.dumps([key])})"),
                *self._start_waiting(), *await self._after_change()]

    @rx.event
    async def cancel_batch(self):
        """Stop every file still on its way."""
        keys = [row.key for row in self.rows if row.status in ACTIVE]
        self.collisions, self._arrived = [], []
        for key in keys:
            self._update(key, status="cancelled", message="cancelled")
        return [rx.call_script(f"window.imgstreamUploads.cancel({json.dumps(keys)})"),
                *await self._after_change()]

    @rx.event
    def retry_file(self, key: str):
        """Send a failed file again, from where it stopped."""
        row = self._row(key)
        if row is None or row.status != "failed":
            return None
        self._update(key, status="uploading", message="resuming…")
        return rx.call_script(f"window.imgstreamUploads.retry({json.dumps(key)})")

    @rx.event
    async def restore_duplicate(self, key: str):
        """Bring back from the trash the photo an upload turned out to duplicate."""
        row = self._row(key)
        owner_id = await signed_in_user(self)
        if row is None or not row.in_trash or owner_id is None:
            return None
        name = await asyncio.to_thread(_restore, owner_id, row.photo_id)
        if name is None:
            return rx.toast.error("That photo is no longer in your trash.")
        self._update(key, in_trash=False, message=f"restored {name} from your trash")
        return GalleryState.load_first_page

    @rx.event
    def clear_finished(self) -> None:
        """Remove rows of files that are done."""
        self.rows = [row for row in self.rows if row.status in ACTIVE]
        keep = {row.key for row in self.rows}
        self._sizes = {k: v for k, v in self._sizes.items() if k in keep}
        self._started = [k for k in self._started if k in keep]
        self._choices = {k: v for k, v in self._choices.items() if k in keep}
        self._previews = {k: v for k, v in self._previews.items() if k in keep}

