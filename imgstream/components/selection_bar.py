"""The bar that appears while photos are selected, with what can be done to them."""

from __future__ import annotations

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.components.native_form import native_form
from imgstream.state.albums import SelectionState
from imgstream.state.selection import SelectionActionsState

# Escape clears the selection, unless a dialog is open (Escape closes that instead).
ESCAPE_CLEARS_SCRIPT = """
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  if (document.querySelector('[role=dialog],[role=alertdialog],[data-testid=viewer]')) return;
  const clear = document.querySelector('[data-testid=selection-clear]');
  if (clear) clear.click();
});
"""


def selection_bar(*actions: rx.Component) -> rx.Component:
    """How many photos are selected, the actions given, and a button to clear the selection."""
    return rx.fragment(_bar(*actions), undo_bar())


def _bar(*actions: rx.Component) -> rx.Component:
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
                      type="button", on_click=[SelectionState.clear_selection,
                                               SelectionActionsState.forget_anchor],
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


def trash_selected_button() -> rx.Component:
    """Moves the selected photos to the trash (the undo bar then offers to bring them back)."""
    return rx.button(rx.icon("trash-2", size=14), "Move to trash", size="2", type="button",
                     color_scheme="red", variant="soft",
                     on_click=SelectionActionsState.trash_selected,
                     custom_attrs={"data-testid": "selection-trash"})


DOWNLOAD_FRAME = "imgstream-download"


def download_selected_button() -> rx.Component:
    """Downloads the selected photos' originals as one ZIP.

    The form posts into a hidden frame: the browser saves the answer as a file while the page,
    and its connection to the server, stay as they are.
    """
    return rx.fragment(
        native_form(
            rx.el.input(type="hidden", name="ids", value=SelectionState.selected.join(",")),
            rx.button(rx.icon("download", size=14), "Download", size="2", type="submit",
                      variant="soft", custom_attrs={"data-testid": "selection-download"}),
            action=backend_src(rx.Var.create("/archive")),
            method="post",
            target=DOWNLOAD_FRAME,
            display="contents",
        ),
        rx.el.iframe(name=DOWNLOAD_FRAME, title="Downloads", display="none",
                     custom_attrs={"aria-hidden": "true", "tabindex": "-1"}),
    )


def undo_bar() -> rx.Component:
    """After "move to trash": how many went, with Undo."""
    return rx.cond(
        SelectionActionsState.undo_count > 0,
        rx.flex(
            rx.text(
                rx.cond(SelectionActionsState.undo_count == 1, "1 photo",
                        SelectionActionsState.undo_count.to_string() + " photos"),
                " moved to the trash",
            ),
            rx.spacer(),
            rx.button("Undo", size="2", type="button", variant="solid",
                      on_click=SelectionActionsState.undo_trash,
                      custom_attrs={"data-testid": "selection-undo"}),
            rx.icon_button(rx.icon("x", size=14), size="2", variant="ghost", color_scheme="gray",
                           type="button", aria_label="Dismiss",
                           on_click=SelectionActionsState.dismiss_undo),
            align="center",
            spacing="2",
            width="100%",
            padding="0.6em 1em",
            border_radius="8px",
            background_color=rx.color("gray", 3),
            custom_attrs={"data-testid": "selection-undo-bar", "role": "status"},
        ),
    )


def favorite_buttons() -> rx.Component:
    """Favourite and unfavourite the selected photos."""
    return rx.fragment(
        rx.button(rx.icon("heart", size=14), "Favourite", size="2", type="button",
                  variant="soft", on_click=SelectionActionsState.favorite_selected(True),
                  custom_attrs={"data-testid": "selection-favorite"}),
        rx.button(rx.icon("heart-off", size=14), "Unfavourite", size="2", type="button",
                  variant="soft", color_scheme="gray",
                  on_click=SelectionActionsState.favorite_selected(False),
                  custom_attrs={"data-testid": "selection-unfavorite"}),
    )


def _shift_field(label: str, value: rx.Var, on_change: rx.EventHandler,
                 testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.input(value=value, on_change=on_change, type="number", step="1", width="5.5em",
                 custom_attrs={"data-testid": testid}),
        spacing="1",
    )


def shift_dates_button() -> rx.Component:
    """Moves the date taken of the selection by an amount (a camera clock set wrong)."""
    state = SelectionActionsState
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(rx.icon("calendar-clock", size=14), "Shift dates", size="2",
                      type="button", variant="soft",
                      custom_attrs={"data-testid": "selection-shift"}),
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Move the dates taken by (negative for earlier)", size="2"),
                rx.hstack(
                    _shift_field("Days", state.shift_days, state.set_shift_days,
                                 "selection-shift-days"),
                    _shift_field("Hours", state.shift_hours, state.set_shift_hours,
                                 "selection-shift-hours"),
                    _shift_field("Minutes", state.shift_minutes, state.set_shift_minutes,
                                 "selection-shift-minutes"),
                    spacing="2",
                ),
                rx.cond(state.shift_error != "",
                        rx.text(state.shift_error, color_scheme="red", size="2")),
                rx.button("Shift", type="button", on_click=state.shift_selected,
                          custom_attrs={"data-testid": "selection-shift-apply"}),
                spacing="3",
            ),
            max_width="min(22em, calc(100vw - 2em))",
        ),
        open=state.shift_open,
        on_open_change=state.set_shift_open,
    )
