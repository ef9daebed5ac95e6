"""An upload as its clients see it, read from and finished on its `Upload` row.

The `Upload` row is the upload for every client (the upload page, the REST API): it records how
many bytes have arrived, holds the collision choice and the decision time the server measured
(see `upload_decisions`) and, once completed, the outcome. While it is unfinished its announced
size is held against the owner's quota. Beginning an upload and receiving its chunks is
`upload_receiving`; joining the chunks into a photo is `upload_completion`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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


class UploadNotFound(Exception):  # noqa: N818
    """No such upload of this owner (finished, cancelled, expired, or someone else's)."""


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


def progress_of(upload: Upload) -> UploadProgress:
    """An upload row as its clients see it."""
    return UploadProgress(
        upload.id, upload.filename, upload.size_bytes, upload.received_bytes,
        status=UploadStatus(upload.status),
        collision_choice=CollisionChoice(upload.collision_choice),
        message=upload.message, photo_id=upload.photo_id, photo_filename=upload.photo_filename,
        in_trash=upload.in_trash, decision_seconds=upload.decision_seconds,
    )


def find_upload(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID) -> Upload | None:
    """The owner's upload row, read afresh (in the caller's transaction); None if none."""
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
    upload = find_upload(session, owner_id, upload_id)
    # Read before the rollback: it expires the row, and reading an expired row would begin a
    # new transaction that keeps the connection checked out.
    progress = None if upload is None else progress_of(upload)
    session.rollback()
    if progress is None:
        raise UploadNotFound(upload_id)
    return progress


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
        release_reservation(session, owner_id, finished[0])
    session.commit()


def release_reservation(session: Session, owner_id: uuid.UUID, size: int) -> None:
    """Give back what an unfinished upload held against the quota (in the caller's commit)."""
    session.execute(
        sa.update(User).where(User.id == owner_id)
        .values(reserved_bytes=sa.case((User.reserved_bytes > size,
                                        User.reserved_bytes - size), else_=0))
    )
