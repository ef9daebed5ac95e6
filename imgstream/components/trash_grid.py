"""The trash: cards of trashed photos with restore and delete forever, and the confirm dialog."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.media import square_thumbnail
from imgstream.state.trash import TrashCard, TrashState


def _card(card: TrashCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            square_thumbnail(card.thumbnail_url, card.filename, card.placeholder,
                             border_radius="6px"),
            rx.text(card.filename, size="2", weight="medium", trim="both",
                    class_name="truncate", width="100%", title=card.filename),
            rx.flex(
                rx.text(card.deleted_label, size="1", color_scheme="gray", white_space="nowrap"),
                rx.badge(card.days_left_label, size="1", variant="soft",
                         color_scheme=rx.cond(card.ending_soon, "red", "gray"),
                         custom_attrs={"data-testid": "trash-days-left"}),
                width="100%",
                align="center",
                justify="between",
                wrap="wrap",
                gap="1",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("undo-2", size=14), "Restore",
                    size="1", variant="soft", type="button",
                    on_click=TrashState.restore_photo(card.id),
                    custom_attrs={"data-testid": "trash-restore"},
                ),
                rx.button(
                    rx.icon("trash-2", size=14), "Delete forever",
                    size="1", variant="soft", color_scheme="red", type="button",
                    on_click=TrashState.ask_delete_forever(card.id),
                    custom_attrs={"data-testid": "trash-delete-forever"},
                ),
                width="100%",
                justify="between",
                wrap="wrap",
                spacing="2",
            ),
            spacing="2",
        ),
        key=card.id,
        size="1",
        custom_attrs={"data-testid": "trash-card", "data-photo-id": card.id,
                      "data-filename": card.filename},
    )


def trash_summary() -> rx.Component:
    """What the trash holds and that it still counts toward storage."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("info", size=16)),
        rx.callout.text(
            rx.cond(
                TrashState.photo_count == 1,
                rx.text.strong("1 photo"),
                rx.text.strong(TrashState.photo_count, " photos"),
            ),
            " (", TrashState.trash_label, ") in the trash. They still count toward your "
            "storage (", TrashState.used_label, " of ", TrashState.quota_label,
            " used) until they are deleted forever, which happens automatically ",
            TrashState.trash_days, " days after they were moved here.",
            custom_attrs={"data-testid": "trash-summary"},
        ),
        color_scheme="gray",
        variant="surface",
        width="100%",
    )


def empty_trash_button() -> rx.Component:
    """Opens the dialog that deletes everything in the trash forever."""
    return rx.button(
        rx.icon("trash-2", size=16), "Empty trash",
        color_scheme="red", variant="solid", type="button",
        disabled=TrashState.photo_count == 0,
        on_click=TrashState.ask_empty_trash,
        custom_attrs={"data-testid": "trash-empty"},
    )


def confirm_dialog() -> rx.Component:
    """One dialog for both delete forever and empty trash."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(TrashState.confirm_title),
            rx.alert_dialog.description(TrashState.confirm_text,
                                        custom_attrs={"data-testid": "trash-confirm-text"}),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 type="button")),
                rx.alert_dialog.action(
                    rx.button("Delete forever", color_scheme="red", type="button",
                              on_click=TrashState.confirm,
                              custom_attrs={"data-testid": "trash-confirm"}),
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=TrashState.confirm_open,
        on_open_change=TrashState.set_confirm_open,
    )


def _empty_state() -> rx.Component:
    return empty_state(
        "trash-2", "The trash is empty",
        "Photos you move to the trash stay here for ", TrashState.trash_days,
        " days, so you can restore them, before they are deleted forever.",
        testid="trash-empty-state",
    )


def trash_grid() -> rx.Component:
    """Cards of the loaded pages of the trash, with a button for the next one."""
    return rx.cond(
        TrashState.loaded,
        rx.cond(
            TrashState.cards.length() > 0,
            rx.vstack(
                trash_summary(),
                rx.grid(
                    rx.foreach(TrashState.cards, _card),
                    columns="repeat(auto-fill, minmax(200px, 1fr))",
                    gap="12px",
                    width="100%",
                    custom_attrs={"data-testid": "trash-grid"},
                ),
                rx.cond(
                    TrashState.has_more,
                    rx.button("Load more", on_click=TrashState.load_more, variant="soft",
                              type="button", custom_attrs={"data-testid": "trash-load-more"}),
                ),
                align="center",
                width="100%",
                spacing="4",
            ),
            _empty_state(),
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )
