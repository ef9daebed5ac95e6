"""A photo's own address: the library with the viewer open on it."""

from __future__ import annotations

import reflex as rx

from imgstream.pages.library import library_content
from imgstream.state.gallery import GalleryState
from imgstream.state.live import refresh_on_change
from imgstream.state.photo import PhotoState
from imgstream.state.photo_edits import PhotoEditState
from imgstream.state.session import SessionState
from imgstream.state.similar_photos import SimilarPhotosState


@rx.page(route="/photo/[photo_id]", title="Photo · ImgStream",
         on_load=[SessionState.require_sign_in, GalleryState.open_timeline,
                  PhotoState.load_photo, PhotoEditState.load,
                  SimilarPhotosState.load_similar])
def photo() -> rx.Component:
    """The viewer on the photo named in the address, over the timeline."""
    return library_content()


# The photo page is the library with the viewer open: both follow changes.
refresh_on_change("/photo/", PhotoState.follow_changes, GalleryState.refresh)
