"""One photo, larger, with its details and a download of the original."""

from __future__ import annotations

import reflex as rx

from imgstream.components.album_picker import album_picker
from imgstream.components.layout import page_frame
from imgstream.components.media import backend_src
from imgstream.components.photo_details import photo_details
from imgstream.components.similar_photos import similar_photos
from imgstream.state.albums import SelectionState
from imgstream.state.live import refresh_on_change
from imgstream.state.photo import PhotoState
from imgstream.state.photo_edits import PhotoEditState
from imgstream.state.session import SessionState
from imgstream.state.similar_photos import SimilarPhotosState


def _fact(label: str, value: rx.Var, testid: str) -> rx.Component:
    # EXIF text is shown as text only (escaped by React), never as markup.
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(value, custom_attrs={"data-testid": testid}),
    )


def _move_to_trash_button() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("trash-2", size=16), "Move to trash", color_scheme="red",
                  variant="soft", type="button", on_click=PhotoState.move_to_trash,
                  custom_attrs={"data-testid": "move-to-trash"}),
        rx.text(
            "Photos stay in the ",
            rx.link("trash", href="/trash"),
            " for ", PhotoState.trash_days, " days before they are deleted forever.",
            size="1",
            color_scheme="gray",
        ),
        spacing="1",
    )


def _optional_fact(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.cond(value != "", _fact(label, value, testid))


def _detail() -> rx.Component:
    detail = PhotoState.detail
    return rx.flex(
        rx.box(
            # The frame has the photo's shape before the preview arrives, so the blurred
            # thumbhash placeholder fills exactly the space the preview will take.
            rx.box(
                rx.cond(
                    detail.image_url != "",
                    rx.image(
                        src=backend_src(detail.image_url),
                        alt=detail.filename,
                        width="100%",
                        height="100%",
                        object_fit="contain",
                        custom_attrs={"data-testid": "photo-preview"},
                    ),
                    rx.center(
                        rx.callout("This photo can't be shown right now. Try again later.",
                                   icon="image-off", color_scheme="gray", variant="surface"),
                        width="100%",
                        height="100%",
                        custom_attrs={"data-testid": "photo-unavailable"},
                    ),
                ),
                width=detail.image_frame_width,
                aspect_ratio=detail.image_aspect,
                border_radius="8px",
                overflow="hidden",
                background_image="url(" + detail.placeholder + ")",
                background_size="100% 100%",
                custom_attrs={"data-testid": "photo-preview-frame"},
            ),
            # On a phone the photo takes the whole width and the details go below it.
            flex=["1 1 100%", "1 1 100%", "3 1 480px"],
            min_width="0",
        ),
        rx.vstack(
            rx.heading(detail.filename, size="5", word_break="break-all"),
            photo_details(),
            rx.data_list.root(
                _fact("Taken", detail.taken_label, "fact-taken"),
                _optional_fact("Date from", detail.taken_source, "fact-taken-source"),
                _optional_fact("Camera", detail.camera, "fact-camera"),
                _optional_fact("Lens", detail.lens, "fact-lens"),
                _optional_fact("Exposure", detail.exposure, "fact-exposure"),
                _optional_fact("Location", detail.location, "fact-location"),
                _fact("Dimensions", detail.dimensions, "fact-dimensions"),
                _fact("File size", detail.size_label, "fact-size"),
                _fact("Format", detail.format, "fact-format"),
                orientation="vertical",
            ),
            rx.cond(
                detail.download_url != "",
                rx.button(
                    rx.link(
                        rx.icon("download", size=16),
                        "Download original",
                        href=backend_src(detail.download_url),
                        # A real document request, so the browser saves the attachment.
                        reload_document=True,
                        download=detail.filename,
                        custom_attrs={"data-testid": "download-original"},
                    ),
                    as_child=True,
                ),
                rx.button(rx.icon("download", size=16), "Download original", disabled=True,
                          type="button", title="The original can't be downloaded right now.",
                          custom_attrs={"data-testid": "download-unavailable"}),
            ),
            rx.button(rx.icon("folder-plus", size=16), "Add to album", variant="soft",
                      type="button", on_click=SelectionState.open_picker_for(detail.id),
                      custom_attrs={"data-testid": "album-add"}),
            _move_to_trash_button(),
            album_picker(),
            flex="1",
            min_width="min(16em, 100%)",
            spacing="4",
        ),
        gap="2em",
        flex_wrap="wrap",
        custom_attrs={"data-testid": "photo-detail"},
    )


@rx.page(route="/photo/[photo_id]", title="Photo · ImgStream",
         on_load=[SessionState.require_sign_in, PhotoState.load_photo,
                  PhotoEditState.load, SimilarPhotosState.load_similar])
def photo() -> rx.Component:
    """The detail view."""
    return page_frame(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Library")), href="/"),
            rx.cond(
                PhotoState.not_found,
                rx.callout("This photo does not exist or is not in your library.",
                           icon="triangle-alert", color_scheme="red"),
                rx.cond(PhotoState.detail, _detail(), rx.spinner(size="3")),
            ),
            similar_photos(),
            spacing="4",
            width="100%",
        )
    )


refresh_on_change("/photo/", PhotoState.load_photo)
