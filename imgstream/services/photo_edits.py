"""Changes a person makes to their photos: favourite, title, description, date taken, rotation.

The original file is never touched: a rotation is an override kept on the row, and only the
renditions are made again from the original with it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from imgstream.models import Photo, Rendition, User, as_utc, local_day, utcnow
from imgstream.services import imaging
from imgstream.services.object_keys import original_of
from imgstream.services.renditions import rendition_rows
from imgstream.services.storage import Storage, delete_quietly

MAX_TITLE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 5000
MAX_OFFSET_MINUTES = 14 * 60
"""UTC offsets run from -12:00 to +14:00; either sign up to 14 hours is accepted."""
EARLIEST_TAKEN = datetime(1826, 1, 1, tzinfo=UTC)
"""No photograph is older than this."""
MAX_SHIFT = timedelta(days=100 * 366)
MAX_BATCH = 10_000
"""Photos changed by one request, at most."""
EDITED_SOURCE = "edited"
"""`Photo.taken_at_source` of a date set by hand."""


class PhotoEditError(ValueError):
    """A change that cannot be made; the message says why, for people."""


class PhotoNotFound(LookupError):  # noqa: N818 - the domain name for "no such photo"
    """The photo is not in the person's library (missing, someone else's, or in the trash)."""


def _photo(session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID) -> Photo:
    photo = session.exec(
        select(Photo).where(Photo.id == photo_id, Photo.owner_id == owner_id,
                            Photo.deleted_at.is_(None))
    ).first()
    if photo is None:
        raise PhotoNotFound(f"photo {photo_id} is not in the library")
    return photo


def _batch(photo_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(photo_ids))
    if len(unique) > MAX_BATCH:
        raise PhotoEditError(f"At most {MAX_BATCH} photos can be changed at once.")
    return unique


def _clean_text(value: str, *, limit: int, what: str, multiline: bool) -> str:
    if not isinstance(value, str):
        raise PhotoEditError(f"The {what} must be text.")
    text = unicodedata.normalize("NFC", value).strip()
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise PhotoEditError(f"The {what} contains control characters.")
    if len(text) > limit:
        raise PhotoEditError(f"The {what} is longer than {limit} characters.")
    return text


def set_favorite(
    *, session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID], favorite: bool
) -> int:
    """Mark photos of the owner's library as favourites, or not.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_ids: The photos (one or many); ids that are not in the library are ignored.
        favorite: Whether they are favourites.

    Returns:
        How many photos of the library were changed (already so counts as unchanged).

    Raises:
        PhotoEditError: For more than MAX_BATCH photos.
    """
    ids = _batch(photo_ids)
    if not ids:
        return 0
    changed = session.execute(
        sa.update(Photo)
        .where(Photo.id.in_(ids), Photo.owner_id == owner_id, Photo.deleted_at.is_(None),
               Photo.favorite.is_not(favorite))
        .values(favorite=favorite, updated_at=utcnow())
    )
    session.commit()
    return changed.rowcount


def set_title(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID,
              title: str) -> Photo:
    """Give a photo a title (empty removes it); surrounding spaces are dropped.

    Raises:
        PhotoNotFound: When the photo is not in the owner's library.
        PhotoEditError: For a title over MAX_TITLE_LENGTH characters or with control
            characters.
    """
    text = _clean_text(title, limit=MAX_TITLE_LENGTH, what="title", multiline=False)
    return _update(session, owner_id, photo_id, title=text)


def set_description(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID,
                    description: str) -> Photo:
    """Give a photo a description (several lines allowed; empty removes it).

    Raises:
        PhotoNotFound: When the photo is not in the owner's library.
        PhotoEditError: For a description over MAX_DESCRIPTION_LENGTH characters or with
            control characters other than line breaks and tabs.
    """
    text = _clean_text(description, limit=MAX_DESCRIPTION_LENGTH, what="description",
                       multiline=True)
    return _update(session, owner_id, photo_id, description=text)


def check_offset(offset_minutes: int) -> int:
    """A UTC offset in minutes, checked.

    Raises:
        PhotoEditError: Outside ±14 hours, or not a whole number of minutes.
    """
    if isinstance(offset_minutes, bool) or not isinstance(offset_minutes, int):
        raise PhotoEditError("The time zone offset must be a whole number of minutes.")
    if abs(offset_minutes) > MAX_OFFSET_MINUTES:
        raise PhotoEditError("The time zone offset must be within 14 hours of UTC.")
    return offset_minutes


def _check_moment(moment: datetime) -> datetime:
    latest = utcnow() + timedelta(days=2)
    if not EARLIEST_TAKEN <= moment <= latest:
        raise PhotoEditError(
            f"The date taken must be between {EARLIEST_TAKEN.year} and today."
        )
    return moment


def set_taken_at(
    *, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID, local: datetime,
    offset_minutes: int,
) -> Photo:
    """Set when a photo was taken: the clock where it was taken, and that clock's UTC offset.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_id: The photo.
        local: The local date and time (naive; an aware value is read as its wall clock).
        offset_minutes: The UTC offset of that clock, in minutes (+120 for UTC+02:00).

    Returns:
        The photo as it is now.

    Raises:
        PhotoNotFound: When the photo is not in the owner's library.
        PhotoEditError: For an offset beyond ±14 h, or a date before 1826 or in the future.
    """
    offset = check_offset(offset_minutes)
    if not isinstance(local, datetime):
        raise PhotoEditError("The date taken must be a date and time.")
    moment = local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)
    return _update(session, owner_id, photo_id, taken_at=_check_moment(moment),
                   taken_at_offset_minutes=offset, taken_at_source=EDITED_SOURCE)


def shift_taken_at(
    *, session: Session, owner_id: uuid.UUID, photo_ids: list[uuid.UUID], by: timedelta
) -> int:
    """Move the date taken of photos by the same amount (a camera clock set wrong).

    Each photo keeps its own time zone; the shift applies to its instant, so its local time
    moves by the same amount.

    Args:
        session: Database session.
        owner_id: The signed-in user.
        photo_ids: The photos; ids not in the library are ignored.
        by: How far to move them (negative for earlier).

    Returns:
        How many photos moved.

    Raises:
        PhotoEditError: For a shift over 100 years, more than MAX_BATCH photos, or one that
            would put a photo before 1826 or in the future (then none moves).
    """
    if not isinstance(by, timedelta):
        raise PhotoEditError("The shift must be a duration.")
    if abs(by) > MAX_SHIFT:
        raise PhotoEditError("A date can be shifted by at most 100 years.")
    ids = _batch(photo_ids)
    if not ids or not by:
        return 0
    rows = session.exec(
        select(Photo.id, Photo.taken_at, Photo.taken_at_offset_minutes).where(
            Photo.id.in_(ids), Photo.owner_id == owner_id, Photo.deleted_at.is_(None)
        )
    ).all()
    now = utcnow()
    values = []
    for pid, taken, offset in rows:
        moment = _check_moment(as_utc(taken) + by)
        day = local_day(moment, offset)
        values.append({"pid": pid, "moment": moment, "day": day, "month": day[:7]})
    if values:
        table = Photo.__table__
        session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("pid"), table.c.owner_id == owner_id)
            .values(taken_at=sa.bindparam("moment"), taken_day=sa.bindparam("day"),
                    taken_month=sa.bindparam("month"), taken_at_source=EDITED_SOURCE,
                    updated_at=now),
            values,
        )
    session.commit()
    return len(values)


@dataclass(frozen=True, slots=True)
class PhotoChanges:
    """Several changes to one photo at once (a PATCH); None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    favorite: bool | None = None
    taken_at_local: datetime | None = None
    """With `taken_at_offset_minutes`, or the photo's current offset (UTC when unknown)."""
    taken_at_offset_minutes: int | None = None


def edit_photo(*, session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID,
               changes: PhotoChanges) -> Photo:
    """Apply several changes to one photo in one transaction; all or nothing.

    Raises:
        PhotoNotFound: When the photo is not in the owner's library.
        PhotoEditError: When any change is refused (nothing is changed then).
    """
    values: dict[str, object] = {}
    if changes.title is not None:
        values["title"] = _clean_text(changes.title, limit=MAX_TITLE_LENGTH, what="title",
                                      multiline=False)
    if changes.description is not None:
        values["description"] = _clean_text(changes.description, limit=MAX_DESCRIPTION_LENGTH,
                                            what="description", multiline=True)
    if changes.favorite is not None:
        if not isinstance(changes.favorite, bool):
            raise PhotoEditError("Favourite must be true or false.")
        values["favorite"] = changes.favorite
    if changes.taken_at_local is not None or changes.taken_at_offset_minutes is not None:
        photo = _photo(session, owner_id, photo_id)
        offset = changes.taken_at_offset_minutes
        if offset is None:
            offset = photo.taken_at_offset_minutes or 0
        offset = check_offset(offset)
        local = changes.taken_at_local
        if local is None:
            zone = timezone(timedelta(minutes=photo.taken_at_offset_minutes or 0))
            local = as_utc(photo.taken_at).astimezone(zone)
        moment = local.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)
        values.update(taken_at=_check_moment(moment), taken_at_offset_minutes=offset,
                      taken_at_source=EDITED_SOURCE)
    return _update(session, owner_id, photo_id, **values)


def _update(session: Session, owner_id: uuid.UUID, photo_id: uuid.UUID,
            **values: object) -> Photo:
    photo = _photo(session, owner_id, photo_id)
    if values:
        for name, value in values.items():
            setattr(photo, name, value)
        photo.updated_at = utcnow()
        session.add(photo)
        session.commit()
        session.refresh(photo)
    return photo


class RotationConflict(PhotoEditError):
    """The photo was rotated or replaced by another request meanwhile; try again."""


def rotate(
    *, session: Session, storage: Storage, owner_id: uuid.UUID, photo_id: uuid.UUID,
    quarter_turns: int = 1, spool_dir: Path, thumbnail_size: int, preview_size: int,
    max_pixels: int,
) -> Photo:
    """Turn a photo by quarter turns clockwise (negative: counter-clockwise).

    The turn is kept as an override on the row; the thumbnail and preview are made again
    from the original (under new keys, written before the rows switch over) and the old ones
    deleted after. The original's bytes never change, so its download stays the same file.

    Args:
        session: Database session.
        storage: Where photo bytes are.
        owner_id: The signed-in user.
        photo_id: The photo.
        quarter_turns: How many quarter turns clockwise (1 for 90° right, -1 for left).
        spool_dir: Scratch directory for a copy of the original.
        thumbnail_size: Longest thumbnail edge.
        preview_size: Longest preview edge.
        max_pixels: Pixel cap checked before decoding.

    Returns:
        The photo as it is now, its width and height swapped for an odd number of turns.

    Raises:
        PhotoNotFound: When the photo is not in the owner's library.
        PhotoEditError: For a turn count that is not a whole number.
        RotationConflict: When the photo changed meanwhile (nothing is changed then).
        imaging.UnsupportedImage: When the original cannot be decoded any more.
    """
    if isinstance(quarter_turns, bool) or not isinstance(quarter_turns, int):
        raise PhotoEditError("A rotation is a whole number of quarter turns.")
    photo = _photo(session, owner_id, photo_id)
    if quarter_turns % 4 == 0:
        return photo
    old_rotation, revision = photo.rotation, photo.revision
    rotation = (old_rotation + 90 * quarter_turns) % 360
    old_renditions = list(session.exec(select(Rendition).where(Rendition.photo_id == photo.id)))
    original = original_of(photo)
    session.commit()  # no transaction stays open while decoding and writing objects
    analysis = _analyse_original(storage, original, spool_dir, rotation // 90,
                                 thumbnail_size=thumbnail_size, preview_size=preview_size,
                                 max_pixels=max_pixels)
    edit = f"~r{rotation}-{uuid.uuid4().hex[:8]}"
    rows = rendition_rows(photo, analysis, original=original, original_bytes=photo.size_bytes,
                          edit=edit)
    written: list[str] = []
    try:
        for rendition, data in rows:
            if data is not None:
                storage.put_bytes(rendition.key, data)
                written.append(rendition.key)
        switched = session.execute(
            sa.update(Photo)
            .where(Photo.id == photo.id, Photo.rotation == old_rotation,
                   Photo.revision == revision, Photo.deleted_at.is_(None))
            .values(rotation=rotation, width=analysis.width, height=analysis.height,
                    thumbhash=analysis.thumbhash, updated_at=utcnow())
        )
        if switched.rowcount != 1:
            raise RotationConflict("The photo changed meanwhile; try again.")
        session.execute(sa.delete(Rendition).where(Rendition.photo_id == photo.id))
        for rendition, _data in rows:
            session.add(rendition)
        old_bytes = sum(r.size_bytes for r in old_renditions if r.key != original)
        session.execute(
            sa.update(User).where(User.id == owner_id)
            .values(used_bytes=User.used_bytes + sum(map(len, _datas(rows))) - old_bytes)
        )
        session.commit()
    except BaseException:
        session.rollback()
        delete_quietly(storage, written)
        raise
    kept = {rendition.key for rendition, _ in rows} | {original}
    delete_quietly(storage, [r.key for r in old_renditions if r.key not in kept])
    session.refresh(photo)
    return photo


def _datas(rows: list[tuple[Rendition, bytes | None]]) -> list[bytes]:
    return [data for _, data in rows if data is not None]


def _analyse_original(storage: Storage, key: str, spool_dir: Path, quarter_turns: int,
                      **sizes: int) -> imaging.ImageAnalysis:
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="rotate-", dir=spool_dir)
    copy = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, storage.open(key) as original:
            shutil.copyfileobj(original, out, 1024 * 1024)
        return imaging.analyse(copy, quarter_turns=quarter_turns, **sizes)
    finally:
        copy.unlink(missing_ok=True)
