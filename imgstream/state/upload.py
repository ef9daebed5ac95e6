"""The upload queue: one row per file with live progress and its outcome."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
import uuid

import reflex as rx

from imgstream.config import get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import identity, photos
from imgstream.services.uploads import FileTooLarge, IncomingFile, format_bytes
from imgstream.state.gallery import GalleryState, load_cards
from imgstream.state.session import signed_in_user

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.2

# Decoding is CPU-bound: at most one ingest per core at a time, across all sessions.
_ingest_slots = asyncio.Semaphore(os.cpu_count() or 1)


@dataclasses.dataclass(frozen=True)
class UploadRow:
    """One file in the upload queue."""

    key: str
    filename: str
    received_label: str
    status: str
    message: str = ""
    photo_id: str = ""


def _ingest(owner_id: uuid.UUID, incoming: IncomingFile, sha256: str) -> photos.IngestResult:
    settings = get_settings()
    with db_session() as session:
        owner = identity.get_user(session=session, user_id=owner_id)
        if owner is None:
            incoming.discard()
            return photos.IngestResult(photos.IngestStatus.REJECTED, "you are not signed in")
        return photos.ingest(
            session=session,
            storage=storage(),
            owner=owner,
            upload=incoming,
            sha256=sha256,
            thumbnail_size=settings.thumbnail_size,
            preview_size=settings.preview_size,
            max_pixels=settings.max_image_pixels,
        )


class UploadState(rx.State):
    """Files being uploaded in this browser tab."""

    rows: list[UploadRow] = []
    batch_progress: int = 0
    uploading: bool = False

    def _set_row(self, row: UploadRow) -> None:
        self.rows = [row if r.key == row.key else r for r in self.rows]

    @rx.event
    def track_progress(self, progress: dict) -> None:
        """Show how much of the batch the browser has sent."""
        self.batch_progress = round(float(progress.get("progress", 0)) * 100)

    @rx.event
    def clear_finished(self) -> None:
        """Remove rows of files that are done."""
        self.rows = [r for r in self.rows if r.status in ("receiving", "processing")]

    @rx.event(background=True)
    async def receive_photos(self, chunk_iter: rx.UploadChunkIterator):
        """Receive a batch of files chunk by chunk and ingest each one as it completes.

        The state lock is taken only to publish progress; receiving, decoding and storing run
        outside it, and decoding runs in worker threads.
        """
        settings = get_settings()
        async with self:
            owner_id = await signed_in_user(self)
            self.uploading = owner_id is not None
            self.batch_progress = 0
        if owner_id is None:
            async for _chunk in chunk_iter:
                pass
            return
        ingests: list[asyncio.Task] = []
        current: IncomingFile | None = None
        current_key = ""
        current_part = ""  # the name the browser sent, before it is cleaned for display
        last_publish = 0.0

        async def publish(row: UploadRow) -> None:
            async with self:
                if any(r.key == row.key for r in self.rows):
                    self._set_row(row)
                else:
                    self.rows = [*self.rows, row]

        async def finish_file(incoming: IncomingFile, key: str) -> None:
            if incoming.too_large:
                await publish(
                    UploadRow(key, incoming.filename, "", "rejected",
                              f"rejected: {FileTooLarge(incoming.max_bytes)}")
                )
                return
            sha256 = incoming.finish()
            size = format_bytes(incoming.size)
            await publish(UploadRow(key, incoming.filename, size, "processing", "processing…"))

            async def run() -> None:
                try:
                    async with _ingest_slots:
                        result = await asyncio.to_thread(_ingest, owner_id, incoming, sha256)
                except Exception:
                    # Nothing of the file is kept, and its row must not stay "processing".
                    log.exception("ingest of an upload failed")
                    incoming.discard()
                    result = photos.IngestResult(
                        photos.IngestStatus.REJECTED, "it could not be stored, please try again"
                    )
                status = result.status.value
                message = (f"rejected: {result.message}"
                           if result.status is photos.IngestStatus.REJECTED else result.message)
                await publish(
                    UploadRow(key, incoming.filename, size, status, message,
                              str(result.photo_id or ""))
                )

            ingests.append(asyncio.create_task(run()))

        try:
            async for chunk in chunk_iter:
                starts_new_file = (
                    current is None
                    or chunk.filename != current_part
                    or (chunk.offset == 0 and current.size > 0)
                )
                if starts_new_file:
                    if current is not None:
                        await finish_file(current, current_key)
                    current = IncomingFile(
                        filename=chunk.filename,
                        spool_dir=settings.incoming_dir,
                        max_bytes=settings.max_upload_bytes,
                    )
                    current_key = uuid.uuid4().hex
                    current_part = chunk.filename
                    await publish(UploadRow(current_key, current.filename, "", "receiving"))
                    last_publish = time.monotonic()
                try:
                    current.write(chunk.data)
                except FileTooLarge:
                    continue
                if time.monotonic() - last_publish > PROGRESS_INTERVAL_SECONDS:
                    last_publish = time.monotonic()
                    await publish(
                        UploadRow(current_key, current.filename, format_bytes(current.size),
                                  "receiving", "uploading…")
                    )
            if current is not None:
                await finish_file(current, current_key)
                current = None
            await asyncio.gather(*ingests)
        finally:
            if current is not None:
                # The browser went away mid-file: nothing of it is kept.
                current.discard()
            async with self:
                page_size = await (await self.get_state(GalleryState)).page_size()
            cards, cursor = await asyncio.to_thread(load_cards, owner_id, page_size)
            async with self:
                self.uploading = False
                self.batch_progress = 100
                gallery = await self.get_state(GalleryState)
                gallery.show_first_page(cards, cursor)
