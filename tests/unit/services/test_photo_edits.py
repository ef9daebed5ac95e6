"""Favourites, titles, descriptions, dates taken and rotation of photos."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from imgstream.models import Photo, Rendition, RenditionKind, User
from imgstream.services import identity, ingest, object_keys, photo_edits, trash
from imgstream.services.photo_edits import PhotoChanges, PhotoEditError, PhotoNotFound
from tests import images
from tests.photo_rows import add_row
from tests.unit.services.test_ingest import add_photo

SIZES = {"thumbnail_size": 400, "preview_size": 1440, "max_pixels": 10**8}


def test_favourite_one_or_many_only_in_the_owners_library(session, owner):
    other = identity.provision_user(session=session, email="bob@example.com")
    a, b = add_row(session, owner.id, "a.jpg"), add_row(session, owner.id, "b.jpg")
    theirs = add_row(session, other.id, "c.jpg")
    assert photo_edits.set_favorite(session=session, owner_id=owner.id,
                                    photo_ids=[a.id, b.id, theirs.id, a.id],
                                    favorite=True) == 2
    assert photo_edits.set_favorite(session=session, owner_id=owner.id, photo_ids=[a.id],
                                    favorite=True) == 0, "already a favourite"
    for photo in (a, b, theirs):
        session.refresh(photo)
    assert (a.favorite, b.favorite, theirs.favorite) == (True, True, False)
    assert photo_edits.set_favorite(session=session, owner_id=owner.id, photo_ids=[b.id],
                                    favorite=False) == 1
    session.refresh(b)
    assert b.favorite is False


def test_title_and_description_are_cleaned_and_checked(session, owner):
    photo = add_row(session, owner.id, "a.jpg")
    edited = photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id,
                                   title="  Harbour at night  ")
    assert edited.title == "Harbour at night"
    edited = photo_edits.set_description(session=session, owner_id=owner.id,
                                         photo_id=photo.id, description="Line one\nline two")
    assert edited.description == "Line one\nline two"
    with pytest.raises(PhotoEditError, match="longer than 500"):
        photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id,
                              title="x" * 501)
    with pytest.raises(PhotoEditError, match="control characters"):
        photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id,
                              title="a\nb")
    other = identity.provision_user(session=session, email="bob@example.com")
    with pytest.raises(PhotoNotFound):
        photo_edits.set_title(session=session, owner_id=other.id, photo_id=photo.id, title="x")
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=photo.id)
    with pytest.raises(PhotoNotFound):
        photo_edits.set_title(session=session, owner_id=owner.id, photo_id=photo.id, title="x")


def test_date_taken_is_set_with_its_time_zone(session, owner):
    photo = add_row(session, owner.id, "a.jpg")
    edited = photo_edits.set_taken_at(session=session, owner_id=owner.id, photo_id=photo.id,
                                      local=datetime(2019, 7, 14, 9, 30), offset_minutes=120)
    assert edited.taken_at.replace(tzinfo=UTC) == datetime(2019, 7, 14, 7, 30, tzinfo=UTC)
    assert edited.taken_at_offset_minutes == 120
    assert edited.taken_at_source == "edited"
    with pytest.raises(PhotoEditError, match="within 14 hours"):
        photo_edits.set_taken_at(session=session, owner_id=owner.id, photo_id=photo.id,
                                 local=datetime(2019, 7, 14), offset_minutes=15 * 60)
    with pytest.raises(PhotoEditError, match="between 1826 and today"):
        photo_edits.set_taken_at(session=session, owner_id=owner.id, photo_id=photo.id,
                                 local=datetime(2999, 1, 1), offset_minutes=0)


def test_shift_moves_each_photo_by_the_same_amount_or_none(session, owner):
    a = add_row(session, owner.id, "a.jpg", taken=datetime(2020, 1, 1, 10, tzinfo=UTC),
                offset=60)
    b = add_row(session, owner.id, "b.jpg", taken=datetime(2021, 6, 1, 10, tzinfo=UTC))
    assert photo_edits.shift_taken_at(session=session, owner_id=owner.id,
                                      photo_ids=[a.id, b.id], by=timedelta(hours=-3)) == 2
    session.refresh(a)
    session.refresh(b)
    assert a.taken_at.replace(tzinfo=UTC) == datetime(2020, 1, 1, 7, tzinfo=UTC)
    assert b.taken_at.replace(tzinfo=UTC) == datetime(2021, 6, 1, 7, tzinfo=UTC)
    assert a.taken_at_offset_minutes == 60, "each photo keeps its time zone"
    assert (a.taken_day, b.taken_day) == ("2020-01-01", "2021-06-01")
    photo_edits.shift_taken_at(session=session, owner_id=owner.id, photo_ids=[a.id],
                               by=timedelta(hours=-9))
    session.refresh(a)
    assert (a.taken_day, a.taken_month) == ("2019-12-31", "2019-12"), "the timeline day moves"
    photo_edits.shift_taken_at(session=session, owner_id=owner.id, photo_ids=[a.id],
                               by=timedelta(hours=9))
    session.refresh(a)
    with pytest.raises(PhotoEditError, match="between 1826 and today"):
        photo_edits.shift_taken_at(session=session, owner_id=owner.id, photo_ids=[a.id, b.id],
                                   by=timedelta(days=365 * 30))
    session.refresh(a)
    assert a.taken_at.replace(tzinfo=UTC) == datetime(2020, 1, 1, 7, tzinfo=UTC)
    with pytest.raises(PhotoEditError, match="100 years"):
        photo_edits.shift_taken_at(session=session, owner_id=owner.id, photo_ids=[a.id],
                                   by=timedelta(days=366 * 101))


def test_several_changes_at_once_are_all_or_nothing(session, owner):
    photo = add_row(session, owner.id, "a.jpg", taken=datetime(2020, 1, 1, 10, tzinfo=UTC),
                    offset=60)
    with pytest.raises(PhotoEditError):
        photo_edits.edit_photo(session=session, owner_id=owner.id, photo_id=photo.id,
                               changes=PhotoChanges(title="new", taken_at_offset_minutes=9999))
    session.refresh(photo)
    assert photo.title == ""
    edited = photo_edits.edit_photo(
        session=session, owner_id=owner.id, photo_id=photo.id,
        changes=PhotoChanges(title="new", favorite=True, taken_at_offset_minutes=-300))
    assert (edited.title, edited.favorite, edited.taken_at_offset_minutes) == ("new", True, -300)
    # The wall clock stays 11:00; it is now read in UTC-05:00.
    assert edited.taken_at.replace(tzinfo=UTC) == datetime(2020, 1, 1, 16, tzinfo=UTC)


def sha(storage, key) -> str:
    with storage.open(key) as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_rotation_remakes_renditions_and_never_touches_the_original(session, storage, owner,
                                                                    tmp_path):
    data = images.jpeg(size=(1800, 1200), marker=True)
    result = add_photo(session, storage, owner, tmp_path, data, "tower.jpg")
    assert result.status is ingest.IngestStatus.ADDED
    photo = session.get(Photo, result.photo_id)
    original = object_keys.original_of(photo)
    before = sha(storage, original)
    old_keys = {r.key for r in session.exec(select(Rendition).filter_by(photo_id=photo.id))}

    turned = photo_edits.rotate(session=session, storage=storage, owner_id=owner.id,
                                photo_id=photo.id, spool_dir=tmp_path / "spool", **SIZES)

    assert (turned.rotation, turned.width, turned.height) == (90, 1200, 1800)
    assert sha(storage, original) == before == hashlib.sha256(data).hexdigest()
    rows = {r.kind: r for r in session.exec(select(Rendition).filter_by(photo_id=photo.id))}
    thumb = rows[RenditionKind.THUMB]
    assert thumb.key not in old_keys and thumb.height > thumb.width
    with storage.open(thumb.key) as fh, Image.open(fh) as im:
        im = im.convert("RGB")
        # The green marker was top-left; a quarter turn clockwise puts it top-right.
        assert im.getpixel((im.width - 5, 5))[1] > 200 > im.getpixel((5, 5))[1]
    for key in old_keys:
        assert not storage.exists(key), "the old renditions are deleted"
    session.refresh(owner)
    stored = sum(r.size_bytes for r in rows.values()) + photo.size_bytes
    assert session.get(User, owner.id).used_bytes == stored

    back = photo_edits.rotate(session=session, storage=storage, owner_id=owner.id,
                              photo_id=photo.id, quarter_turns=-1,
                              spool_dir=tmp_path / "spool", **SIZES)
    assert (back.rotation, back.width, back.height) == (0, 1800, 1200)
    assert sha(storage, original) == before


def test_a_small_photo_shown_as_itself_gets_a_turned_preview(session, storage, owner,
                                                             tmp_path):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(size=(300, 200)),
                       "small.jpg")
    photo = session.get(Photo, result.photo_id)
    original = object_keys.original_of(photo)
    preview = session.exec(select(Rendition).filter_by(photo_id=photo.id, kind="preview")).one()
    assert preview.key == original
    photo_edits.rotate(session=session, storage=storage, owner_id=owner.id, photo_id=photo.id,
                       quarter_turns=2, spool_dir=tmp_path / "spool", **SIZES)
    preview = session.exec(select(Rendition).filter_by(photo_id=photo.id, kind="preview")).one()
    assert preview.key != original and (preview.width, preview.height) == (300, 200)
    photo_edits.rotate(session=session, storage=storage, owner_id=owner.id, photo_id=photo.id,
                       quarter_turns=2, spool_dir=tmp_path / "spool", **SIZES)
    preview = session.exec(select(Rendition).filter_by(photo_id=photo.id, kind="preview")).one()
    assert preview.key == original, "turned all the way round it is its own preview again"
    assert storage.exists(original)
