"""Albums and share links on migrated SQLite and PostgreSQL: covers, counts, cascades, lookups."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from imgstream.models import AlbumPhoto, Photo, SharedPhoto, ShareLink
from imgstream.services import albums, identity, shares, trash

SECRET = b"integration-secret"


def photo_row(db, owner, name, day):
    photo = Photo(owner_id=owner.id, filename=name, name_key=name, sha256=uuid.uuid4().hex,
                  format="JPEG", mime="image/jpeg", size_bytes=10, width=4, height=3,
                  taken_at=datetime(2024, 3, day, 8, tzinfo=UTC), taken_at_source="exif")
    db.add(photo)
    db.commit()
    return photo


def test_album_summaries_links_and_cascades(db):
    owner = identity.provision_user(session=db, email="ada@example.com")
    photos = [photo_row(db, owner, f"{n}.jpg", n) for n in range(1, 6)]
    trip = albums.create_album(session=db, owner_id=owner.id, name="Trip")
    other = albums.create_album(session=db, owner_id=owner.id, name="Other")
    albums.add_photos(session=db, owner_id=owner.id, album_id=trip.id,
                      photo_ids=[p.id for p in photos])
    albums.add_photos(session=db, owner_id=owner.id, album_id=other.id,
                      photo_ids=[photos[0].id, photos[1].id])
    trash.move_to_trash(session=db, owner_id=owner.id, photo_id=photos[4].id)

    summaries = {s.album.name: s for s in albums.list_albums(session=db, owner_id=owner.id)}
    assert (summaries["Trip"].photo_count, summaries["Trip"].cover.id) == (4, photos[3].id)
    assert summaries["Trip"].last_taken_at == datetime(2024, 3, 4, 8, tzinfo=UTC)
    assert (summaries["Other"].photo_count, summaries["Other"].cover.id) == (2, photos[1].id)

    link = shares.create_share(session=db, secret=SECRET, owner_id=owner.id, album_id=trip.id,
                               expires_at=datetime.now(UTC) + timedelta(days=1))
    selection = shares.create_share(session=db, secret=SECRET, owner_id=owner.id,
                                    photo_ids=[photos[2].id])
    assert shares.open_share(session=db, token=link.token).id == link.share.id
    assert len(shares.shared_photos(session=db, share=link.share)) == 4
    listed = shares.list_shares(session=db, owner_id=owner.id)
    assert {s.share.id: s.photo_count for s in listed} == {link.share.id: 4,
                                                           selection.share.id: 1}

    # Deleting a photo for good takes it out of albums and links; deleting an album its links.
    db.delete(db.get(Photo, photos[2].id))
    db.commit()
    assert db.exec(select(AlbumPhoto).where(AlbumPhoto.photo_id == photos[2].id)).all() == []
    assert db.exec(select(SharedPhoto)).all() == []
    link_id = link.share.id
    albums.delete_album(session=db, owner_id=owner.id, album_id=trip.id)
    db.expire_all()
    assert db.exec(select(ShareLink).where(ShareLink.id == link_id)).first() is None
    with pytest.raises(shares.ShareNotFound):
        shares.open_share(session=db, token=link.token)
    assert db.get(Photo, photos[0].id) is not None
