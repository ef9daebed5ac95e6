"""The timeline's month and day counts stay exact through every change of photos."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from imgstream import indexes
from imgstream.models import Photo, TimelineDayCount, TimelineMonthCount
from imgstream.services import identity, photo_edits, timeline, trash
from imgstream.services.storage import LocalStorage
from tests import images
from tests.integration.test_database import ingest_bytes
from tests.photo_rows import add_row


def counted(db) -> tuple[dict, dict]:
    """The counts the triggers keep: {(owner, day): photos}, {(owner, month): (photos, days)}."""
    days = {(r.owner_id, r.taken_day): (r.taken_month, r.photos)
            for r in db.exec(select(TimelineDayCount))}
    months = {(r.owner_id, r.taken_month): (r.photos, r.days)
              for r in db.exec(select(TimelineMonthCount))}
    return days, months


def recounted(db) -> tuple[dict, dict]:
    """The same counts, read from the photos themselves."""
    rows = db.execute(
        sa.select(Photo.owner_id, Photo.taken_day, Photo.taken_month, sa.func.count())
        .where(Photo.deleted_at.is_(None))
        .group_by(Photo.owner_id, Photo.taken_day, Photo.taken_month)
    ).all()
    days = {(owner, day): (month, n) for owner, day, month, n in rows}
    months: dict = {}
    for (owner, _day), (month, n) in days.items():
        photos, count = months.get((owner, month), (0, 0))
        months[owner, month] = (photos + n, count + 1)
    return days, months


def assert_exact(db) -> None:
    db.expire_all()
    assert counted(db) == recounted(db)


def test_counts_follow_ingest_edits_trash_restore_and_purge(db, migrated_engine, tmp_path):
    storage = LocalStorage(tmp_path / "library", secret=b"s", url_ttl_seconds=1800)
    owner = identity.provision_user(session=db, email="counts@example.com")
    other = identity.provision_user(session=db, email="counts-other@example.com")
    spool = tmp_path / "in"
    ingested = [
        ingest_bytes(migrated_engine, storage, owner.id,
                     images.jpeg(date_original=d, color=(i, 9, 9)), f"{i}.jpg", spool).photo_id
        for i, d in enumerate(["2024:07:01 10:00:00", "2024:07:01 11:00:00",
                               "2024:07:03 09:00:00", "2023:01:05 09:00:00"])
    ]
    for i in range(5):
        add_row(db, other.id, f"other-{i}.jpg", taken=datetime(2024, 7, 1 + i, 12))
    assert_exact(db)
    assert timeline.month_buckets(session=db, owner_id=owner.id) == [
        timeline.MonthBucket("2024-07", 3, 2), timeline.MonthBucket("2023-01", 1, 1)]
    assert timeline.month_days(session=db, owner_id=owner.id, month="2024-07") == [
        timeline.DayCount("2024-07-03", 1), timeline.DayCount("2024-07-01", 2)]

    # A new date taken moves a photo to another day and month, one by one or in a batch.
    photo_edits.set_taken_at(session=db, owner_id=owner.id, photo_id=ingested[2],
                             local=datetime(2022, 3, 4, 5, 6), offset_minutes=60)
    assert_exact(db)
    photo_edits.shift_taken_at(session=db, owner_id=owner.id, photo_ids=ingested[:2],
                               by=timedelta(days=40))
    assert_exact(db)
    photo_edits.edit_photo(session=db, owner_id=owner.id, photo_id=ingested[3],
                           changes=photo_edits.PhotoChanges(title="kept", favorite=True))
    assert_exact(db)

    # The trash takes photos out; a restore puts them back; a purge removes them for good.
    trash.move_to_trash(session=db, owner_id=owner.id, photo_id=ingested[0])
    assert_exact(db)
    trash.move_many_to_trash(session=db, owner_id=owner.id, photo_ids=ingested[1:3])
    assert_exact(db)
    trash.restore_photo(session=db, owner_id=owner.id, photo_id=ingested[0])
    assert_exact(db)
    trash.restore_many(session=db, owner_id=owner.id, photo_ids=[ingested[1]])
    assert_exact(db)
    trash.delete_forever(session=db, storage=storage, owner_id=owner.id, photo_id=ingested[2])
    assert_exact(db)
    trash.move_many_to_trash(session=db, owner_id=owner.id, photo_ids=ingested)
    trash.empty_trash(session=db, storage=storage, owner_id=owner.id)
    assert_exact(db)
    assert timeline.month_buckets(session=db, owner_id=owner.id) == []
    assert len(timeline.month_buckets(session=db, owner_id=other.id)) == 1

    # Statements that bypass the services (a bulk delete, a cascade) are counted too.
    db.execute(sa.delete(Photo).where(Photo.owner_id == other.id,
                                      Photo.taken_day == "2024-07-01"))
    db.commit()
    assert_exact(db)
    assert timeline.month_buckets(session=db, owner_id=other.id) == [
        timeline.MonthBucket("2024-07", 4, 4)]


def test_recount_rebuilds_what_the_triggers_keep(db):
    owner = identity.provision_user(session=db, email="recount@example.com")
    for i in range(3):
        add_row(db, owner.id, f"{i}.jpg", taken=datetime(2021, 2, 1 + i, 12))
    db.execute(sa.delete(TimelineDayCount))
    db.execute(sa.delete(TimelineMonthCount))
    db.commit()
    assert counted(db) != recounted(db)
    timeline.recount(session=db)
    assert_exact(db)
    assert indexes.TIMELINE_COUNT_DDL[db.get_bind().dialect.name]
