"""Grids of photo thumbnails: the timeline's and any other list of photo cards."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.media import square_thumbnail
from imgstream.state.albums import SelectionState
from imgstream.state.gallery import GalleryState, PhotoCard
from imgstream.state.photo_edits import CardFavoriteState
from imgstream.state.selection import SelectionActionsState


def photo_card(card: PhotoCard, *, selectable: bool = True) -> rx.Component:
    """A photo's thumbnail and date, linking to its detail view, with a selection checkbox."""
    link = rx.link(
        square_thumbnail(card.thumbnail_url, card.filename, card.placeholder,
                         custom_attrs={"data-testid": "photo-thumb-frame"}),
        rx.text(card.taken_label, size="1", color_scheme="gray", padding_top="0.25em"),
        href="/photo/" + card.id,
        title=card.filename,
        underline="none",
        custom_attrs={"data-testid": "photo-card", "data-photo-id": card.id},
    )
    heart = card_favorite(card)
    if not selectable:
        return rx.box(link, heart, position="relative", class_name="imgstream-card",
                      key=card.id)
    selected = SelectionState.selected.contains(card.id)
    return rx.box(
        link,
        rx.box(
            rx.checkbox(
                checked=selected,
                # Shift-click selects every photo between the last one clicked and this one.
                on_click=lambda info: SelectionActionsState.pick(card.id, info),
                size="3",
                aria_label="Select " + card.filename,
                custom_attrs={"data-testid": "photo-select", "data-photo-id": card.id},
            ),
            position="absolute",
            top="8px",
            left="8px",
            padding="2px",
            line_height="0",
            border_radius="6px",
            background_color=rx.color("gray", 1, alpha=True),
        ),
        heart,
        position="relative",
        class_name="imgstream-card",
        outline=rx.cond(selected, "3px solid var(--accent-9)", "none"),
        border_radius="10px",
        key=card.id,
    )


def card_favorite(card: PhotoCard) -> rx.Component:
    """The card's heart: shown on hover or focus, and always on a favourite."""
    return rx.icon_button(
        rx.icon("heart", size=16, fill=rx.cond(card.favorite, "currentColor", "none")),
        on_click=CardFavoriteState.toggle(card.id, card.favorite),
        size="1",
        variant=rx.cond(card.favorite, "solid", "soft"),
        color_scheme="red",
        type="button",
        aria_label=rx.cond(card.favorite, "Remove from favourites", "Add to favourites"),
        aria_pressed=card.favorite,
        position="absolute",
        top="8px",
        right="8px",
        class_name=rx.cond(card.favorite, "imgstream-heart is-favorite", "imgstream-heart"),
        custom_attrs={"data-testid": "photo-favorite", "data-photo-id": card.id,
                      "data-favorite": rx.cond(card.favorite, "true", "false")},
    )


def photo_cards(
    cards: rx.Var[list[PhotoCard]], *, has_more: rx.Var[bool], on_more: rx.EventHandler,
    empty: rx.Component, loaded: rx.Var[bool] | bool = True, selectable: bool = True,
) -> rx.Component:
    """Cards in a responsive grid with a "Load more" button, or what to show when empty."""
    return rx.cond(
        loaded,
        rx.cond(
            cards.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(cards, lambda card: photo_card(card, selectable=selectable)),
                    # 3-4 columns on a phone, as many 170 px columns as fit elsewhere.
                    columns="repeat(auto-fill, minmax(min(170px, calc(25vw - 12px)), 1fr))",
                    gap=["4px", "8px", "12px"],
                    width="100%",
                    custom_attrs={"data-testid": "photo-grid"},
                ),
                rx.cond(
                    has_more,
                    rx.button("Load more", on_click=on_more, variant="soft", type="button",
                              custom_attrs={"data-testid": "load-more"}),
                ),
                align="center",
                width="100%",
                spacing="4",
            ),
            empty,
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )


def _empty_library() -> rx.Component:
    return empty_state(
        "image", "No photos yet",
        "Drop photos on the area above, or click it to choose files. "
        "They appear here, newest first.",
        testid="empty-library",
    )


def photo_grid() -> rx.Component:
    """The timeline's cards of the loaded pages, with a button for the next one."""
    return photo_cards(GalleryState.cards, has_more=GalleryState.has_more,
                       on_more=GalleryState.load_more, empty=_empty_library(),
                       loaded=GalleryState.loaded)
