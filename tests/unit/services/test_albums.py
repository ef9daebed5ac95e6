"""Albums: create, rename, delete, add and remove photos, cover, count, dates, trash."""

import uuid
from datetime import UTC, datetime

import pytest

from imgstream.models import AlbumPhoto, Photo
from imgstream.services import albums, identity, trash


def photo_row(session, owner, name, day, **fields):
    photo = Photo(owner_id=owner.id, filename=name, name_key=name, sha256=uuid.uuid4().hex,
                  format="JPEG", mime="image/jpeg", size_bytes=10, width=4, height=3,
                  taken_at=datetime(2024, 1, day, 12, tzinfo=UTC), taken_at_source="exif",
                  **fields)
    session.add(photo)
    session.commit()
    return photo


def test_album_lists_cover_count_and_date_range(session, owner):
    first = photo_row(session, owner, "a.jpg", 3)
    newest = photo_row(session, owner, "b.jpg", 20)
    middle = photo_row(session, owner, "c.jpg", 10)
    album = albums.create_album(session=session, owner_id=owner.id, name="  Summer \n trip ")
    assert album.name == "Summer trip"
    empty = albums.create_album(session=session, owner_id=owner.id, name="Empty")

    added = albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                              photo_ids=[first.id, newest.id, middle.id, first.id])
    assert added == 3
    assert albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                             photo_ids=[first.id]) == 0, "already in the album"

    summaries = {s.album.name: s for s in albums.list_albums(session=session, owner_id=owner.id)}
    summer = summaries["Summer trip"]
    assert summer.photo_count == 3
    assert summer.cover.id == newest.id, "the newest photo is the cover by default"
    assert summer.first_taken_at == datetime(2024, 1, 3, 12, tzinfo=UTC)
    assert summer.last_taken_at == datetime(2024, 1, 20, 12, tzinfo=UTC)
    assert summaries["Empty"].photo_count == 0 and summaries["Empty"].cover is None
    assert empty.id != album.id

    assert albums.set_cover(session=session, owner_id=owner.id, album_id=album.id,
                            photo_id=first.id)
    summer = albums.list_albums(session=session, owner_id=owner.id)[0]
    assert summer.cover.id == first.id
    outsider = photo_row(session, owner, "d.jpg", 1)
    assert not albums.set_cover(session=session, owner_id=owner.id, album_id=album.id,
                                photo_id=outsider.id), "the cover must be in the album"

    page = albums.album_page(session=session, owner_id=owner.id, album_id=album.id, limit=2)
    assert [p.id for p in page.photos] == [newest.id, middle.id]
    rest = albums.album_page(session=session, owner_id=owner.id, album_id=album.id, limit=2,
                             after=page.next_cursor)
    assert [p.id for p in rest.photos] == [first.id] and rest.next_cursor is None


def test_rename_describe_remove_and_delete_keep_the_photos(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    album = albums.create_album(session=session, owner_id=owner.id, name="Old")
    albums.add_photos(session=session, owner_id=owner.id, album_id=album.id, photo_ids=[photo.id])
    albums.set_cover(session=session, owner_id=owner.id, album_id=album.id, photo_id=photo.id)
    renamed = albums.update_album(session=session, owner_id=owner.id, album_id=album.id,
                                  name="New", description="By the sea")
    assert (renamed.name, renamed.description) == ("New", "By the sea")
    with pytest.raises(albums.InvalidAlbumName):
        albums.update_album(session=session, owner_id=owner.id, album_id=album.id, name="  ")
    with pytest.raises(albums.InvalidAlbumName):
        albums.create_album(session=session, owner_id=owner.id, name="x" * 201)

    assert albums.remove_photos(session=session, owner_id=owner.id, album_id=album.id,
                                photo_ids=[photo.id]) == 1
    session.refresh(album)
    assert album.cover_photo_id is None, "a removed cover falls back to the newest photo"
    assert albums.delete_album(session=session, owner_id=owner.id, album_id=album.id)
    assert session.get(Photo, photo.id) is not None, "deleting an album keeps its photos"
    assert albums.list_albums(session=session, owner_id=owner.id) == []


def test_another_persons_album_and_photos_are_out_of_reach(session, owner):
    other = identity.provision_user(session=session, email="eve@example.com")
    mine = photo_row(session, owner, "mine.jpg", 3)
    theirs = photo_row(session, other, "theirs.jpg", 4)
    album = albums.create_album(session=session, owner_id=owner.id, name="Mine")
    assert albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                             photo_ids=[mine.id, theirs.id]) == 1
    assert albums.get_album(session=session, owner_id=other.id, album_id=album.id) is None
    assert albums.album_page(session=session, owner_id=other.id, album_id=album.id,
                             limit=10) is None
    assert albums.add_photos(session=session, owner_id=other.id, album_id=album.id,
                             photo_ids=[theirs.id]) == 0
    assert albums.update_album(session=session, owner_id=other.id, album_id=album.id,
                               name="Hacked") is None
    assert not albums.delete_album(session=session, owner_id=other.id, album_id=album.id)
    assert albums.remove_photos(session=session, owner_id=other.id, album_id=album.id,
                                photo_ids=[mine.id]) == 0
    assert albums.list_albums(session=session, owner_id=other.id) == []


def test_trashed_photo_leaves_its_albums_and_returns_on_restore(session, owner):
    kept = photo_row(session, owner, "kept.jpg", 3)
    trashed = photo_row(session, owner, "trashed.jpg", 9)
    album = albums.create_album(session=session, owner_id=owner.id, name="Trip")
    albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                      photo_ids=[kept.id, trashed.id])

    assert trash.move_to_trash(session=session, owner_id=owner.id, photo_id=trashed.id)
    summary = albums.list_albums(session=session, owner_id=owner.id)[0]
    assert (summary.photo_count, summary.cover.id) == (1, kept.id)
    page = albums.album_page(session=session, owner_id=owner.id, album_id=album.id, limit=10)
    assert [p.id for p in page.photos] == [kept.id]

    trash.restore_photo(session=session, owner_id=owner.id, photo_id=trashed.id)
    summary = albums.list_albums(session=session, owner_id=owner.id)[0]
    assert (summary.photo_count, summary.cover.id) == (2, trashed.id)


def test_deleting_a_photo_forever_removes_it_from_albums(session, owner):
    photo = photo_row(session, owner, "a.jpg", 3)
    album = albums.create_album(session=session, owner_id=owner.id, name="Trip")
    albums.add_photos(session=session, owner_id=owner.id, album_id=album.id, photo_ids=[photo.id])
    albums.set_cover(session=session, owner_id=owner.id, album_id=album.id, photo_id=photo.id)
    session.delete(session.get(Photo, photo.id))
    session.commit()
    assert session.get(AlbumPhoto, (album.id, photo.id)) is None
    session.refresh(album)
    assert album.cover_photo_id is None


def test_neighbours_walk_the_album_in_its_page_order(session, owner):
    old = photo_row(session, owner, "old.jpg", 2)
    outside = photo_row(session, owner, "outside.jpg", 5)
    middle = photo_row(session, owner, "middle.jpg", 8)
    trashed = photo_row(session, owner, "trashed.jpg", 9)
    new = photo_row(session, owner, "new.jpg", 12)
    album = albums.create_album(session=session, owner_id=owner.id, name="Walk")
    albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                      photo_ids=[old.id, middle.id, trashed.id, new.id])
    trash.move_to_trash(session=session, owner_id=owner.id, photo_id=trashed.id)
    page = albums.album_page(session=session, owner_id=owner.id, album_id=album.id, limit=10)
    assert [p.id for p in page.photos] == [new.id, middle.id, old.id]

    def around(photo):
        return albums.neighbours(session=session, owner_id=owner.id, album_id=album.id,
                                 photo=photo)

    assert around(new) == (None, middle.id)
    assert around(middle) == (new.id, old.id), "the trash and other photos are skipped"
    assert around(old) == (middle.id, None)
    assert outside.id not in around(middle)
