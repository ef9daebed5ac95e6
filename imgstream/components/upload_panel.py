"""The drop zone and the per-file upload queue."""

from __future__ import annotations

import reflex as rx

from imgstream.state.upload import UploadRow, UploadState

UPLOAD_ID = "photos"


def _drop_zone() -> rx.Component:
    zone = rx.upload(
        rx.vstack(
            rx.icon("upload", size=28, color=rx.color("accent", 10)),
            rx.text("Drop photos here, or click to choose", weight="medium"),
            rx.text("JPEG, PNG, WebP, GIF, HEIC or AVIF, up to 100 MB each", size="1",
                    color_scheme="gray"),
            align="center",
            spacing="1",
        ),
        id=UPLOAD_ID,
        multiple=True,
        no_keyboard=False,
        on_drop=UploadState.receive_photos(
            rx.upload_files_chunk(
                upload_id=UPLOAD_ID, on_upload_progress=UploadState.track_progress
            )
        ),
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="12px",
        padding="1.5em",
        width="100%",
        cursor="pointer",
        custom_attrs={"data-testid": "upload-zone"},
    )
    # The dropzone's hidden <input type=file> is created inside rx.upload; tag it for tests.
    zone.children[0].children[0].custom_attrs["data-testid"] = "upload-input"
    return zone


_STATUS_COLOR = {"added": "green", "duplicate": "gray", "rejected": "red",
                 "processing": "amber", "receiving": "blue"}


def _row(row: UploadRow) -> rx.Component:
    return rx.hstack(
        rx.match(
            row.status,
            ("added", rx.icon("circle-check", color=rx.color("green", 10), size=18)),
            ("rejected", rx.icon("circle-x", color=rx.color("red", 10), size=18)),
            ("duplicate", rx.icon("copy", color=rx.color("gray", 10), size=18)),
            rx.spinner(size="2"),
        ),
        rx.text(row.filename, weight="medium", trim="both", class_name="truncate",
                max_width="40%"),
        rx.text(row.received_label, size="1", color_scheme="gray"),
        rx.spacer(),
        rx.text(
            row.message,
            size="2",
            color=rx.match(
                row.status,
                *[(k, rx.color(v, 11)) for k, v in _STATUS_COLOR.items()],
                rx.color("gray", 11),
            ),
        ),
        rx.cond(
            row.status == "duplicate",
            rx.link("open it", href="/photo/" + row.photo_id, size="2",
                    custom_attrs={"data-testid": "open-duplicate"}),
        ),
        key=row.key,
        align="center",
        width="100%",
        padding_y="0.35em",
        border_bottom="1px solid var(--gray-a3)",
        custom_attrs={"data-testid": "upload-item", "data-status": row.status},
    )


def upload_panel() -> rx.Component:
    """Drop zone, batch progress and one row per file."""
    return rx.vstack(
        _drop_zone(),
        rx.cond(
            UploadState.uploading,
            rx.progress(value=UploadState.batch_progress, width="100%"),
        ),
        rx.cond(
            UploadState.rows.length() > 0,
            rx.vstack(
                rx.foreach(UploadState.rows, _row),
                rx.button("Clear finished", variant="ghost", size="1",
                          on_click=UploadState.clear_finished, type="button"),
                width="100%",
                spacing="0",
                custom_attrs={"data-testid": "upload-queue"},
            ),
        ),
        width="100%",
        spacing="3",
    )
