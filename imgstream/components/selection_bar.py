"""The bar that appears while photos are selected, with what can be done to them."""

from __future__ import annotations

import reflex as rx

from imgstream.state.albums import SelectionState


def selection_bar(*actions: rx.Component) -> rx.Component:
    """How many photos are selected, the actions given, and a button to clear the selection."""
    return rx.cond(
        SelectionState.selected_count > 0,
        rx.flex(
            rx.text(
                rx.cond(SelectionState.selected_count == 1, "1 photo",
                        SelectionState.selected_count.to_string() + " photos"),
                " selected",
                weight="medium",
                custom_attrs={"data-testid": "selection-count"},
            ),
            rx.spacer(),
            *actions,
            rx.button(rx.icon("x", size=14), "Clear", variant="ghost", color_scheme="gray",
                      type="button", on_click=SelectionState.clear_selection,
                      custom_attrs={"data-testid": "selection-clear"}),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
            padding="0.6em 1em",
            border_radius="8px",
            background_color=rx.color("accent", 3),
            position="sticky",
            top="0.5em",
            z_index="5",
            custom_attrs={"data-testid": "selection-bar"},
        ),
    )


def add_to_album_button(**props) -> rx.Component:
    """Opens the "add to album" dialog for the selection."""
    return rx.button(rx.icon("folder-plus", size=14), "Add to album", size="2", type="button",
                     on_click=SelectionState.open_picker,
                     custom_attrs={"data-testid": "album-add"}, **props)
