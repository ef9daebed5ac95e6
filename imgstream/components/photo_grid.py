"""The timeline grid of thumbnails."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.media import square_thumbnail
from imgstream.state.gallery import GalleryState, PhotoCard


def _card(card: PhotoCard) -> rx.Component:
    return rx.link(
        square_thumbnail(card.thumbnail_url, card.filename, card.placeholder,
                         custom_attrs={"data-testid": "photo-thumb-frame"}),
        rx.text(card.taken_label, size="1", color_scheme="gray", padding_top="0.25em"),
        href="/photo/" + card.id,
        key=card.id,
        title=card.filename,
        underline="none",
        custom_attrs={"data-testid": "photo-card", "data-photo-id": card.id},
    )


def _empty_library() -> rx.Component:
    return empty_state(
        "image", "No photos yet",
        "Drop photos on the area above, or click it to choose files. "
        "They appear here, newest first.",
        testid="empty-library",
    )


def photo_grid() -> rx.Component:
    """Cards of the loaded pages, with a button for the next one."""
    return rx.cond(
        GalleryState.loaded,
        rx.cond(
            GalleryState.cards.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(GalleryState.cards, _card),
                    columns="repeat(auto-fill, minmax(170px, 1fr))",
                    gap="12px",
                    width="100%",
                    custom_attrs={"data-testid": "photo-grid"},
                ),
                rx.cond(
                    GalleryState.has_more,
                    rx.button(
                        "Load more",
                        on_click=GalleryState.load_more,
                        variant="soft",
                        type="button",
                        custom_attrs={"data-testid": "load-more"},
                    ),
                ),
                align="center",
                width="100%",
                spacing="4",
            ),
            _empty_library(),
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )
