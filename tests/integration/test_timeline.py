"""The timeline's months, days and neighbours on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import select

from imgstream.models import Photo, utcnow
from imgstream.services import identity, timeline


def add_photo(db, owner_id: uuid.UUID, name: str, taken: datetime,
              offset: int | None = None) -> Photo:
    photo = Photo(owner_id=owner_id, filename=name, name_key=name, sha256=uuid.uuid4().hex,
                  format="JPEG", mime="image/jpeg", size_bytes=1, width=4, height=3,
                  taken_at=taken, taken_at_offset_minutes=offset, taken_at_source="exif_original")
    db.add(photo)
    db.commit()
    return photo


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_months_and_days_follow_the_clock_where_each_photo_was_taken(db):
    owner = identity.provision_user(session=db, email="timeline@example.com")
    other = identity.provision_user(session=db, email="someone-else@example.com")
    # 23:30 UTC on 31 July is already 1 August in Paris (UTC+2) but still 31 July in New York.
    paris = add_photo(db, owner.id, "paris.jpg", at(2024, 7, 31, 23, 30), offset=120)
    new_york = add_photo(db, owner.id, "new-york.jpg", at(2024, 7, 31, 23, 30), offset=-240)
    noon = add_photo(db, owner.id, "noon.jpg", at(2024, 7, 31, 12, 0))
    morning = add_photo(db, owner.id, "morning.jpg", at(2024, 7, 31, 8, 0))
    old = add_photo(db, owner.id, "old.jpg", at(2019, 1, 2, 8, 0), offset=60)
    binned = add_photo(db, owner.id, "binned.jpg", at(2024, 7, 20, 8, 0))
    binned.deleted_at = utcnow()
    db.add(binned)
    db.commit()
    add_photo(db, other.id, "theirs.jpg", at(2024, 7, 1, 8, 0))

    assert (paris.taken_day, new_york.taken_day) == ("2024-08-01", "2024-07-31")
    assert timeline.month_buckets(session=db, owner_id=owner.id) == [
        timeline.MonthBucket("2024-08", 1, 1),
        timeline.MonthBucket("2024-07", 3, 1),
        timeline.MonthBucket("2019-01", 1, 1),
    ]
    july = timeline.month_photos(session=db, owner_id=owner.id, month="2024-07")
    assert [p.filename for p in july] == ["new-york.jpg", "noon.jpg", "morning.jpg"]
    days = timeline.by_day(july)
    assert [(d.day, len(d.photos)) for d in days] == [("2024-07-31", 3)]
    assert timeline.month_photos(session=db, owner_id=owner.id, month="bogus") == []

    order = [paris, new_york, noon, morning, old]
    for i, photo in enumerate(order):
        newer, older = timeline.neighbours(session=db, owner_id=owner.id, photo=photo)
        assert newer == (order[i - 1].id if i else None)
        assert older == (order[i + 1].id if i + 1 < len(order) else None)


def test_a_new_date_taken_moves_the_photo_to_its_new_day(db):
    owner = identity.provision_user(session=db, email="redate@example.com")
    photo = add_photo(db, owner.id, "shifted.jpg", at(2020, 5, 5, 10, 0))
    photo.taken_at = at(2021, 12, 31, 23, 0)
    photo.taken_at_offset_minutes = 90
    db.add(photo)
    db.commit()
    stored = db.exec(select(Photo).where(Photo.id == photo.id)).one()
    assert (stored.taken_day, stored.taken_month) == ("2022-01-01", "2022-01")
    assert timeline.month_buckets(session=db, owner_id=owner.id) == [
        timeline.MonthBucket("2022-01", 1, 1)]
