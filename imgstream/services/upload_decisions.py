"""A picked batch becomes uploads; taken names wait for the person's decision, timed here.

The upload page hands a picked batch to `accept_batch`: its names are checked against the
library in one query and one `Upload` row is begun per file (or the unfinished upload of the same
file is taken up again). A file whose name is taken either waits for a decision (the owner's
default is to ask: the row says when it was shown) or goes on with the owner's default choice.
`decide` applies the person's choice and records how long they took, measured between the two
moments on the server. The page, the REST API and the command line read the rows, never a copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import (
    UNFINISHED_UPLOAD_STATUSES,
    CollisionChoice,
    Photo,
    Upload,
    UploadStatus,
    User,
    as_utc,
    utcnow,
)
from imgstream.services import collisions, upload_progress, upload_receiving
from imgstream.services.collisions import CollisionOutcome
from imgstream.services.filenames import display_name
from imgstream.services.storage import Storage
from imgstream.services.upload_progress import UploadNotFound, UploadProgress
from imgstream.services.upload_receiving import UploadRefused


@dataclass(frozen=True, slots=True)
class PickedFile:
    """A file the person picked, as their browser describes it.

    `key` is the browser's name for the file until it has an upload.
    """

    key: str
    filename: str
    size: int
    file_modified_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AcceptedFile:
    """What became of one picked file: its upload, or why it was refused.

    `taken_by` is the photo of the library that has its name, when the name is taken.
    `resumed` says the upload was begun before (the same file picked again).
    """

    key: str
    filename: str
    size: int
    upload: UploadProgress | None = None
    refused: str = ""
    taken_by: Photo | None = None
    resumed: bool = False


def accept_batch(
    *,
    session: Session,
    owner: User,
    files: list[PickedFile],
    max_bytes: int,
    max_open: int = upload_receiving.MAX_OPEN_UPLOADS,
    resumable: frozenset[uuid.UUID] = frozenset(),
    now: datetime | None = None,
) -> list[AcceptedFile]:
    """Begin the uploads of a picked batch, with its names checked in one query.

    A file picked again (same name, size and modification time as one of the `resumable`
    uploads) takes its upload up again, from the bytes that arrived. Only uploads the page
    offers to resume qualify: another page of the owner may be sending a file just like it. A new
    upload whose name is taken is recorded as a collision; with the owner's default choice to
    ask it waits for a decision, to skip it is skipped at once, else it goes on with that choice.

    Args:
        session: Database session.
        owner: The signed-in user.
        files: The batch, in the order picked.
        max_bytes: The largest file accepted.
        max_open: How many unfinished uploads the owner may have (files past it are refused).
        resumable: Unfinished uploads the page offers to resume.
        now: The moment the batch is shown to the person (for tests).

    Returns:
        One entry per file, in order.
    """
    moment = now or utcnow()
    names = [display_name(picked.filename) for picked in files]
    taken = collisions.find_collisions(session=session, owner_id=owner.id, names=names)
    unfinished = [upload for upload in _unfinished_rows(session, owner.id)
                  if upload.id in resumable] if resumable else []
    accepted = []
    for picked, name in zip(files, names, strict=True):
        again = next((upload for upload in unfinished
                      if (upload.filename, upload.size_bytes, upload.file_modified_ms)
                      == (name, picked.size, picked.file_modified_ms)), None)
        if again is not None:
            unfinished.remove(again)
            accepted.append(AcceptedFile(picked.key, name, picked.size,
                                         upload_progress.progress_of(again),
                                         taken_by=_photo(session, owner.id, again.photo_id),
                                         resumed=True))
            continue
        try:
            upload = upload_receiving.begin_upload(
                session=session, owner=owner, filename=name, size=picked.size,
                max_bytes=max_bytes, max_open=max_open,
                file_modified_ms=picked.file_modified_ms)
        except UploadRefused as refused:
            accepted.append(AcceptedFile(picked.key, name, picked.size,
                                         refused=f"rejected: {refused.message}"))
            continue
        photo = taken.get(name)
        if photo is not None:
            upload = _taken(session, owner.id, upload, photo, moment)
        accepted.append(AcceptedFile(picked.key, name, picked.size, upload, taken_by=photo))
    return accepted


def _taken(session: Session, owner_id: uuid.UUID, upload: UploadProgress, photo: Photo,
           moment: datetime) -> UploadProgress:
    collisions.record_collision(session=session, owner_id=owner_id, filename=upload.filename,
                                outcome=CollisionOutcome.DETECTED)
    found = {"photo_id": photo.id, "photo_filename": photo.filename}
    if upload.collision_choice is CollisionChoice.ASK:
        _set(session, owner_id, upload.id, status=UploadStatus.NEEDS_DECISION.value,
             asked_at=moment, **found)
    elif upload.collision_choice is CollisionChoice.SKIP:
        collisions.record_collision(session=session, owner_id=owner_id,
                                    filename=upload.filename, outcome=CollisionOutcome.SKIPPED)
        upload_progress.finish_upload(session, owner_id, upload.id, status=UploadStatus.SKIPPED,
                                      message=collisions.skipped_message(photo.filename), **found)
    else:
        _set(session, owner_id, upload.id, **found)
    return upload_progress.upload_status(session=session, owner_id=owner_id, upload_id=upload.id)


def decide(
    *,
    session: Session,
    storage: Storage,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    choice: CollisionChoice,
    now: datetime | None = None,
) -> UploadProgress:
    """Apply the person's choice to an upload whose name is taken, timing the decision.

    The time from showing the taken name (`asked_at`) to now is kept on the upload and goes into
    the owner's collision statistics. Skipping finishes the upload at once (its chunks go);
    another choice lets it go on: it is sent, or when every byte is there, completed.

    Args:
        session: Database session.
        storage: Where its chunks are.
        owner_id: The signed-in user.
        upload_id: Their upload.
        choice: Skip, replace or keep both.
        now: The moment of the decision (for tests).

    Returns:
        The upload as it is now (unchanged when it was not waiting for a decision).

    Raises:
        UploadNotFound: No such upload of this owner.
        ValueError: `choice` is to ask.
    """
    if choice is CollisionChoice.ASK:
        raise ValueError("a decision cannot be to ask")
    row = session.exec(
        select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        session.rollback()
        raise UploadNotFound(upload_id)
    if row.status != UploadStatus.NEEDS_DECISION.value:
        current = upload_progress.progress_of(row)
        session.rollback()
        return current
    asked = as_utc(row.asked_at) if row.asked_at else None
    moment = now or utcnow()
    seconds = round(max(0.0, (moment - asked).total_seconds()), 2) if asked else None
    if choice is CollisionChoice.SKIP:
        filename, photo_filename = row.filename, row.photo_filename
        session.rollback()
        collisions.record_collision(session=session, owner_id=owner_id, filename=filename,
                                    outcome=CollisionOutcome.SKIPPED, decision_seconds=seconds)
        upload_progress.finish_upload(session, owner_id, upload_id, status=UploadStatus.SKIPPED,
                                      asked_at=None, collision_choice=choice.value,
                                      decision_seconds=seconds,
                                      message=collisions.skipped_message(photo_filename))
        upload_receiving.remove_chunks(storage=storage, owner_id=owner_id, upload_id=upload_id)
    else:
        session.rollback()
        _set(session, owner_id, upload_id, status=UploadStatus.UPLOADING.value, asked_at=None,
             collision_choice=choice.value, decision_seconds=seconds, message="")
    return upload_progress.upload_status(session=session, owner_id=owner_id, upload_id=upload_id)


def unfinished_uploads(*, session: Session, owner_id: uuid.UUID) -> list[UploadProgress]:
    """The owner's uploads that have no outcome yet, oldest first."""
    rows = [upload_progress.progress_of(row) for row in _unfinished_rows(session, owner_id)]
    session.rollback()
    return rows


def uploads_of(*, session: Session, owner_id: uuid.UUID,
               upload_ids: list[uuid.UUID]) -> dict[uuid.UUID, UploadProgress]:
    """Some of the owner's uploads, by id (the ones that are gone are left out)."""
    if not upload_ids:
        return {}
    rows = session.exec(
        select(Upload).where(Upload.owner_id == owner_id, Upload.id.in_(upload_ids))
        .execution_options(populate_existing=True)
    ).all()
    found = {row.id: upload_progress.progress_of(row) for row in rows}
    session.rollback()
    return found


def _unfinished_rows(session: Session, owner_id: uuid.UUID) -> list[Upload]:
    return list(session.exec(
        select(Upload)
        .where(Upload.owner_id == owner_id,
               Upload.status.in_([status.value for status in UNFINISHED_UPLOAD_STATUSES]))
        .order_by(Upload.created_at, Upload.id)
        .execution_options(populate_existing=True)
    ).all())


def _photo(session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID | None) -> Photo | None:
    if photo_id is None:
        return None
    return session.exec(
        select(Photo).where(Photo.id == photo_id, Photo.owner_id == owner_id)
    ).first()


def _set(session: Session, owner_id: uuid.UUID, upload_id: uuid.UUID, **values: object) -> None:
    session.execute(
        sa.update(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
        .values(updated_at=utcnow(), **values)
    )
    session.commit()
