"""The list of albums: cover, name, number of photos and dates."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.media import square_thumbnail
from imgstream.state.albums import AlbumCard, AlbumsState


def _album_card(card: AlbumCard) -> rx.Component:
    return rx.link(
        rx.cond(
            card.cover_url != "",
            square_thumbnail(card.cover_url, card.name, card.placeholder),
            rx.center(rx.icon("book-image", size=40, color=rx.color("gray", 8)),
                      aspect_ratio="1", width="100%", border_radius="8px",
                      background_color=rx.color("gray", 4)),
        ),
        rx.text(card.name, weight="medium", size="2", padding_top="0.4em", trim="both",
                class_name="truncate", custom_attrs={"data-testid": "album-card-name"}),
        rx.text(card.count_label,
                rx.cond(card.dates_label != "", " · " + card.dates_label, ""),
                size="1", color_scheme="gray",
                custom_attrs={"data-testid": "album-card-facts"}),
        href="/albums/" + card.id,
        underline="none",
        color="inherit",
        title=card.name,
        key=card.id,
        custom_attrs={"data-testid": "album-card", "data-album-name": card.name},
    )


def album_grid() -> rx.Component:
    """Album cards, or a word on how to make the first one."""
    return rx.cond(
        AlbumsState.loaded,
        rx.cond(
            AlbumsState.cards.length() > 0,
            rx.grid(
                rx.foreach(AlbumsState.cards, _album_card),
                columns="repeat(auto-fill, minmax(min(200px, 42vw), 1fr))",
                gap="16px",
                width="100%",
                custom_attrs={"data-testid": "album-grid"},
            ),
            empty_state("book-image", "No albums yet",
                        "Create one here, or select photos in your library and add them to "
                        "an album.", testid="albums-empty"),
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )


def create_album_dialog() -> rx.Component:
    """The "new album" button and its dialog."""
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=14), "New album", type="button",
                                    custom_attrs={"data-testid": "album-create"})),
        rx.dialog.content(
            rx.dialog.title("New album"),
            rx.form(
                rx.vstack(
                    rx.input(placeholder="Name", value=AlbumsState.new_name,
                             on_change=AlbumsState.set_new_name, max_length=200,
                             auto_focus=True, width="100%",
                             custom_attrs={"data-testid": "album-name"}),
                    rx.cond(AlbumsState.error != "",
                            rx.text(AlbumsState.error, color_scheme="red", size="2")),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button("Create", type="submit",
                                  custom_attrs={"data-testid": "album-create-submit"}),
                        spacing="2", justify="end", width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=lambda _form: AlbumsState.create_album(),
                reset_on_submit=False,
            ),
            max_width="26em",
        ),
        open=AlbumsState.create_open,
        on_open_change=AlbumsState.set_create_open,
    )
