"""Albums: the list of albums, and one album with its photos."""

from __future__ import annotations

import reflex as rx

from imgstream.components.album_grid import album_grid, create_album_dialog
from imgstream.components.album_picker import album_picker
from imgstream.components.empty_state import empty_state
from imgstream.components.layout import page_frame
from imgstream.components.photo_details import photo_details
from imgstream.components.photo_grid import photo_cards
from imgstream.components.selection_bar import selection_bar
from imgstream.components.share_dialog import share_button, share_dialog
from imgstream.components.viewer import viewer
from imgstream.state.albums import AlbumsState, AlbumState
from imgstream.state.live import refresh_on_change
from imgstream.state.photo import PhotoState
from imgstream.state.session import SessionState
from imgstream.state.sharing import SharingState


@rx.page(route="/albums", title="Albums · ImgStream",
         on_load=[SessionState.require_sign_in, AlbumsState.load_albums])
def albums_page() -> rx.Component:
    """The signed-in user's albums."""
    return page_frame(
        rx.vstack(
            rx.flex(rx.heading("Albums", size="6"), rx.spacer(), create_album_dialog(),
                    width="100%", align="center"),
            album_grid(),
            spacing="5",
            width="100%",
        )
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename album"),
            rx.vstack(
                rx.input(value=AlbumState.edit_name, on_change=AlbumState.set_edit_name,
                         max_length=200, width="100%",
                         custom_attrs={"data-testid": "album-edit-name"}),
                rx.text_area(value=AlbumState.edit_description,
                             on_change=AlbumState.set_edit_description,
                             placeholder="Description (optional)", width="100%", rows="3",
                             custom_attrs={"data-testid": "album-edit-description"}),
                rx.cond(AlbumState.error != "",
                        rx.text(AlbumState.error, color_scheme="red", size="2")),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                              type="button")),
                    rx.button("Save", type="button", on_click=AlbumState.save_album,
                              custom_attrs={"data-testid": "album-edit-save"}),
                    spacing="2", justify="end", width="100%",
                ),
                spacing="3",
            ),
            max_width="30em",
        ),
        open=AlbumState.edit_open,
        on_open_change=AlbumState.set_edit_open,
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", AlbumState.album.name, "?"),
            rx.alert_dialog.description(
                "The album goes, and so do its share links. Its photos stay in your library."),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 type="button")),
                rx.alert_dialog.action(rx.button(
                    "Delete album", color_scheme="red", type="button",
                    on_click=AlbumState.delete_album,
                    custom_attrs={"data-testid": "album-delete-confirm"})),
                spacing="2", justify="end", margin_top="1em",
            ),
        ),
        open=AlbumState.delete_open,
        on_open_change=AlbumState.set_delete_open,
    )


def _album() -> rx.Component:
    album = AlbumState.album
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.heading(album.name, size="6", custom_attrs={"data-testid": "album-title"}),
                rx.text(album.count_label,
                        rx.cond(album.dates_label != "", " · " + album.dates_label, ""),
                        size="2", color_scheme="gray",
                        custom_attrs={"data-testid": "album-facts"}),
                rx.cond(album.description != "",
                        rx.text(album.description, size="2", white_space="pre-wrap",
                                custom_attrs={"data-testid": "album-description"})),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.flex(
                share_button(SharingState.open_for_album, "Share album"),
                rx.button(rx.icon("pencil", size=14), "Rename", variant="soft",
                          color_scheme="gray", type="button",
                          on_click=AlbumState.set_edit_open(True),
                          custom_attrs={"data-testid": "album-rename"}),
                rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft",
                          color_scheme="red", type="button",
                          on_click=AlbumState.set_delete_open(True),
                          custom_attrs={"data-testid": "album-delete"}),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            wrap="wrap",
            width="100%",
            align="start",
        ),
        selection_bar(
            rx.button(rx.icon("image", size=14), "Use as cover", size="2", variant="soft",
                      type="button", on_click=AlbumState.use_as_cover,
                      custom_attrs={"data-testid": "album-cover"}),
            share_button(SharingState.open_for_selection),
            rx.button(rx.icon("folder-minus", size=14), "Remove from album", size="2",
                      color_scheme="red", variant="soft", type="button",
                      on_click=AlbumState.remove_selected,
                      custom_attrs={"data-testid": "album-remove"}),
        ),
        photo_cards(
            AlbumState.cards, has_more=AlbumState.has_more, on_more=AlbumState.load_more,
            # The viewer opens over the album: previous and next walk the album's photos.
            on_open=lambda card: PhotoState.open_in_album(card.id, album.id),
            empty=empty_state("book-image", "This album is empty",
                              "Select photos in your ", rx.link("library", href="/"),
                              " and choose Add to album.", testid="album-empty"),
        ),
        _edit_dialog(),
        _delete_dialog(),
        share_dialog(),
        album_picker(),
        spacing="4",
        width="100%",
    )


@rx.page(route="/albums/[album_id]", title="Album · ImgStream",
         on_load=[SessionState.require_sign_in, AlbumState.load_album,
                  PhotoState.load_album_photo])
def album_page() -> rx.Component:
    """One album, and the viewer over it while one of its photos is open (?photo=)."""
    return page_frame(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Albums")),
                    href="/albums"),
            rx.cond(
                AlbumState.not_found,
                rx.callout("This album does not exist or is not yours.",
                           icon="triangle-alert", color_scheme="red",
                           custom_attrs={"data-testid": "album-not-found"}),
                rx.cond(AlbumState.album, _album(), rx.spinner(size="3")),
            ),
            spacing="4",
            width="100%",
        ),
        viewer(info=(photo_details(),)),
    )


refresh_on_change("/albums", AlbumsState.load_albums)
# The viewer first: it shows one photo, the album may have a page to read again.
refresh_on_change("/albums/", PhotoState.follow_changes, AlbumState.refresh)
