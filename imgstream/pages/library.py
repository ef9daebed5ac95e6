"""Home: upload and the timeline, with the viewer over it."""

from __future__ import annotations

import reflex as rx

from imgstream.components.album_picker import album_picker
from imgstream.components.layout import page_frame
from imgstream.components.photo_details import photo_details
from imgstream.components.selection_bar import (
    add_to_album_button,
    download_selected_button,
    favorite_buttons,
    selection_bar,
    shift_dates_button,
    trash_selected_button,
)
from imgstream.components.share_dialog import share_button, share_dialog
from imgstream.components.similar_photos import similar_photos
from imgstream.components.timeline import SCRUBBER_ROOM, timeline
from imgstream.components.upload_panel import upload_panel
from imgstream.components.viewer import viewer
from imgstream.state.albums import SelectionState
from imgstream.state.gallery import GalleryState
from imgstream.state.live import refresh_on_change
from imgstream.state.photo import PhotoState
from imgstream.state.session import SessionState
from imgstream.state.sharing import SharingState


def library_content() -> rx.Component:
    """The library page: upload, the timeline and the viewer (closed unless a photo is open)."""
    return page_frame(
        rx.vstack(
            upload_panel(),
            selection_bar(add_to_album_button(),
                          share_button(SharingState.open_for_selection),
                          favorite_buttons(), shift_dates_button(),
                          download_selected_button(), trash_selected_button()),
            timeline(),
            album_picker(),
            share_dialog(),
            spacing="5",
            width="100%",
            # Room for the timeline's scrubber along the right edge, beside everything above it.
            padding_right=SCRUBBER_ROOM,
            # Files dropped anywhere on the page are uploaded, not only on the drop zone.
            custom_attrs={"data-drop-anywhere": "", "data-testid": "library-drop-target"},
        ),
        viewer(info=(photo_details(),), below=(similar_photos(),)),
    )


@rx.page(route="/", title="ImgStream", on_load=[SessionState.require_sign_in,
                                                 GalleryState.open_timeline,
                                                 SelectionState.clear_selection,
                                                 PhotoState.dismiss])
def library() -> rx.Component:
    """The signed-in user's library."""
    return library_content()


# The viewer first: it shows one photo, the timeline may have months to read again.
refresh_on_change("/", PhotoState.follow_changes, GalleryState.refresh)
