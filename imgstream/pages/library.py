"""Home: upload and the timeline."""

from __future__ import annotations

import reflex as rx

from imgstream.components.layout import page_frame
from imgstream.components.photo_grid import photo_grid
from imgstream.components.upload_panel import upload_panel
from imgstream.state.gallery import GalleryState
from imgstream.state.session import SessionState


@rx.page(route="/", title="ImgStream", on_load=[SessionState.require_sign_in,
                                                 GalleryState.load_first_page])
def library() -> rx.Component:
    """The signed-in user's library."""
    return page_frame(
        rx.vstack(
            upload_panel(),
            photo_grid(),
            spacing="5",
            width="100%",
        )
    )
