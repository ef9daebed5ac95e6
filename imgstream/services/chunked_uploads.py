"""Uploads in chunks: a file arrives over several requests and resumes after an interruption.

Each committed chunk is an object in photo storage at `incoming/{owner}/{upload}/{offset}`, so
whichever instance takes the next request can continue or finish the upload; the `Upload` row
records how many bytes have arrived. A chunk is committed by writing its object (create-only)
and then moving `received_bytes` from the chunk's offset to its end in one conditional UPDATE:
of two requests sending the same chunk, exactly one commits it.

Used by the REST API; finishing an upload goes through `ingest.ingest` like every other upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream import models
from imgstream.models import Upload, User, utcnow
from imgstream.services import ingest, quota
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
UPLOAD_EXPIRY = timedelta(hours=24)
# Chunk objects without an upload row younger than this may belong to a request still running.
ORPHAN_GRACE = timedelta(minutes=15)
# Spool files are written to continuously while a request runs; one untouched this long was left
# by a process that was killed.
SPOOL_GRACE = timedelta(hours=1)
_CHUNK_KEY = re.compile(
    r"incoming/(?P<owner>[0-9a-f-]{36})/(?P<upload>[0-9a-f-]{36})/(?P<offset>[0-9]{12})"
)


class UploadRefused(Exception):  # noqa: N818
    """An upload cannot start (empty, too large, or over the owner's quota)."""

    def __init__(self, message: str, *, too_large: bool = False):
        """Record why, for people.

        Args:
            message: The reason.
            too_large: Whether the file is too large (for the limit or the quota).
        """
        super().__init__(message)
        self.message = message
        self.too_large = too_large


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
    """An upload as its client sees it."""

    id: uuid.UUID
    filename: str
    size: int
    received: int


def chunk_prefix(owner_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    """The storage folder of an upload's chunks."""
    return f"{INCOMING_PREFIX}{owner_id}/{upload_id}"


def chunk_key(owner_id: uuid.UUID, upload_id: uuid.UUID, offset: int) -> str:
    """Storage key of the chunk that starts at `offset` (zero-padded, so keys sort by offset)."""
    return f"{chunk_prefix(owner_id, upload_id)}/{offset:012d}"


def _progress(upload: Upload) -> UploadProgress:
    return UploadProgress(upload.id, upload.filename, upload.size_bytes, upload.received_bytes)


def begin_upload(
    *, session: Session, owner: User, filename: str, size: int, max_bytes: int
) -> UploadProgress:
    """Start an upload of a file of announced size.

    Args:
        session: Database session.
        owner: The signed-in user (freshly loaded: their storage use is checked).
        filename: The name the browser gave the file (cleaned for display).
        size: The file's size in bytes.
        max_bytes: The largest file accepted.

    Returns:
        The new upload, nothing received yet.

    Raises:
        UploadRefused: An empty file, one over `max_bytes`, or one the owner's quota cannot hold.
    """
    name = display_name(filename)
    if size <= 0:
        raise UploadRefused("empty file")
    if size > max_bytes:
        raise UploadRefused(str(FileTooLarge(max_bytes)), too_large=True)
    if owner.used_bytes + size > owner.quota_bytes:
        raise UploadRefused(quota.quota_message(owner, size), too_large=True)
    upload = Upload(owner_id=owner.id, filename=name, size_bytes=size)
    session.add(upload)
    session.commit()
    return _progress(upload)


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
    session.rollback()
    if upload is None:
        raise UploadNotFound(upload_id)
    return _progress(upload)


async def receive_chunk(
    *,
    session: Session,
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
    storage work runs in worker threads.

    Args:
        session: Database session (used by one call at a time).
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
    before = await asyncio.to_thread(
        upload_status, session=session, owner_id=owner_id, upload_id=upload_id
    )
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
        return await asyncio.to_thread(
            _commit_chunk, session, storage, owner_id, upload_id, offset, chunk, sha256
        )
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
            with storage.open(chunk_key(owner_id, upload_id, offset)) as stored:
                while block := stored.read(READ_BLOCK_BYTES):
                    incoming.write(block)
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
    on_collision: models.CollisionChoice,
    decision_seconds: float | None,
    spool_dir: Path,
    max_bytes: int,
    thumbnail_size: int,
    preview_size: int,
    max_pixels: int,
) -> ingest.IngestResult:
    """Turn a fully received upload into a photo with `ingest.ingest`.

    When the outcome is a collision the person has to decide on, the upload and its chunks stay
    so the client can complete it again with a choice; after any other outcome they are removed.
    When ingest fails with an error they stay too, so completing can be retried.

    Args:
        session: Database session.
        storage: Where chunks and photos are.
        owner: The signed-in user.
        upload_id: Their upload.
        on_collision: What to do when the library has a photo of that name.
        decision_seconds: How long the person took to choose, when asked.
        spool_dir: Where the assembled file goes.
        max_bytes: The largest file accepted.
        thumbnail_size: Longest thumbnail edge.
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        The ingest's outcome.

    Raises:
        UploadNotFound: No such upload of this owner.
        UploadIncomplete: Bytes are missing (its `received` says where to continue).
    """
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
        on_collision=on_collision,
        decision_seconds=decision_seconds,
    )
    if result.status is not ingest.IngestStatus.COLLISION:
        _remove_upload(session, storage, owner.id, upload_id)
    return result


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
    removed = session.execute(
        sa.delete(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
    )
    session.commit()
    for key in list(storage.list(chunk_prefix(owner_id, upload_id))):
        delete_quietly(storage, [key])
    return removed.rowcount == 1


@dataclass
class SweepReport:
    """Uploads nobody finished, chunks without an upload, and spool files left by a crash."""

    stale_uploads: list[uuid.UUID] = field(default_factory=list)
    orphan_chunks: list[str] = field(default_factory=list)
    stale_spool_files: list[Path] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing needed removing."""
        return not (self.stale_uploads or self.orphan_chunks or self.stale_spool_files)


def sweep(
    *,
    session: Session,
    storage: Storage,
    spool_dir: Path | None,
    fix: bool,
    now: datetime | None = None,
    expiry: timedelta = UPLOAD_EXPIRY,
    grace: timedelta = ORPHAN_GRACE,
    spool_grace: timedelta = SPOOL_GRACE,
) -> SweepReport:
    """Find (and with `fix`, remove) what unfinished uploads left behind.

    Args:
        session: Database session.
        storage: Where chunks are.
        spool_dir: Where temporary upload files go; None to leave them alone.
        fix: Remove, rather than only report.
        now: The current time (for tests).
        expiry: Uploads not updated for this long are abandoned.
        grace: Chunk objects without an upload younger than this are left alone.
        spool_grace: Temporary files not written for this long are left over.

    Returns:
        The report.
    """
    report = SweepReport()
    moment = now or utcnow()
    stale = session.exec(select(Upload).where(Upload.updated_at < moment - expiry)).all()
    for upload in stale:
        report.stale_uploads.append(upload.id)
        if fix:
            _remove_upload(session, storage, upload.owner_id, upload.id)
    live = {upload_id: owner_id for upload_id, owner_id in
            session.exec(select(Upload.id, Upload.owner_id)).all()}
    session.rollback()
    for key in list(storage.list(INCOMING_PREFIX.rstrip("/"))):
        match = _CHUNK_KEY.fullmatch(key)
        if match is None:
            continue
        if live.get(uuid.UUID(match["upload"])) == uuid.UUID(match["owner"]):
            continue
        written = storage.modified(key)
        if written is not None and moment - written < grace:
            continue
        report.orphan_chunks.append(key)
        if fix:
            delete_quietly(storage, [key])
    if spool_dir is not None and spool_dir.is_dir():
        for path in sorted(spool_dir.iterdir()):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            written = datetime.fromtimestamp(stat.st_mtime, UTC)
            if not path.is_file() or moment - written < spool_grace:
                continue
            report.stale_spool_files.append(path)
            if fix:
                path.unlink(missing_ok=True)
    return report

