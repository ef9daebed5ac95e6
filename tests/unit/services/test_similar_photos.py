"""Near-duplicate lookups read a library's hashes from an index alone."""

from imgstream.models import utcnow
from imgstream.services import similar_photos
from tests.photo_rows import add_row


def test_a_librarys_hashes_come_from_the_index_without_a_sort(session, owner):
    statement = similar_photos.library_hashes(owner.id).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = " | ".join(str(row[-1]) for row in session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}").all())
    assert "COVERING INDEX ix_photo_owner_phash" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_only_close_hashes_outside_the_trash_count(session, owner):
    add_row(session, owner.id, "a.jpg", phash="ffff0000ffff0003")
    add_row(session, owner.id, "b.jpg", phash="0000ffff0000ffff")
    add_row(session, owner.id, "c.jpg", phash="ffff0000ffff0000", deleted_at=utcnow())
    found = similar_photos.similar_photos(session=session, owner_id=owner.id,
                                          phash="ffff0000ffff0000")
    assert [(s.photo.filename, s.distance) for s in found] == [("a.jpg", 2)]
