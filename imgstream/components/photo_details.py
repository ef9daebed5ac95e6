"""The edit controls of one photo: favourite, title, description, date taken, rotation.

One component, shown on the photo page and in the viewer's info panel alike.
"""

from __future__ import annotations

import reflex as rx

from imgstream.state.photo_edits import PhotoEditState


def favorite_button() -> rx.Component:
    """A heart that makes the photo a favourite, or not."""
    return rx.icon_button(
        rx.icon("heart", fill=rx.cond(PhotoEditState.favorite, "currentColor", "none")),
        on_click=PhotoEditState.toggle_favorite,
        variant=rx.cond(PhotoEditState.favorite, "solid", "soft"),
        color_scheme="red",
        type="button",
        title=rx.cond(PhotoEditState.favorite, "Remove from favourites", "Add to favourites"),
        aria_label=rx.cond(PhotoEditState.favorite, "Remove from favourites",
                           "Add to favourites"),
        aria_pressed=PhotoEditState.favorite,
        custom_attrs={"data-testid": "photo-favorite",
                      "data-favorite": rx.cond(PhotoEditState.favorite, "true", "false")},
    )


def rotate_button() -> rx.Component:
    """Turns the photo a quarter clockwise; the original file stays as it is."""
    return rx.button(
        rx.icon("rotate-cw", size=16), "Rotate",
        on_click=PhotoEditState.rotate(1),
        loading=PhotoEditState.rotating,
        variant="soft",
        type="button",
        title="Turn a quarter to the right (the original file is not changed)",
        custom_attrs={"data-testid": "photo-rotate"},
    )


def _date_editor() -> rx.Component:
    return rx.vstack(
        rx.text("Date taken", size="2", weight="medium"),
        rx.flex(
            rx.input(
                type="datetime-local",
                value=PhotoEditState.taken_local,
                on_change=PhotoEditState.set_taken_local,
                on_focus=PhotoEditState.focus("taken"),
                on_blur=PhotoEditState.blur("taken"),
                aria_label="Date and time taken",
                custom_attrs={"data-testid": "photo-date-input"},
            ),
            rx.select(
                PhotoEditState.offset_choices,
                value=PhotoEditState.taken_offset,
                on_change=PhotoEditState.set_taken_offset,
                aria_label="Time zone",
                custom_attrs={"data-testid": "photo-timezone-select"},
            ),
            rx.button("Save date", on_click=PhotoEditState.save_taken, variant="soft",
                      type="button", custom_attrs={"data-testid": "photo-date-save"}),
            gap="2",
            flex_wrap="wrap",
        ),
        spacing="1",
        width="100%",
    )


def photo_details() -> rx.Component:
    """Favourite, title, description, date taken with its time zone, and rotate."""
    return rx.vstack(
        rx.hstack(favorite_button(), rotate_button(), spacing="2", align="center"),
        rx.input(
            value=PhotoEditState.title,
            on_change=PhotoEditState.set_title,
            on_focus=PhotoEditState.focus("title"),
            on_blur=PhotoEditState.save_title,
            placeholder="Add a title",
            max_length=500,
            aria_label="Title",
            width="100%",
            custom_attrs={"data-testid": "photo-title-input"},
        ),
        rx.text_area(
            value=PhotoEditState.description,
            on_change=PhotoEditState.set_description,
            on_focus=PhotoEditState.focus("description"),
            on_blur=PhotoEditState.save_description,
            placeholder="Add a description",
            max_length=5000,
            aria_label="Description",
            width="100%",
            custom_attrs={"data-testid": "photo-description-input"},
        ),
        _date_editor(),
        rx.cond(
            PhotoEditState.error != "",
            rx.callout(PhotoEditState.error, icon="triangle-alert", color_scheme="red",
                       size="1", custom_attrs={"data-testid": "photo-edit-error"}),
        ),
        spacing="3",
        width="100%",
        custom_attrs={"data-testid": "photo-details"},
    )
