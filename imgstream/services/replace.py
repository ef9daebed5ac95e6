"""Replacing a photo's original with a new upload of the same name, keeping who the photo is."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from imgstream.models import Photo, Rendition, User, utcnow
from imgstream.services import imaging
from imgstream.services.object_keys import original_key
from imgstream.services.photo_metadata import metadata_values
from imgstream.services.quota import charge
from imgstream.services.renditions import photo_blobs, rendition_rows
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import ObjectExists, Storage, delete_quietly


class ChangedMeanwhile(Exception):  # noqa: N818
    """Another replacement (or a trash) of the photo got there first."""


def replace_original(
    *,
    session: Session,
    storage: Storage,
    owner: User,
    target: Photo,
    upload: IncomingFile,
    sha256: str,
    analysis: imaging.ImageAnalysis,
) -> None:
    """Swap a photo's original and renditions for the upload's, keeping who the photo is.

    Its id, name, title, description, favourite, albums and upload date stay; what is read
    from the image (date taken, size, camera, ...) is read again. The new objects are written
    under the next revision's keys and the row is switched in one short transaction; until
    then, and whenever anything fails, the old photo is untouched. The old objects go after the
    commit (a crash there leaves objects `reconcile` removes).

    Args:
        session: Database session (no transaction open).
        storage: Where photo bytes go.
        owner: The signed-in user.
        target: The photo to replace.
        upload: The received file.
        sha256: Hex digest of its bytes.
        analysis: The upload's analysis.

    Raises:
        ChangedMeanwhile: The photo was replaced or trashed while this one was processed.
        OverQuota: The new original does not fit the owner's quota.
        IntegrityError: Another photo of the owner has these bytes (a parallel upload).
    """
    old_blobs = photo_blobs(session=session, storage=storage, photo=target)
    owner_id, photo_id, old_revision = owner.id, target.id, target.revision
    staged = Photo(id=photo_id, owner_id=owner_id, filename=target.filename,
                   revision=old_revision + 1, uploaded_at=target.uploaded_at)
    session.commit()  # no transaction stays open while objects are written
    revision = staged.revision
    written: list[str] = []
    try:
        key = original_key(owner_id, photo_id, analysis.format.extension, revision)
        upload.store(storage, key)
        written.append(key)
        staged = Photo(id=photo_id, owner_id=owner_id, filename=staged.filename,
                       revision=revision, uploaded_at=staged.uploaded_at, sha256=sha256,
                       format=analysis.format.name, mime=analysis.format.mime,
                       size_bytes=upload.size, width=analysis.width, height=analysis.height,
                       taken_at=staged.uploaded_at, taken_at_source="upload_time")
        renditions = rendition_rows(staged, analysis, original=key, original_bytes=upload.size)
        for rendition, data in renditions:
            if data is not None:
                storage.put_bytes(rendition.key, data)
                written.append(rendition.key)
        needed = upload.size + sum(len(data) for _, data in renditions if data is not None)
        switched = session.execute(
            sa.update(Photo)
            .where(Photo.id == photo_id, Photo.revision == old_revision,
                   Photo.deleted_at.is_(None))
            .values(revision=revision, sha256=sha256, format=staged.format, mime=staged.mime,
                    size_bytes=staged.size_bytes, width=staged.width, height=staged.height,
                    rotation=0, updated_at=utcnow(), **metadata_values(staged, analysis))
        )
        if switched.rowcount != 1:
            raise ChangedMeanwhile
        session.execute(sa.delete(Rendition).where(Rendition.photo_id == photo_id))
        session.add_all([rendition for rendition, _ in renditions])
        delta = needed - sum(old_blobs.values())
        if delta > 0:
            charge(session, owner_id, delta)
        else:
            session.execute(sa.update(User).where(User.id == owner_id)
                            .values(used_bytes=User.used_bytes + delta))
        session.commit()
    except ObjectExists:
        # A replacement that crashed left objects at these keys (reconcile removes them).
        session.rollback()
        delete_quietly(storage, written)
        raise ChangedMeanwhile from None
    except BaseException:
        session.rollback()
        delete_quietly(storage, written)
        raise
    delete_quietly(storage, [key for key in old_blobs if key not in written])
    session.refresh(target)
