"""The viewer: one photo over the whole window, previous and next, zoom, and its details.

Keys, swipe, zoom and the history entry are handled by the page's viewer script (viewer.js),
which presses the viewer's buttons.
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.state.albums import SelectionState
from imgstream.state.photo import PhotoState

# The viewer's keys, swipe, zoom and history entry, loaded once in the page head.
VIEWER_SCRIPT = (Path(__file__).parent / "viewer.js").read_text()

_ON_DARK = "rgba(255, 255, 255, 0.92)"


def _fact(label: str, value: rx.Var, testid: str) -> rx.Component:
    # EXIF text is shown as text only (escaped by React), never as markup.
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(value, custom_attrs={"data-testid": testid}),
    )


def _optional_fact(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.cond(value != "", _fact(label, value, testid))


def _location() -> rx.Component:
    detail = PhotoState.detail
    return rx.cond(
        detail.location != "",
        rx.data_list.item(
            rx.data_list.label("Location"),
            rx.data_list.value(
                rx.link(detail.location, href=detail.map_url, is_external=True,
                        rel="noopener noreferrer",
                        custom_attrs={"data-testid": "fact-location"}),
            ),
        ),
    )


def info_panel(*extra: rx.Component, below: tuple[rx.Component, ...] = ()) -> rx.Component:
    """The photo's details, with `extra` above them (title, description) and `below` under them.

    Args:
        extra: Content above the facts (editable title and description).
        below: Content under the facts (similar photos).
    """
    detail = PhotoState.detail
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.heading("Info", size="4"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                               type="button", aria_label="Hide info",
                               on_click=PhotoState.toggle_info),
                width="100%",
                align="center",
            ),
            *extra,
            rx.text(detail.filename, weight="medium", word_break="break-all"),
            rx.data_list.root(
                _fact("Taken", detail.taken_label, "fact-taken"),
                _optional_fact("Date from", detail.taken_source, "fact-taken-source"),
                _optional_fact("Camera", detail.camera, "fact-camera"),
                _optional_fact("Lens", detail.lens, "fact-lens"),
                _optional_fact("Exposure", detail.exposure, "fact-exposure"),
                _location(),
                _fact("Dimensions", detail.dimensions, "fact-dimensions"),
                _fact("File size", detail.size_label, "fact-size"),
                _fact("Format", detail.format, "fact-format"),
                orientation="vertical",
            ),
            rx.text("Photos stay in the ", rx.link("trash", href="/trash"), " for ",
                    PhotoState.trash_days, " days before they are deleted forever.",
                    size="1", color_scheme="gray"),
            *below,
            spacing="4",
            padding="1.25em",
        ),
        display=rx.cond(PhotoState.show_info, "block", "none"),
        position=["absolute", "absolute", "static"],
        bottom="0",
        left="0",
        right="0",
        max_height=["55vh", "55vh", "none"],
        width=["100%", "100%", "360px"],
        flex_shrink="0",
        overflow_y="auto",
        background_color=rx.color("gray", 1),
        color=rx.color("gray", 12),
        z_index="2",
        custom_attrs={"data-testid": "viewer-info-panel"},
    )


def _bar_button(icon: str, label: str, testid: str, **props) -> rx.Component:
    # A 40 px target around a 20 px icon, as the download link beside it draws (a `size` would
    # make Reflex redraw the icon at 36 px).
    return rx.icon_button(rx.icon(icon, size=20), variant="ghost", type="button",
                          aria_label=label, title=label, color=_ON_DARK,
                          width="40px", height="40px",
                          custom_attrs={"data-testid": testid}, **props)


def _download() -> rx.Component:
    detail = PhotoState.detail
    return rx.cond(
        detail.download_url != "",
        rx.link(
            rx.icon("download", size=20),
            href=backend_src(detail.download_url),
            # A real document request, so the browser saves the attachment.
            reload_document=True,
            download=detail.filename,
            title="Download original",
            aria_label="Download original",
            color=_ON_DARK,
            padding="10px",
            line_height="0",
            custom_attrs={"data-testid": "download-original"},
        ),
        _bar_button("download", "The original can't be downloaded right now.",
                    "download-unavailable", disabled=True),
    )


def _top_bar(*actions: rx.Component) -> rx.Component:
    return rx.hstack(
        _bar_button("arrow-left", "Close", "viewer-close", on_click=PhotoState.close),
        rx.text(PhotoState.detail.filename, color=_ON_DARK, size="2", truncate=True,
                flex="1", min_width="0"),
        *actions,
        _download(),
        _bar_button("folder-plus", "Add to album", "album-add",
                    on_click=SelectionState.open_picker_for(PhotoState.detail.id)),
        _bar_button("trash-2", "Move to trash", "move-to-trash",
                    on_click=PhotoState.move_to_trash),
        _bar_button("info", "Info", "viewer-info", on_click=PhotoState.toggle_info,
                    aria_pressed=PhotoState.show_info),
        align="center",
        spacing="1",
        padding="6px 8px",
        width="100%",
        background="linear-gradient(rgba(0,0,0,0.6), rgba(0,0,0,0))",
        position="absolute",
        top="0",
        left="0",
        right="0",
        z_index="1",
    )


def _side_button(icon: str, label: str, testid: str, target: rx.Var,
                 side: str) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=28),
        on_click=PhotoState.show(target),
        disabled=target == "",
        visibility=rx.cond(target == "", "hidden", "visible"),
        variant="ghost",
        type="button",
        aria_label=label,
        title=label,
        size="4",
        radius="full",
        color=_ON_DARK,
        background_color="rgba(0,0,0,0.35)",
        position="absolute",
        top="50%",
        transform="translateY(-50%)",
        z_index="1",
        custom_attrs={"data-testid": testid},
        **{side: "8px"},
    )


def _stage() -> rx.Component:
    detail = PhotoState.detail
    return rx.box(
        rx.cond(
            detail.image_url != "",
            rx.image(
                src=backend_src(detail.image_url),
                alt=detail.filename,
                width="100%",
                height="100%",
                object_fit="contain",
                background_image="url(" + detail.placeholder + ")",
                background_size="contain",
                background_position="center",
                background_repeat="no-repeat",
                draggable=False,
                cursor="zoom-in",
                transform_origin="center",
                user_select="none",
                key=detail.id,
                custom_attrs={"data-testid": "photo-preview", "data-viewer-image": "",
                              "data-full-src": backend_src(detail.full_url),
                              "data-full-width": detail.width},
            ),
            rx.center(
                rx.callout("This photo can't be shown right now. Try again later.",
                           icon="image-off", color_scheme="gray", variant="surface"),
                width="100%",
                height="100%",
                custom_attrs={"data-testid": "photo-unavailable"},
            ),
        ),
        _side_button("chevron-left", "Previous photo", "viewer-prev", detail.newer_id, "left"),
        _side_button("chevron-right", "Next photo", "viewer-next", detail.older_id, "right"),
        position="relative",
        flex="1",
        min_width="0",
        height="100%",
        overflow="hidden",
        touch_action="none",
        custom_attrs={"data-viewer-stage": "", "data-testid": "photo-preview-frame"},
    )


def viewer(*actions: rx.Component, info: tuple[rx.Component, ...] = (),
           below: tuple[rx.Component, ...] = ()) -> rx.Component:
    """The photo in the viewer over the whole window, while one is open.

    Args:
        actions: More buttons for the top bar (a favourite heart).
        info: More content at the top of the info panel (title and description fields).
        below: More content at the end of the info panel (similar photos).
    """
    return rx.cond(
        PhotoState.open,
        rx.box(
            rx.cond(
                PhotoState.not_found,
                rx.center(
                    rx.vstack(
                        rx.callout("This photo does not exist or is not in your library.",
                                   icon="triangle-alert", color_scheme="red"),
                        rx.button("Back to the library", on_click=PhotoState.close,
                                  type="button",
                                  custom_attrs={"data-testid": "viewer-close"}),
                        align="center",
                    ),
                    height="100%",
                ),
                rx.cond(
                    PhotoState.detail,
                    rx.flex(
                        rx.box(_top_bar(*actions), _stage(), position="relative", flex="1",
                               min_width="0", height="100%", display="flex"),
                        info_panel(*info, below=below),
                        height="100%",
                        width="100%",
                        custom_attrs={"data-testid": "photo-detail"},
                    ),
                    rx.center(rx.spinner(size="3"), height="100%"),
                ),
            ),
            position="fixed",
            inset="0",
            z_index="50",
            background_color="#000",
            custom_attrs={"data-testid": "viewer", "role": "dialog", "aria-modal": "true"},
        ),
    )
