"""What the upload queue reads and writes of the person's uploads, run in a worker thread.

Dialog items of collisions (the new file beside the photo that has its name), the batch's
acceptance, decisions, discards, and the rows read back for the queue (state.upload).
"""

from __future__ import annotations

import uuid

from imgstream import models, presentation
from imgstream.config import get_settings
from imgstream.models import CollisionChoice, Photo, RenditionKind
from imgstream.presentation import format_bytes
from imgstream.runtime import NoSuchUser, db_session, owner_session, storage
from imgstream.services import renditions, timeline, trash, upload_progress, upload_receiving
from imgstream.services import upload_decisions as decisions
from imgstream.services.photo_urls import url_or_none
from imgstream.services.upload_progress import UploadProgress
from imgstream.state.upload_rows import CollisionItem, S


def _existing_side(key: str, new_name: str, size: int, preview: str,
                   photo: Photo, thumb_key: str) -> CollisionItem:
    return CollisionItem(
        key=key,
        new_name=new_name,
        new_size_label=format_bytes(size),
        new_preview=preview,
        existing_id=str(photo.id),
        existing_name=photo.filename,
        existing_thumbnail_url=url_or_none(storage=storage(), key=thumb_key) or "",
        existing_taken_label=presentation.taken_at_local(photo).strftime("%-d %b %Y, %H:%M"),
        existing_uploaded_label=models.as_utc(photo.uploaded_at).strftime("%-d %b %Y"),
        existing_size_label=format_bytes(photo.size_bytes),
    )


def _items(session, owner_id: uuid.UUID,
           taken: list[tuple[str, str, int, str, Photo]]) -> dict[str, CollisionItem]:
    """Dialog items (key, name, size, preview, photo with the name) with their thumbnails."""
    thumbs = renditions.renditions_of(session=session,
                                      photo_ids=[photo.id for *_, photo in taken])
    return {key: _existing_side(key, name, size, preview, photo, renditions.thumbnail_of(
                photo, thumbs.get((photo.id, RenditionKind.THUMB))))
            for key, name, size, preview, photo in taken}


def accept(owner_id: uuid.UUID, files: list[decisions.PickedFile], previews: dict[str, str],
            resumable: frozenset[uuid.UUID]
            ) -> tuple[list[decisions.AcceptedFile], dict[str, CollisionItem]] | None:
    """Begin the batch's uploads; the dialog items of those waiting for a decision, by key."""
    try:
        with owner_session(owner_id) as (session, owner):
            settings = get_settings()
            accepted = decisions.accept_batch(session=session, owner=owner, files=files,
                                              max_bytes=settings.max_upload_bytes,
                                              max_open=settings.max_open_uploads,
                                              resumable=resumable)
            asking = [(str(a.upload.id), a.filename, a.size, previews.get(a.key, ""),
                       a.taken_by)
                      for a in accepted if a.upload and a.taken_by is not None
                      and a.upload.status is S.NEEDS_DECISION]
            return accepted, _items(session, owner_id, asking) if asking else {}
    except NoSuchUser:
        return None


def collision_with(owner_id: uuid.UUID, upload: UploadProgress,
                    preview: str) -> CollisionItem | None:
    """The dialog item for an upload whose name was taken while it was being sent."""
    if upload.photo_id is None:
        return None
    with db_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=upload.photo_id)
        if photo is None:
            return None
        key = str(upload.id)
        return _items(session, owner_id, [(key, upload.filename, upload.size, preview,
                                           photo)])[key]


def uploads(owner_id: uuid.UUID, keys: list[str]) -> dict[str, UploadProgress]:
    """The person's uploads of these keys (those that are upload ids), by key."""
    ids = [uuid.UUID(key) for key in keys if is_upload_id(key)]
    with db_session() as session:
        found = decisions.uploads_of(session=session, owner_id=owner_id, upload_ids=ids)
    return {str(upload_id): upload for upload_id, upload in found.items()}


def unfinished(owner_id: uuid.UUID) -> list[UploadProgress]:
    """The person's uploads that have not ended yet."""
    with db_session() as session:
        return decisions.unfinished_uploads(session=session, owner_id=owner_id)


def decide(owner_id: uuid.UUID, keys: list[str], choice: CollisionChoice
            ) -> dict[str, UploadProgress]:
    """Apply a collision choice to these uploads; those still there, by key."""
    decided = {}
    with db_session() as session:
        for key in keys:
            try:
                decided[key] = decisions.decide(session=session, storage=storage(),
                                                owner_id=owner_id, upload_id=uuid.UUID(key),
                                                choice=choice)
            except upload_progress.UploadNotFound:
                continue
    return decided


def discard(owner_id: uuid.UUID, keys: list[str]) -> None:
    """Cancel these uploads: nothing of them is kept."""
    with db_session() as session:
        for key in keys:
            if is_upload_id(key):
                upload_receiving.cancel_upload(session=session, storage=storage(),
                                              owner_id=owner_id, upload_id=uuid.UUID(key))


def restore(owner_id: uuid.UUID, photo_id: str) -> str | None:
    """Take a photo out of the trash; its filename, or None when it is not there."""
    with db_session() as session:
        photo = trash.restore_photo(session=session, owner_id=owner_id,
                                     photo_id=uuid.UUID(photo_id))
        return photo.filename if photo else None


def is_upload_id(key: str) -> bool:
    """Whether a row's key is an upload id (not the browser's key of a refused file)."""
    try:
        uuid.UUID(key)
    except ValueError:
        return False
    return True
