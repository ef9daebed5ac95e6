"""The upload queue: one row per file, collision decisions, and the batch's summary.

Each file the server accepts is an `Upload` row (services.upload_decisions): it holds the
collision choice, the decision time measured here and the outcome, and this state reads them
there. The browser (components/upload_queue.js) only sends the bytes of the uploads it is told
about, in chunks to /api/v1/uploads, and reports what it did to `report`. Rows are keyed by
upload id (by the browser's key for a file refused before it had one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import reflex as rx
from reflex_base.utils.format import format_queue_events

from imgstream.config import get_settings
from imgstream.models import CollisionChoice
from imgstream.presentation import format_bytes
from imgstream.services import upload_decisions as decisions
from imgstream.services.imaging import ACCEPTED_NAMES
from imgstream.services.upload_progress import UploadProgress
from imgstream.state import upload_records as records
from imgstream.state.gallery import GalleryState
from imgstream.state.session import signed_in_user
from imgstream.state.upload_rows import (
    CHOICE_LABELS,
    REPORTED,
    CollisionItem,
    S,
    SummaryGroup,
    UploadRow,
    is_active,
    paused_view,
    progress_label,
    row_view,
    summarise,
)


def _connect_script() -> str:
    report = format_queue_events(UploadState.report, args_spec=lambda event: [event])
    return f"window.imgstreamUploads.connect({report._js_expr})"


def _call(function: str, *args: object) -> rx.event.EventSpec:
    return rx.call_script(
        f"window.imgstreamUploads.{function}({', '.join(json.dumps(a) for a in args)})")


class UploadState(rx.State):
    """Files being uploaded in this browser tab, and the person's unfinished uploads."""

    rows: list[UploadRow] = []
    collisions: list[CollisionItem] = []
    apply_to_all: bool = False
    _previews: dict[str, str] = {}
    _sending: list[str] = []
    """Uploads handed to the browser to send."""

    @rx.var
    def accepted_files_label(self) -> str:
        """What the drop zone accepts: the formats opened and the server's size limit."""
        return f"{ACCEPTED_NAMES}, up to {format_bytes(get_settings().max_upload_bytes)} each"

    @rx.var
    def uploading(self) -> bool:
        """Whether anything is still on its way."""
        return any(is_active(row.status) for row in self.rows)

    @rx.var
    def batch_progress(self) -> int:
        """Percent of the batch's bytes sent."""
        rows = [row for row in self.rows if row.status != S.PAUSED]
        total = sum(row.size for row in rows) or 1
        sent = sum(row.size * (row.progress if is_active(row.status) else 100) for row in rows)
        return round(sent / total)

    @rx.var
    def summary(self) -> list[SummaryGroup]:
        """The finished batch grouped by outcome (empty while anything is on its way)."""
        return summarise(self.rows)

    @rx.var
    def collision_count(self) -> int:
        """How many collisions wait for a decision."""
        return len(self.collisions)

    def _row(self, key: str) -> UploadRow | None:
        return next((row for row in self.rows if row.key == key), None)

    def _update(self, key: str, **changes) -> None:
        self.rows = [dataclasses.replace(row, **changes) if row.key == key else row
                     for row in self.rows]

    def _show(self, upload: UploadProgress) -> None:
        """Show on the upload's row what its server row says."""
        key = str(upload.id)
        if self._row(key) is None:
            self.rows = [*self.rows, UploadRow(key, upload.filename, format_bytes(upload.size),
                                               upload.status.value, size=upload.size)]
        self._update(key, **row_view(upload))

    def _start_waiting(self) -> list[rx.event.EventSpec]:
        """Send every file that waits, once no collision is undecided."""
        if self.collisions:
            return []
        ids = [row.key for row in self.rows
               if row.status == S.WAITING and row.key not in self._sending]
        if not ids:
            return []
        self._sending = [*self._sending, *ids]
        settings = get_settings()
        return [_call("start", ids, {"concurrency": settings.upload_concurrency,
                                     "chunkBytes": settings.upload_chunk_bytes})]

    async def _after_change(self) -> list:
        """Reload the first timeline page once nothing is on its way any more."""
        if any(is_active(row.status) for row in self.rows):
            return []
        return [GalleryState.refresh]

    @rx.event
    def connect(self):
        """Let the page's upload script report to this state (page mount)."""
        return rx.call_script(_connect_script())

    @rx.event
    async def report(self, event: dict):
        """Take in what the browser reports about the files it holds (or a batch of reports)."""
        if event.get("kind") != "batch":
            return await self._report_one(event)
        follow: list = []
        for one in event.get("events") or []:
            if not isinstance(one, dict):
                continue
            answer = await self._report_one(one)
            for item in answer if isinstance(answer, list) else [answer]:
                if item is not None and item not in follow:
                    follow.append(item)
        return follow or None

    async def _report_one(self, event: dict):
        kind = event.get("kind")
        if kind == "selected":
            return await self._selected(list(event.get("files") or []))
        if kind == "holding":
            return await self._reconnected({str(i) for i in event.get("ids") or []})
        key = str(event.get("id", ""))
        row = self._row(key)
        if row is None or not is_active(row.status):
            # Late news of a file the person already cancelled.
            return None
        if kind == "finished":
            return await self._finished(key)
        if kind == "retrying":
            self._update(key, status=S.UPLOADING.value,
                         message=f"{event.get('reason', 'connection lost')}, "
                                 f"trying again ({event.get('attempt', 1)} of 3)…")
            return None
        try:
            status = S(str(event.get("status")))
        except ValueError:
            return None
        if kind != "status" or status not in REPORTED:
            return None
        if status is S.UPLOADING:
            sent = event.get("sent")
            sent = min(sent, row.size) if isinstance(sent, int) and sent >= 0 else 0
            if row.status in (S.WAITING, S.UPLOADING):
                self._update(key, status=status.value, message="uploading…",
                             received_label=progress_label(sent, row.size),
                             progress=round(100 * sent / max(1, row.size)))
            return None
        self._sending = [k for k in self._sending if k != key]
        if status is S.PROCESSING:
            self._update(key, status=status.value, message="processing…", progress=100,
                         received_label=format_bytes(row.size))
            return None
        reason = str(event.get("reason") or "connection lost")
        if status is S.FAILED:
            self._update(key, status=status.value, message=f"upload stopped: {reason}")
        else:
            # Refused by the server: nothing of it is kept.
            owner_id = await signed_in_user(self)
            if owner_id is not None:
                await asyncio.to_thread(records.discard, owner_id, [key])
            self._update(key, status=status.value, message=f"rejected: {reason}")
        return await self._after_change()

    async def _selected(self, files: list[dict]):
        picked = [decisions.PickedFile(
            key=str(f.get("id")), filename=str(f.get("name") or ""),
            size=int(f.get("size") or 0),
            file_modified_ms=int(f["modified"]) if isinstance(f.get("modified"), int) else None,
        ) for f in files]
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return _call("forget", [p.key for p in picked])
        previews = {str(f.get("id")): str(f.get("preview") or "") for f in files}
        resumable = frozenset(uuid.UUID(row.key) for row in self.rows
                              if row.status in (S.PAUSED, S.FAILED)
                              and records.is_upload_id(row.key)
                              and row.key not in self._sending)
        found = await asyncio.to_thread(records.accept, owner_id, picked, previews, resumable)
        if found is None:
            return _call("forget", [p.key for p in picked])
        accepted, items = found
        refused, pairs, finish = [], [], []
        for file in accepted:
            if file.upload is None:
                refused.append(file.key)
                self.rows = [*self.rows, UploadRow(file.key, file.filename,
                                                   format_bytes(file.size), S.REJECTED.value,
                                                   file.refused, size=file.size)]
                continue
            key = str(file.upload.id)
            pairs.append([file.key, key])
            self._previews[key] = previews.get(file.key, "")
            self._show(file.upload)
            if file.upload.status is S.NEEDS_DECISION:
                item = items.get(key)
                if item is None and file.resumed:
                    item = await asyncio.to_thread(records.collision_with, owner_id,
                                                   file.upload, self._previews[key])
                if item is not None and all(c.key != key for c in self.collisions):
                    self.collisions = [*self.collisions, item]
            elif (file.upload.status is S.UPLOADING
                  and file.upload.received == file.upload.size):
                finish.append(key)
            elif not file.upload.status.unfinished:
                refused.append(file.key)
        scripts = [_call("assign", pairs)] if pairs else []
        if refused:
            scripts.append(_call("forget", refused))
        if finish:
            self._sending = [*self._sending, *finish]
            scripts.append(_call("complete", finish))
        return [*scripts, *self._start_waiting(), *await self._after_change()]

    async def _reconnected(self, held: set[str]):
        """The page was (re)loaded: list the person's unfinished uploads it does not hold.

        They wait for their files to be picked again, or to be discarded.
        """
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        unfinished = {str(u.id): u
                      for u in await asyncio.to_thread(records.unfinished, owner_id)}
        lost = [row.key for row in self.rows if is_active(row.status) and row.key not in held]
        finished = {key: upload for key, upload in
                    (await asyncio.to_thread(records.uploads, owner_id, lost)).items()
                    if not upload.status.unfinished}
        self._sending = [key for key in self._sending if key in held]
        for upload in finished.values():
            self._show(upload)
        waiting = {key for key, upload in unfinished.items()
                   if upload.status is S.NEEDS_DECISION and upload.received == upload.size}
        self.collisions = [item for item in self.collisions
                           if item.key in held or item.key in waiting]
        for key, upload in unfinished.items():
            if key in held or key in waiting:
                continue
            if self._row(key) is None:
                self.rows = [*self.rows, UploadRow(key, upload.filename, "", S.PAUSED.value,
                                                   size=upload.size)]
            self._update(key, **paused_view(upload))
        for key in lost:
            if key not in unfinished and key not in finished:
                self._update(key, status=S.FAILED.value,
                             message="upload stopped: the page was reloaded")
        # The page has just read the library: it is read again only when an upload it lost
        # track of turned out finished or stopped meanwhile.
        return await self._after_change() if lost else None

    async def _finished(self, key: str):
        owner_id = await signed_in_user(self)
        self._sending = [k for k in self._sending if k != key]
        upload = (await asyncio.to_thread(records.uploads, owner_id, [key])).get(key) \
            if owner_id else None
        if upload is None:
            self._update(key, status=S.FAILED.value,
                         message="upload stopped: the upload is no longer on the server")
            return await self._after_change()
        if upload.status is S.NEEDS_DECISION:
            item = await asyncio.to_thread(records.collision_with, owner_id, upload,
                                           self._previews.get(key, ""))
            if item is not None:
                self._show(upload)
                if all(c.key != key for c in self.collisions):
                    self.collisions = [*self.collisions, item]
                return None
        self._show(upload)
        return await self._after_change()

    @rx.event
    def set_apply_to_all(self, value: bool) -> None:
        """Whether the next choice applies to every remaining collision."""
        self.apply_to_all = bool(value)

    @rx.event
    async def decide(self, choice: str):
        """Apply the person's choice to the collision shown (or to all that remain).

        The server times the decision: it knows when the collision was shown.
        """
        try:
            chosen = CollisionChoice(choice)
        except ValueError:
            return None
        if not self.collisions or chosen not in CHOICE_LABELS:
            return None
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return None
        targets = [item.key for item in
                   (self.collisions if self.apply_to_all else self.collisions[:1])]
        decided = await asyncio.to_thread(records.decide, owner_id, targets, chosen)
        self.collisions = [item for item in self.collisions if item.key not in targets]
        if not self.collisions:
            self.apply_to_all = False
        scripts, finish, done = [], [], []
        for key in targets:
            upload = decided.get(key)
            if upload is None:
                self._update(key, status=S.FAILED.value,
                             message="upload stopped: the upload is no longer on the server")
                done.append(key)
                continue
            self._show(upload)
            if upload.status is S.UPLOADING and upload.received == upload.size:
                self._update(key, status=S.PROCESSING.value, message="processing…")
                finish.append(key)
            elif not upload.status.unfinished:
                done.append(key)
        if done:
            scripts.append(_call("forget", done))
        if finish:
            self._sending = [*self._sending, *finish]
            scripts.append(_call("complete", finish))
        return [*scripts, *self._start_waiting(), *await self._after_change()]

    @rx.event
    async def skip_remaining(self):
        """Closing the dialog skips every collision left."""
        self.apply_to_all = True
        return await self.decide(CollisionChoice.SKIP.value)

    async def _stop(self, keys: list[str]) -> None:
        owner_id = await signed_in_user(self)
        if owner_id is not None and keys:
            await asyncio.to_thread(records.discard, owner_id, keys)
        self.collisions = [item for item in self.collisions if item.key not in keys]
        self._sending = [key for key in self._sending if key not in keys]

    @rx.event
    async def cancel_file(self, key: str):
        """Stop one file: nothing of it is kept."""
        row = self._row(key)
        if row is None or not is_active(row.status):
            return None
        await self._stop([key])
        self._update(key, status=S.CANCELLED.value, message="cancelled")
        return [_call("cancel", [key]), *self._start_waiting(), *await self._after_change()]

    @rx.event
    async def cancel_batch(self):
        """Stop every file still on its way."""
        keys = [row.key for row in self.rows if is_active(row.status)]
        await self._stop(keys)
        for key in keys:
            self._update(key, status=S.CANCELLED.value, message="cancelled")
        return [_call("cancel", keys), *await self._after_change()]

    @rx.event
    async def discard_file(self, key: str):
        """Forget an unfinished upload this page does not hold, and what of it arrived."""
        row = self._row(key)
        if row is None or row.status not in (S.PAUSED, S.FAILED):
            return None
        await self._stop([key])
        self.rows = [row for row in self.rows if row.key != key]
        return [_call("cancel", [key]), *await self._after_change()]

    @rx.event
    def retry_file(self, key: str):
        """Send a failed file again, from where it stopped."""
        row = self._row(key)
        if row is None or row.status != S.FAILED:
            return None
        self._update(key, status=S.UPLOADING.value, message="resuming…")
        self._sending = [*self._sending, key]
        return _call("retry", key)

    @rx.event
    async def restore_duplicate(self, key: str):
        """Bring back from the trash the photo an upload turned out to duplicate."""
        row = self._row(key)
        owner_id = await signed_in_user(self)
        if row is None or not row.in_trash or owner_id is None:
            return None
        name = await asyncio.to_thread(records.restore, owner_id, row.photo_id)
        if name is None:
            return rx.toast.error("That photo is no longer in your trash.")
        self._update(key, in_trash=False, message=f"restored {name} from your trash")
        return GalleryState.refresh

    @rx.event
    def clear_finished(self) -> None:
        """Remove rows of files that are done (unfinished uploads stay listed)."""
        self.rows = [row for row in self.rows
                     if is_active(row.status) or row.status == S.PAUSED]
        keep = {row.key for row in self.rows}
        self._previews = {k: v for k, v in self._previews.items() if k in keep}
