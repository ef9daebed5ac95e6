"""Beginning an upload and receiving its chunks, one request each; cancelling it.

A file arrives over several requests and resumes after an interruption. Each committed chunk is
an object in photo storage at `incoming/{owner}/{upload}/{offset}`, so whichever instance takes
the next request can continue or finish the upload; the `Upload` row records how many bytes have
arrived. A chunk is committed by writing its object (create-only) and then moving
`received_bytes` from the chunk's offset to its end in one conditional UPDATE: of two requests
sending the same chunk, exactly one commits it. Joining the chunks is `upload_completion`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import AsyncIterable, Callable
from contextlib import AbstractContextManager
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
from imgstream.services import collisions, quota
from imgstream.services.filenames import display_name
from imgstream.services.spooling import FileTooLarge, IncomingFile
from imgstream.services.storage import (
    INCOMING_PREFIX,
    ObjectExists,
    ObjectMissing,
    Storage,
    delete_quietly,
)
from imgstream.services.upload_progress import (
    UploadNotFound,
    UploadProgress,
    find_upload,
    progress_of,
    release_reservation,
    upload_status,
)

READ_BLOCK_BYTES = 1024 * 1024
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


def chunk_prefix(owner_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    """The storage folder of an upload's chunks."""
    return f"{INCOMING_PREFIX}{owner_id}/{upload_id}"


def chunk_key(owner_id: uuid.UUID, upload_id: uuid.UUID, offset: int) -> str:
    """Storage key of the chunk that starts at `offset` (zero-padded, so keys sort by offset)."""
    return f"{chunk_prefix(owner_id, upload_id)}/{offset:012d}"


def parse_chunk_key(key: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The owner and upload a chunk object belongs to; None for any other key."""
    match = _CHUNK_KEY.fullmatch(key)
    if match is None:
        return None
    return uuid.UUID(match["owner"]), uuid.UUID(match["upload"])


def chunk_offsets(storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID) -> list[int]:
    """The offsets of an upload's stored chunks, in order."""
    return [offset for offset, _size in chunk_sizes(storage, owner_id, upload_id)]


def chunk_sizes(storage: Storage, owner_id: uuid.UUID,
                upload_id: uuid.UUID) -> list[tuple[int, int]]:
    """(offset, bytes) of an upload's stored chunks, in order, from one listing."""
    chunks = []
    for key, size in storage.sizes(chunk_prefix(owner_id, upload_id)).items():
        match = _CHUNK_KEY.fullmatch(key)
        if match:
            chunks.append((int(match["offset"]), size))
    return sorted(chunks)


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
    after = find_upload(session, owner_id, upload_id)
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


def remove_chunks(*, storage: Storage, owner_id: uuid.UUID, upload_id: uuid.UUID,
                  keys: list[str] | None = None) -> None:
    """Remove the stored chunks of an upload (its row stays).

    Args:
        storage: Where the chunks are.
        owner_id: The upload's owner.
        upload_id: The upload.
        keys: The chunks, when just listed; else they are listed (what is left behind is
            the sweep's).
    """
    for key in list(storage.list(chunk_prefix(owner_id, upload_id))) if keys is None else keys:
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
        release_reservation(session, owner_id, row[0])
    session.commit()
    remove_chunks(storage=storage, owner_id=owner_id, upload_id=upload_id)
    return removed.rowcount == 1
