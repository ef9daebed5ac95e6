"""The "similar photos" strip of the detail view: near-duplicates of the photo on screen."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import reflex as rx

from imgstream.models import RenditionKind
from imgstream.runtime import db_session, storage
from imgstream.services import photo_urls, renditions, similar_photos, timeline
from imgstream.state.session import signed_in_user


@dataclasses.dataclass(frozen=True)
class SimilarCard:
    """A near-duplicate as the strip shows it."""

    id: str
    filename: str
    thumbnail_url: str
    placeholder: str


def load_similar(owner_id: uuid.UUID, raw_photo_id: str) -> list[SimilarCard]:
    """The owner's photos that look like one of theirs, closest first."""
    photo_id = timeline.parse_photo_id(raw_photo_id)
    if photo_id is None:
        return []
    with db_session() as session:
        photo = timeline.get_photo(session=session, owner_id=owner_id, photo_id=photo_id)
        if photo is None:
            return []
        found = similar_photos.similar_to_photo(session=session, owner_id=owner_id, photo=photo)
        rows = renditions.renditions_of(session=session,
                                        photo_ids=[item.photo.id for item in found])
    store = storage()
    cards = []
    for item in found:
        shown = photo_urls.thumbnail(storage=store, photo=item.photo,
                                     rendition=rows.get((item.photo.id, RenditionKind.THUMB)))
        cards.append(SimilarCard(id=str(item.photo.id), filename=item.photo.filename,
                                 thumbnail_url=shown.url, placeholder=shown.placeholder))
    return cards


class SimilarPhotosState(rx.State):
    """Near-duplicates of the photo being viewed."""

    similar: list[SimilarCard] = []

    @rx.event
    async def load_similar(self) -> None:
        """Find the photos that look like the one named in the URL (/photo/{id})."""
        path = self.router.url.path
        await self.show_for(path.rstrip("/").rsplit("/", 1)[-1] if "/photo/" in path else "")

    @rx.event
    async def show_for(self, photo_id: str) -> None:
        """Find the photos that look like this one (the viewer shows another photo)."""
        self.similar = []
        owner_id = await signed_in_user(self)
        if owner_id is None:
            return
        self.similar = await asyncio.to_thread(load_similar, owner_id, photo_id)
