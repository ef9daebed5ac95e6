"""The page for an address the app does not have."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.layout import page_frame
from imgstream.state.session import SessionState


@rx.page(route="404", title="Page not found · ImgStream", on_load=SessionState.require_sign_in)
def not_found() -> rx.Component:
    """Says the page does not exist and leads back to the library."""
    return page_frame(
        rx.vstack(
            empty_state("map-pin-off", "Page not found",
                        "There is nothing at this address. It may have been mistyped, or the "
                        "photo or album it showed was deleted.", testid="not-found"),
            rx.link(rx.button(rx.icon("images", size=16), "Back to your library", size="3"),
                    href="/", custom_attrs={"data-testid": "not-found-home"}),
            align="center",
            width="100%",
        )
    )
