"""Grids read one kind of rendition: the thumbnails."""

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


def test_renditions_of_reads_only_the_kinds_asked_for(engine):
    with Session(engine, expire_on_commit=False) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        recorded, older = _photo(ada.id, 1), _photo(ada.id, 2)
        session.add_all([recorded, older])
        session.flush()
        session.add_all([_rendition(recorded, RenditionKind.THUMB),
                         _rendition(recorded, RenditionKind.PREVIEW),
                         _rendition(older, RenditionKind.PREVIEW)])
        session.commit()
        ids = [recorded.id, older.id]
        thumbs = renditions.renditions_of(session=session, photo_ids=ids,
                                          kinds=(RenditionKind.THUMB,))
        assert set(thumbs) == {(recorded.id, RenditionKind.THUMB)}
        assert len(renditions.renditions_of(session=session, photo_ids=ids)) == 3
        # Stored before renditions were recorded: the key the thumbnail was stored under.
        assert renditions.thumbnail_of(older, thumbs.get((older.id, RenditionKind.THUMB))) == \
            thumbnail_key(ada.id, older.id, older.revision)
        assert renditions.renditions_of(session=session, photo_ids=[]) == {}
