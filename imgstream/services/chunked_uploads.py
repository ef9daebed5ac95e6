"""Uploads in chunks: a file arrives over several requests and resumes after an interruption.

Each committed chunk is an object in photo storage at `incoming/{owner}/{upload}/{offset}`, so
whichever instance takes the next request can continue or finish the upload; the `Upload` row
records how many bytes have arrived. A chunk is committed by writing its object (create-only)
and then moving `received_bytes` from the chunk's offset to its end in one conditional UPDATE:
of two requests sending the same chunk, exactly one commits it.

The `Upload` row is the upload for every client (the upload page, the REST API): it holds the
collision choice and the decision time the server measured (see `upload_decisions`) and, once
completed, the outcome. Finishing an upload goes through `ingest.ingest` like every other upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import AsyncIterable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import (
    UNFINISHED_UPLOAD_STATUSES,
    CollisionChoice,
    Upload,
    UploadStatus,
    User,
    utcnow,
)
from imgstream.presentation import format_bytes
from imgstream.services import collisions, ingest, quota
from imgstream.services.filenames import display_name
from imgstream.services.spooling import FileTooLarge, IncomingFile
from imgstream.services.storage import (
    INCOMING_PREFIX,
    ObjectExists,
    ObjectMissing,
    Storage,
    delete_quietly,
)

log = logging.getLogger(__name__)

READ_BLOCK_BYTES = 1024 * 1024
PROCESSING_STALE_AFTER = timedelta(minutes=10)
"""A completion that has not finished in this time died with its worker and may be taken over."""
MAX_OPEN_UPLOADS = 500
_CHUNK_KEY = re.compile(
    r"incoming/(?P<owner>[0-9a-f-]{36})/(?P<upload>[0-9a-f-]{36})/(?P<offset>[0-9]{12})"
)


class UploadRefused(Exception):  # noqa: N818
    """An upload cannot start (empty, too large, or over the owner's quota)."""

    def __init__(self, message: str, *, too_large: bool = False, too_many: bool = False):
        """Record why, for people.

        Args:
            message: The reason.
            too_large: Whether the file is too large (for the limit or the quota).
            too_many: Whether the person has as many unfinished uploads as allowed.
        """
        super().__init__(message)
        self.message = message
        self.too_large = too_large
        self.too_many = too_many


class UploadNotFound(Exception):  # noqa: N818
    """No such upload of this owner (finished, cancelled, expired, or someone else's)."""


class OffsetMismatch(Exception):  # noqa: N818
    """A chunk was sent for another offset than where the upload continues."""

    def __init__(self, received: int):
        """Record where the upload continues.

        Args:
            received: Bytes committed so far: the offset of the next chunk.
        """
        super().__init__(f"the upload continues at byte {received}")
        self.received = received


class ChunkRefused(Exception):  # noqa: N818
    """A chunk was refused while it was read (nothing of it was kept)."""

    def __init__(self, message: str, *, too_large: bool = False):
        """Record why.

        Args:
            message: The reason, for people.
            too_large: Whether the chunk passed the chunk limit or the announced size.
        """
        super().__init__(message)
        self.message = message
        self.too_large = too_large


class UploadBusy(Exception):  # noqa: N818
    """Another request is completing this upload right now; its outcome comes shortly."""


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


@dataclass(frozen=True, slots=True)
class UploadProgress:
    """An upload as its clients see it: how far it is, and once completed what became of it.

    `photo_id` and `photo_filename` are the photo it became, or the photo whose name or bytes it
    has (for a duplicate, a skip or a collision waiting for a decision).
    """

    id: uuid.UUID
    filename: str
    size: int
    received: int
    status: UploadStatus = UploadStatus.UPLOADING
    collision_choice: CollisionChoice = CollisionChoice.ASK
    message: str = ""
    photo_id: uuid.UUID | None = None
    photo_filename: str = ""
    in_trash: bool = False
    decision_seconds: float | None = None


def chunk_prefix(owner_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    """The storage folder of an upload's chunks."""
    return f"{INCOMING_PREFIX}{owner_id}/{upload_id}"


def chunk_key(owner_id: uuid.UUID, upload_id: uuid.UUID, offset: int) -> str:
    """Storage key of the chunk that starts at `offset` (zero-padded, so keys sort by offset)."""
    return f"{chunk_prefix(owner_id, upload_id)}/{offset:012d}"


def progress_of(upload: Upload) -> UploadProgress:
    """An upload row as its clients see it."""
    return UploadProgress(
        upload.id, upload.filename, upload.size_bytes, upload.received_bytes,
        status=UploadStatus(upload.status),
        collision_choice=CollisionChoice(upload.collision_choice),
        message=upload.message, photo_id=upload.photo_id, photo_filename=upload.photo_filename,
        in_trash=upload.in_trash, decision_seconds=upload.decision_seconds,
    )



def begin_upload(
    *, session: Session, owner: User, filename: str, size: int, max_bytes: int,
    max_open: int = MAX_OPEN_UPLOADS,
    on_collision: CollisionChoice | None = None, file_modified_ms: int | None = None,
) -> UploadProgress:
    """Start an upload of a file of announced size, holding that size against the quota.

    Until the upload is finished, cancelled or expired, its announced size counts with the
    owner's used bytes: uploads under way cannot together promise more than the quota.

    Args:
        session: Database session.
        owner: The signed-in user (freshly loaded: their storage use is checked).
        filename: The name the browser gave the file (cleaned for display).
        size: The file's size in bytes.
        max_bytes: The largest file accepted.
        max_open: How many unfinished uploads one person may have.
        on_collision: What the person chose for a taken name; None for their default setting.
        file_modified_ms: When the file was last changed, as the client says (to resume it
            when it is picked again).

    Returns:
        The new upload, nothing received yet.

    Raises:
        UploadRefused: An empty file, one over `max_bytes`, one the owner's quota cannot hold
            beside their unfinished uploads, or one more than `max_open` unfinished uploads.
    """
    name = display_name(filename)
    if size <= 0:
        raise UploadRefused("empty file")
    if size > max_bytes:
        raise UploadRefused(str(FileTooLarge(max_bytes)), too_large=True)
    if owner.used_bytes + owner.reserved_bytes + size > owner.quota_bytes:
        raise UploadRefused(_quota_message(owner, size), too_large=True)
    # A read transaction that turns into a write fails at once on SQLite when another write came
    # in between: the reservation starts a transaction of its own.
    session.commit()
    # The check and the reservation are one statement, and its row lock makes parallel begins
    # of one person take turns, so the count of open uploads below is exact too.
    reserved = session.execute(
        sa.update(User)
        .where(User.id == owner.id,
               User.used_bytes + User.reserved_bytes + size <= User.quota_bytes)
        .values(reserved_bytes=User.reserved_bytes + size)
    )
    if reserved.rowcount != 1:
        session.rollback()
        session.refresh(owner)
        raise UploadRefused(_quota_message(owner, size), too_large=True)
    open_uploads = session.exec(
        select(sa.func.count()).select_from(Upload).where(
            Upload.owner_id == owner.id,
            Upload.status.in_([status.value for status in UNFINISHED_UPLOAD_STATUSES]))
    ).one()
    if open_uploads >= max_open:
        session.rollback()
        raise UploadRefused(
            f"you have {open_uploads} unfinished uploads: finish or cancel some first",
            too_many=True,
        )
    upload = Upload(owner_id=owner.id, filename=name, size_bytes=size,
                    collision_choice=collisions.resolve_choice(owner=owner,
                                                               chosen=on_collision).value,
                    file_modified_ms=file_modified_ms)
    session.add(upload)
    session.commit()
    return progress_of(upload)


def _quota_message(owner: User, size: int) -> str:
    if owner.reserved_bytes <= 0:
        return quota.quota_message(owner, size)
    return (f"your library is full: {format_bytes(owner.used_bytes)} of "
            f"{format_bytes(owner.quota_bytes)} used, {format_bytes(owner.reserved_bytes)} held "
            f"by unfinished uploads, and this photo needs {format_bytes(size)}")


def _find(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID) -> Upload | None:
    return session.exec(
        select(Upload)
        .where(Upload.id == upload_id, Upload.owner_id == owner_id)
        .execution_options(populate_existing=True)
    ).first()


def upload_status(
    *, session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID
) -> UploadProgress:
    """How much of one of the owner's uploads has arrived.

    The transaction is ended before returning, so no connection is held while a request body
    arrives afterwards.

    Raises:
        UploadNotFound: No such upload of this owner.
    """
    upload = _find(session, owner_id, upload_id)
    # Read before the rollback: it expires the row, and reading an expired row would begin a
    # new transaction that keeps the connection checked out.
    progress = None if upload is None else progress_of(upload)
    session.rollback()
    if progress is None:
        raise UploadNotFound(upload_id)
    return progress


async def receive_chunk(
    *,
    sessions: Callable[[], AbstractContextManager[Session]],
    storage: Storage,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    offset: int,
    body: AsyncIterable[bytes],
    spool_dir: Path,
    chunk_bytes: int,
) -> int:
    """Receive the chunk that starts at `offset` and commit it.

    The body is spooled to a temporary file with the chunk limit and the announced size
    enforced while reading, then stored as the chunk's object and committed. Database and
    storage work runs in worker threads, each in a session of its own: no session (and no
    pooled connection) is held while the body arrives, however slowly.

    Args:
        sessions: Opens a database session (such as `runtime.db_session`).
        storage: Where chunks are kept.
        owner_id: The signed-in user.
        upload_id: Their upload.
        offset: Where the chunk starts; must be the bytes received so far.
        body: The request body as it arrives.
        spool_dir: Where the temporary file goes.
        chunk_bytes: The largest chunk accepted.

    Returns:
        Bytes received after this chunk.

    Raises:
        UploadNotFound: No such upload of this owner.
        OffsetMismatch: The upload continues elsewhere (its `received` says where).
        ChunkRefused: An empty chunk, or one over the chunk limit or past the announced size.
    """
    def status() -> UploadProgress:
        with sessions() as session:
            return upload_status(session=session, owner_id=owner_id, upload_id=upload_id)

    def commit(chunk: IncomingFile, sha256: str) -> int:
        with sessions() as session:
            return _commit_chunk(session, storage, owner_id, upload_id, offset, chunk, sha256)

    before = await asyncio.to_thread(status)
    if offset != before.received:
        raise OffsetMismatch(before.received)
    remaining = before.size - offset
    chunk = IncomingFile(
        filename=before.filename, spool_dir=spool_dir, max_bytes=min(chunk_bytes, remaining)
    )
    try:
        try:
            async for data in body:
                chunk.write(data)
        except FileTooLarge:
            if chunk_bytes <= remaining:
                raise ChunkRefused(
                    f"a chunk may be at most {chunk_bytes} bytes", too_large=True
                ) from None
            raise ChunkRefused(
                f"the chunk goes past the announced size of {before.size} bytes", too_large=True
            ) from None
        sha256 = chunk.finish()
        if chunk.size == 0:
            raise ChunkRefused("empty chunk")
        return await asyncio.to_thread(commit, chunk, sha256)
    finally:
        chunk.discard()


def _commit_chunk(
    session: Session,
    storage: Storage,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    offset: int,
    chunk: IncomingFile,
    sha256: str,
) -> int:
    # Another request may have committed this offset while the body was arriving.
    current = upload_status(session=session, owner_id=owner_id, upload_id=upload_id)
    if current.received != offset:
        raise OffsetMismatch(current.received)
    key = chunk_key(owner_id, upload_id, offset)
    wrote = _put_chunk(storage, key, chunk, sha256, offset)
    try:
        committed = session.execute(
            sa.update(Upload)
            .where(Upload.id == upload_id, Upload.owner_id == owner_id,
                   Upload.received_bytes == offset)
            .values(received_bytes=offset + chunk.size, updated_at=utcnow())
        )
        session.commit()
    except BaseException:
        # Whether the commit happened is unknown: the object stays, and a retry of the chunk
        # replaces it or a sweep removes it.
        session.rollback()
        raise
    if committed.rowcount == 1:
        return offset + chunk.size
    # Lost the race: the object goes, unless the winner committed this offset and the object
    # now belongs to the upload.
    after = _find(session, owner_id, upload_id)
    session.rollback()
    if wrote and (after is None or after.received_bytes <= offset):
        delete_quietly(storage, [key])
    if after is None:
        raise UploadNotFound(upload_id)
    raise OffsetMismatch(after.received_bytes)


def _put_chunk(
    storage: Storage, key: str, chunk: IncomingFile, sha256: str, offset: int
) -> bool:
    """Store a chunk's object create-only; whether this call wrote it.

    An object already at the key comes from an attempt whose commit was lost (or from a request
    sending the same chunk right now): the same bytes are left as they are, other bytes are
    replaced.
    """
    try:
        storage.put_file(key, chunk.path)
        return True
    except ObjectExists:
        pass
    if _holds(storage, key, chunk.size, sha256):
        return False
    storage.delete(key)
    try:
        storage.put_file(key, chunk.path)
    except ObjectExists as exc:
        # Another request wrote this chunk between the delete and the put.
        raise OffsetMismatch(offset) from exc
    return True


def _holds(storage: Storage, key: str, size: int, sha256: str) -> bool:
    if storage.size(key) != size:
        return False
    digest = hashlib.sha256()
    try:
        with storage.open(key) as stored:
            while block := stored.read(READ_BLOCK_BYTES):
                digest.update(block)
    except ObjectMissing:
        return False
    return digest.hexdigest() == sha256


def parse_chunk_key(key: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The owner and upload a chunk object belongs to; None for any other key."""
    match = _CHUNK_KEY.fullmatch(key)
    if match is None:
        return None
    return uuid.UUID(match["owner"]), uuid.UUID(match["upload"])


def _chunk_offsets(storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID) -> list[int]:
    offsets = []
    for key in storage.list(chunk_prefix(owner_id, upload_id)):
        match = _CHUNK_KEY.fullmatch(key)
        if match:
            offsets.append(int(match["offset"]))
    return sorted(offsets)


def _first_gap(storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID,
               received: int) -> int | None:
    """Where the stored chunks stop adding up to `received` bytes; None when they do."""
    end = 0
    previous = 0
    for offset in _chunk_offsets(storage, owner_id, upload_id):
        if offset >= received:
            break
        if offset > end:
            return end
        if offset < end:
            # The chunk before runs into this one: it is not the chunk that was committed.
            return previous
        size = storage.size(chunk_key(owner_id, upload_id, offset))
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
    gap = _first_gap(storage, owner_id, upload_id, progress.received)
    if gap is not None:
        _rewind(session, storage, owner_id, progress, gap)
    incoming = IncomingFile(
        filename=progress.filename, spool_dir=spool_dir, max_bytes=min(max_bytes, progress.size)
    )
    try:
        for offset in _chunk_offsets(storage, owner_id, upload_id):
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
            progress: UploadProgress, gap: int) -> None:
    log.warning("upload %s lost its chunk at byte %d; it continues from there", progress.id, gap)
    for offset in _chunk_offsets(storage, owner_id, progress.id):
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
    row = _find(session, owner.id, upload_id)
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
        after = _find(session, owner.id, upload_id)
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
        remove_chunks(storage=storage, owner_id=owner.id, upload_id=upload_id)
    return upload_status(session=session, owner_id=owner.id, upload_id=upload_id)


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


def finish_upload(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID, *,
                  status: UploadStatus, **outcome: object) -> None:
    """Give an unfinished upload its final status and outcome, and end its quota reservation.

    Both happen in one transaction, and only the request that finishes the row releases it.
    """
    finished = session.execute(
        sa.update(Upload)
        .where(Upload.id == upload_id, Upload.owner_id == owner_id,
               Upload.status.in_([unfinished.value for unfinished in UNFINISHED_UPLOAD_STATUSES]))
        .values(updated_at=utcnow(), status=status.value, **outcome)
        .returning(Upload.size_bytes)
    ).first()
    if finished is not None:
        _release(session, owner_id, finished[0])
    session.commit()


def remove_chunks(*, storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID) -> None:
    """Remove the stored chunks of an upload (its row stays)."""
    for key in list(storage.list(chunk_prefix(owner_id, upload_id))):
        delete_quietly(storage, [key])


def cancel_upload(
    *, session: Session, storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID
) -> bool:
    """Forget one of the owner's uploads and remove its chunks; a no-op when already gone.

    Returns:
        Whether there was such an upload.
    """
    return _remove_upload(session, storage, owner_id, upload_id)


def _remove_upload(session: Session, storage: Storage, owner_id: uuid.UUID,
                   upload_id: uuid.UUID) -> bool:
    # The row goes first: a crash after it leaves chunks the sweep finds without a row.
    row = session.exec(
        select(Upload.size_bytes, Upload.status)
        .where(Upload.id == upload_id, Upload.owner_id == owner_id)
    ).first()
    removed = session.execute(
        sa.delete(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
    )
    if removed.rowcount == 1 and row is not None and UploadStatus(row[1]).unfinished:
        # Only the request that removed an unfinished row gives its reservation back.
        _release(session, owner_id, row[0])
    session.commit()
    remove_chunks(storage=storage, owner_id=owner_id, upload_id=upload_id)
    return removed.rowcount == 1


def _release(session: Session, owner_id: uuid.UUID, size: int) -> None:
    """Give back what an unfinished upload held against the quota (in the caller's commit)."""
    session.execute(
        sa.update(User).where(User.id == owner_id)
        .values(reserved_bytes=sa.case((User.reserved_bytes > size,
                                        User.reserved_bytes - size), else_=0))
    )
