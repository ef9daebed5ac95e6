"""The trash: photos moved there, to restore or delete forever."""

from __future__ import annotations

import reflex as rx

from imgstream.components.layout import page_frame
from imgstream.components.trash_grid import confirm_dialog, empty_trash_button, trash_grid
from imgstream.state.live import refresh_on_change
from imgstream.state.session import SessionState
from imgstream.state.trash import TrashState


@rx.page(route="/trash", title="Trash · ImgStream",
         on_load=[SessionState.require_sign_in, TrashState.load_trash])
def trash() -> rx.Component:
    """The trash page."""
    return page_frame(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Library")), href="/"),
            rx.hstack(
                rx.heading("Trash", size="6"),
                rx.spacer(),
                empty_trash_button(),
                align="center",
                width="100%",
            ),
            trash_grid(),
            confirm_dialog(),
            spacing="4",
            width="100%",
        )
    )


refresh_on_change("/trash", TrashState.load_trash)
