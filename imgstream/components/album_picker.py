"""The "add to album" dialog: an existing album, or a new one named on the spot."""

from __future__ import annotations

import reflex as rx

from imgstream.state.albums import AlbumChoice, SelectionState


def _choice(choice: AlbumChoice) -> rx.Component:
    return rx.button(
        rx.icon("book-image", size=16),
        rx.text(choice.name, trim="both", class_name="truncate", flex="1", text_align="left"),
        rx.text(choice.count_label, size="1", color_scheme="gray"),
        variant="soft",
        color_scheme="gray",
        width="100%",
        justify="start",
        type="button",
        on_click=SelectionState.add_to_album(choice.id),
        custom_attrs={"data-testid": "album-picker-choice", "data-album-name": choice.name},
        key=choice.id,
    )


def album_picker() -> rx.Component:
    """The dialog, opened by SelectionState.open_picker or open_picker_for."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add to album"),
            rx.vstack(
                rx.cond(
                    SelectionState.choices.length() > 0,
                    rx.scroll_area(
                        rx.vstack(rx.foreach(SelectionState.choices, _choice), spacing="2",
                                  width="100%"),
                        max_height="40vh",
                        type="auto",
                    ),
                ),
                rx.form(
                    rx.hstack(
                        rx.input(
                            placeholder="New album name",
                            value=SelectionState.new_album_name,
                            on_change=SelectionState.set_new_album_name,
                            max_length=200,
                            flex="1",
                            custom_attrs={"data-testid": "album-new-name"},
                        ),
                        rx.button("Create and add", type="submit",
                                  disabled=SelectionState.new_album_name.strip() == "",
                                  custom_attrs={"data-testid": "album-new-submit"}),
                        width="100%",
                    ),
                    on_submit=lambda _form: SelectionState.add_to_album(""),
                    reset_on_submit=False,
                    width="100%",
                ),
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                          type="button")),
                spacing="3",
                align="end",
                width="100%",
            ),
            max_width="30em",
            custom_attrs={"data-testid": "album-picker"},
        ),
        open=SelectionState.picker_open,
        on_open_change=SelectionState.set_picker_open,
    )
