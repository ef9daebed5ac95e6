"""The "similar photos" strip under a photo: its near-duplicates, each a link to its page."""

from __future__ import annotations

import reflex as rx

from imgstream.components.media import square_thumbnail
from imgstream.state.photo import PhotoState
from imgstream.state.similar_photos import SimilarCard, SimilarPhotosState


def _card(card: SimilarCard) -> rx.Component:
    return rx.link(
        square_thumbnail(card.thumbnail_url, card.filename, card.placeholder),
        href="/photo/" + card.id,
        title=card.filename,
        # In the viewer, the similar photo takes this one's place.
        on_click=PhotoState.show(card.id).prevent_default,
        key=card.id,
        custom_attrs={"data-testid": "similar-photo", "data-photo-id": card.id},
    )


def similar_photos() -> rx.Component:
    """Near-duplicates of the photo on screen (nothing when it has none)."""
    return rx.cond(
        SimilarPhotosState.similar.length() > 0,
        rx.vstack(
            rx.heading("Similar photos", size="4"),
            rx.grid(
                rx.foreach(SimilarPhotosState.similar, _card),
                columns="repeat(auto-fill, minmax(96px, 1fr))",
                gap="8px",
                width="100%",
            ),
            spacing="2",
            width="100%",
            custom_attrs={"data-testid": "similar-photos"},
        ),
    )
