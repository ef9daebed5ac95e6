"""Grids of photo thumbnails: the timeline's and any other list of photo cards."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

from imgstream.components.media import square_thumbnail
from imgstream.state.albums import SelectionState
from imgstream.state.gallery import PhotoCard
from imgstream.state.photo import PhotoState
from imgstream.state.photo_edits import CardFavoriteState
from imgstream.state.selection import SelectionActionsState


def select_check(card: PhotoCard) -> rx.Component:
    """The card's selection check (top left)."""
    return rx.box(
        rx.checkbox(
            checked=SelectionState.selected.contains(card.id),
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


def photo_card(
    card: PhotoCard, *, selectable: bool = True, caption: bool = True,
    on_open: rx.event.EventSpec | None = None, overlays: Sequence[rx.Component] = (),
    radius: str = "8px",
) -> rx.Component:
    """A photo's thumbnail, linking to it in the viewer.

    Args:
        card: The photo.
        selectable: Whether the selection check shows (top left).
        caption: Whether the date taken shows under the thumbnail.
        on_open: What a plain click does instead of following the link (the timeline opens
            the viewer over itself); the link stays for a new tab or a copied address.
        overlays: More absolutely placed controls over the thumbnail (the favourite heart is
            always there, top right).
        radius: Corner radius of the thumbnail.
    """
    children = [square_thumbnail(card.thumbnail_url, card.filename, card.placeholder,
                                 border_radius=radius,
                                 custom_attrs={"data-testid": "photo-thumb-frame"})]
    if caption:
        children.append(rx.text(card.taken_label, size="1", color_scheme="gray",
                                padding_top="0.25em"))
    events = {"on_click": on_open.prevent_default} if on_open is not None else {}
    link = rx.link(
        *children,
        href="/photo/" + card.id,
        title=card.filename,
        underline="none",
        display="block",
        custom_attrs={"data-testid": "photo-card", "data-photo-id": card.id},
        **events,
    )
    controls = [select_check(card)] if selectable else []
    controls.append(card_favorite(card))
    controls.extend(overlays)
    selected = SelectionState.selected.contains(card.id)
    return rx.box(
        link,
        *controls,
        position="relative",
        class_name="imgstream-card",
        outline=rx.cond(selected, "3px solid var(--accent-9)", "none") if selectable else "none",
        border_radius=radius,
        key=card.id,
    )


@rx.memo
def timeline_tile(photo_id: rx.Var[str], filename: rx.Var[str], thumbnail_url: rx.Var[str],
                  placeholder: rx.Var[str], favorite: rx.Var[bool], rest: rx.RestProp
                  ) -> rx.Component:
    """A square tile of the timeline; a click opens the viewer over the timeline.

    Its own component, given plain values: when the timeline takes its months again (after an
    upload, an edit elsewhere), only the tiles whose photo changed render again.
    """
    card = rx.Var.create({"id": photo_id, "filename": filename, "thumbnail_url": thumbnail_url,
                          "placeholder": placeholder, "favorite": favorite}).to(PhotoCard)
    return rx.el.div(
        photo_card(card, caption=False, on_open=PhotoState.open_photo(photo_id), radius="4px"),
        rest,
        style={"display": "contents"},
    )


def photo_cards(
    cards: rx.Var[list[PhotoCard]], *, has_more: rx.Var[bool], on_more: rx.EventHandler,
    empty: rx.Component, loaded: rx.Var[bool] | bool = True, selectable: bool = True,
    on_open: Callable[[PhotoCard], rx.event.EventSpec] | None = None,
) -> rx.Component:
    """Cards in a responsive grid with a "Load more" button, or what to show when empty.

    on_open gives what a plain click on a card does instead of following its link (an album
    opens the viewer over itself).
    """
    return rx.cond(
        loaded,
        rx.cond(
            cards.length() > 0,
            rx.vstack(
                rx.grid(
                    rx.foreach(cards, lambda card: photo_card(
                        card, selectable=selectable,
                        on_open=on_open(card) if on_open is not None else None)),
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
