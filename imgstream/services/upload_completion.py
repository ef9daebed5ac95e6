"""Completing an upload: its chunks joined, in order, into the original, and ingested.

The bytes are read once, for the image pipeline, and hashed on the way; the store joins the
original from the chunk objects where they lie. Finishing an upload goes through
`ingest.ingest` like every other upload, and the `Upload` row keeps the outcome.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from imgstream.models import CollisionChoice, Upload, UploadStatus, User, utcnow
from imgstream.services import collisions, ingest
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import Storage
from imgstream.services.upload_progress import (
    UploadNotFound,
    UploadProgress,
    find_upload,
    finish_upload,
    progress_of,
    upload_status,
)
from imgstream.services.upload_receiving import (
    READ_BLOCK_BYTES,
    chunk_key,
    chunk_sizes,
    remove_chunks,
)

log = logging.getLogger(__name__)


class UploadIncomplete(Exception):  # noqa: N818
    """Not every byte of the upload has arrived (or a stored chunk was found missing)."""

    def __init__(self, received: int, size: int):
        """Record how far the upload is.

        Args:
            received: Bytes committed: where the client continues.
            size: The announced size.
        """
        super().__init__(f"{received} of {size} bytes have arrived")
        self.received = received
        self.size = size


def _first_gap(chunks: list[tuple[int, int]], received: int) -> int | None:
    """Where the stored chunks stop adding up to `received` bytes; None when they do.

    Args:
        chunks: (offset, bytes) of each stored chunk, in order.
        received: The bytes the upload's row says have arrived.
    """
    end = 0
    previous = 0
    for offset, size in chunks:
        if offset >= received:
            break
        if offset > end:
            return end
        if offset < end:
            # The chunk before runs into this one: it is not the chunk that was committed.
            return previous
        if size == 0:
            return offset
        previous, end = offset, offset + size
    if end > received:
        return previous
    if end < received:
        return end
    return None


def assemble(
    *,
    session: Session,
    storage: Storage,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    spool_dir: Path,
    max_bytes: int,
) -> tuple[IncomingFile, str]:
    """Read a fully received upload's chunks, in order, into one temporary file.

    The bytes are read once, for the image pipeline, and hashed on the way; the file's
    `stored_parts` name the chunks, so the original is joined from them in the store instead
    of being sent there again.

    When the stored chunks do not add up (one was lost), the upload is moved back to the first
    missing byte and its chunks from there are removed, so the client sends them again.

    Args:
        session: Database session.
        storage: Where the chunks are.
        owner_id: The signed-in user.
        upload_id: Their upload.
        spool_dir: Where the file goes.
        max_bytes: The largest file accepted.

    Returns:
        The file (closed; the caller discards it) and the sha256 of its bytes.

    Raises:
        UploadNotFound: No such upload of this owner.
        UploadIncomplete: Bytes are missing (its `received` says where to continue).
    """
    progress = upload_status(session=session, owner_id=owner_id, upload_id=upload_id)
    if progress.received != progress.size:
        raise UploadIncomplete(progress.received, progress.size)
    chunks = chunk_sizes(storage, owner_id, upload_id)
    gap = _first_gap(chunks, progress.received)
    if gap is not None:
        _rewind(session, storage, owner_id, progress, gap, chunks)
    incoming = IncomingFile(
        filename=progress.filename, spool_dir=spool_dir, max_bytes=min(max_bytes, progress.size)
    )
    try:
        for offset, _size in chunks:
            if offset >= progress.size:
                break
            if offset != incoming.size:
                raise UploadIncomplete(incoming.size, progress.size)
            key = chunk_key(owner_id, upload_id, offset)
            with storage.open(key) as stored:
                while block := stored.read(READ_BLOCK_BYTES):
                    incoming.write(block)
            incoming.stored_parts.append(key)
        sha256 = incoming.finish()
        if incoming.size != progress.size:
            raise UploadIncomplete(incoming.size, progress.size)
    except BaseException:
        incoming.discard()
        raise
    return incoming, sha256


def _rewind(session: Session, storage: Storage, owner_id: uuid.UUID,
            progress: UploadProgress, gap: int, chunks: list[tuple[int, int]]) -> None:
    log.warning("upload %s lost its chunk at byte %d; it continues from there", progress.id, gap)
    for offset, _size in chunks:
        if offset >= gap:
            storage.delete(chunk_key(owner_id, progress.id, offset))
    session.execute(
        sa.update(Upload)
        .where(Upload.id == progress.id, Upload.received_bytes == progress.received)
        .values(received_bytes=gap, updated_at=utcnow())
    )
    session.commit()
    raise UploadIncomplete(gap, progress.size)


def complete_upload(
    *,
    session: Session,
    storage: Storage,
    owner: User,
    upload_id: uuid.UUID,
    on_collision: CollisionChoice | None = None,
    spool_dir: Path,
    max_bytes: int,
    thumbnail_size: int,
    preview_size: int,
    max_pixels: int,
) -> UploadProgress:
    """Turn a fully received upload into a photo with `ingest.ingest`; the row keeps the outcome.

    The collision choice and the decision time are the row's; an explicit `on_collision` (from
    an API client) replaces the choice. When the name is taken and the choice is to ask, the
    upload waits for a decision with its chunks kept (see `upload_decisions.decide`); after any
    other outcome its chunks are removed and the row holds the outcome until the sweep. When
    ingest fails with an error the chunks stay, so completing can be retried. Completing an
    upload that already has its outcome answers that outcome again.

    Args:
        session: Database session.
        storage: Where chunks and photos are.
        owner: The signed-in user.
        upload_id: Their upload.
        on_collision: What to do when the library has a photo of that name; None for the
            choice the upload holds.
        spool_dir: Where the assembled file goes.
        max_bytes: The largest file accepted.
        thumbnail_size: Longest thumbnail edge.
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        The upload with its outcome.

    Raises:
        UploadNotFound: No such upload of this owner.
        UploadIncomplete: Bytes are missing (its `received` says where to continue).
        UploadBusy: Another request is completing it right now.
    """
    row = find_upload(session, owner.id, upload_id)
    if row is None:
        session.rollback()
        raise UploadNotFound(upload_id)
    if not UploadStatus(row.status).unfinished:
        done = progress_of(row)
        session.rollback()
        return done
    choice = on_collision or CollisionChoice(row.collision_choice)
    seconds, asked_before = row.decision_seconds, row.status == UploadStatus.NEEDS_DECISION
    filename = row.filename
    if not _claim(session, owner.id, upload_id, choice):
        # Another request completes it: this one must not read chunks that one removes.
        after = find_upload(session, owner.id, upload_id)
        done = None if after is None else progress_of(after)
        session.rollback()
        if done is None:
            raise UploadNotFound(upload_id)
        if done.status.unfinished:
            raise UploadBusy(upload_id)
        return done
    try:
        incoming, sha256 = assemble(
            session=session, storage=storage, owner_id=owner.id, upload_id=upload_id,
            spool_dir=spool_dir, max_bytes=max_bytes,
        )
        result = ingest.ingest(
            session=session,
            storage=storage,
            owner=owner,
            upload=incoming,
            sha256=sha256,
            thumbnail_size=thumbnail_size,
            preview_size=preview_size,
            max_pixels=max_pixels,
            on_collision=choice,
            decision_seconds=seconds,
        )
    except BaseException:
        session.rollback()
        # Only while this request's claim stands: another may have finished it meanwhile.
        session.execute(
            sa.update(Upload)
            .where(Upload.id == upload_id, Upload.owner_id == owner.id,
                   Upload.status == UploadStatus.PROCESSING.value)
            .values(updated_at=utcnow(), status=UploadStatus.UPLOADING.value)
        )
        session.commit()
        raise
    outcome = {"message": result.message, "photo_id": result.photo_id,
               "photo_filename": result.filename, "in_trash": result.in_trash}
    if result.status is ingest.IngestStatus.COLLISION:
        if not asked_before:
            collisions.record_collision(session=session, owner_id=owner.id,
                                        filename=filename,
                                        outcome=collisions.CollisionOutcome.DETECTED)
        _set(session, owner.id, upload_id, status=UploadStatus.NEEDS_DECISION.value,
             asked_at=utcnow(), decision_seconds=None, **outcome)
    else:
        finish_upload(session, owner.id, upload_id, status=UploadStatus(result.status.value),
                      **outcome)
        remove_chunks(storage=storage, owner_id=owner.id, upload_id=upload_id,
                      keys=incoming.stored_parts)
    return upload_status(session=session, owner_id=owner.id, upload_id=upload_id)


class UploadBusy(Exception):  # noqa: N818
    """Another request is completing this upload right now; its outcome comes shortly."""


PROCESSING_STALE_AFTER = timedelta(minutes=10)
"""A completion that has not finished in this time died with its worker and may be taken over."""


def _claim(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID,
           choice: CollisionChoice) -> bool:
    """Mark the upload as being completed by this request; False when another one is at it.

    One conditional UPDATE: of two requests completing the same upload, exactly one claims it.
    A claim older than `PROCESSING_STALE_AFTER` was left by a worker that died and is taken over.
    """
    session.rollback()
    claimable = sa.or_(
        Upload.status.in_([UploadStatus.UPLOADING.value, UploadStatus.NEEDS_DECISION.value]),
        sa.and_(Upload.status == UploadStatus.PROCESSING.value,
                Upload.updated_at < utcnow() - PROCESSING_STALE_AFTER),
    )
    claimed = session.execute(
        sa.update(Upload)
        .where(Upload.id == upload_id, Upload.owner_id == owner_id, claimable)
        .values(updated_at=utcnow(), status=UploadStatus.PROCESSING.value,
                collision_choice=choice.value)
    )
    session.commit()
    return claimed.rowcount == 1


def _set(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID, **values: object) -> None:
    session.execute(
        sa.update(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
        .values(updated_at=utcnow(), **values)
    )
    session.commit()
