"""Grids read one column of one kind of rendition: the thumbnails' keys."""

from __future__ import annotations

from sqlmodel import Session

from imgstream.models import Photo, Rendition, RenditionKind, utcnow
from imgstream.services import identity, renditions
from imgstream.services.object_keys import thumbnail_key


def _photo(owner_id, number: int) -> Photo:
    return Photo(owner_id=owner_id, filename=f"p{number}.jpg", sha256=f"{number:064x}",
                 format="JPEG", mime="image/jpeg", size_bytes=10, width=1, height=1,
                 taken_at=utcnow(), taken_at_source="test")


def _rendition(photo: Photo, kind: str) -> Rendition:
    return Rendition(photo_id=photo.id, kind=kind, key=f"{kind}/{photo.id}.webp", width=1,
                     height=1, format="WEBP", size_bytes=1)


def test_thumbnail_keys_are_the_recorded_thumbnails_else_the_made_up_key(engine):
    with Session(engine, expire_on_commit=False) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        recorded, older = _photo(ada.id, 1), _photo(ada.id, 2)
        session.add_all([recorded, older])
        session.flush()
        session.add_all([_rendition(recorded, RenditionKind.THUMB),
                         _rendition(recorded, RenditionKind.PREVIEW),
                         _rendition(older, RenditionKind.PREVIEW)])
        session.commit()
        keys = renditions.thumbnail_keys(session=session, photo_ids=[recorded.id, older.id])
        assert keys == {recorded.id: f"{RenditionKind.THUMB}/{recorded.id}.webp"}
        assert renditions.thumbnail_key_of(recorded, keys) == keys[recorded.id]
        # Stored before renditions were recorded: the key the thumbnail was stored under.
        assert renditions.thumbnail_key_of(older, keys) == thumbnail_key(ada.id, older.id,
                                                                          older.revision)
        # The same as the grid read from whole rows, kind by kind.
        rows = renditions.renditions_of(session=session, photo_ids=[recorded.id, older.id],
                                        kinds=(RenditionKind.THUMB,))
        assert {photo_id: row.key for (photo_id, _), row in rows.items()} == keys
        assert renditions.thumbnail_keys(session=session, photo_ids=[]) == {}
