"""The drop zone, the per-file upload queue, the collision dialog and the batch summary."""

from __future__ import annotations

import json
from pathlib import Path

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.models import ACTIVE_UPLOAD_STATUSES, UploadStatus
from imgstream.state.upload import UploadState
from imgstream.state.upload_rows import CollisionItem, SummaryGroup, UploadRow

S = UploadStatus
# The page script names statuses as the server does: the values come from the enum.
UPLOAD_QUEUE_SCRIPT = (
    f"window.imgstreamUploadStatus = Object.freeze("
    f"{json.dumps({status.name.lower(): status.value for status in UploadStatus})});\n"
    + (Path(__file__).parent / "upload_queue.js").read_text()
)

_STATUS_COLOR = {S.ADDED: "green", S.REPLACED: "green", S.KEPT_BOTH: "green",
                 S.DUPLICATE: "gray", S.SKIPPED: "gray", S.REJECTED: "red", S.FAILED: "red",
                 S.CANCELLED: "gray", S.PROCESSING: "amber", S.UPLOADING: "blue",
                 S.WAITING: "gray", S.NEEDS_DECISION: "amber", S.PAUSED: "amber"}
_FINAL_ICONS = {S.ADDED: "circle-check", S.REPLACED: "refresh-cw", S.KEPT_BOTH: "copy-plus",
                S.DUPLICATE: "copy", S.SKIPPED: "skip-forward", S.REJECTED: "circle-x",
                S.FAILED: "circle-alert", S.CANCELLED: "circle-slash",
                S.NEEDS_DECISION: "circle-help", S.WAITING: "clock", S.PAUSED: "circle-pause"}


def _drop_zone() -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="file",
            multiple=True,
            accept="image/*,.heic,.heif,.avif",
            class_name="imgstream-visually-hidden",
            custom_attrs={"data-photo-input": "", "data-testid": "upload-input"},
        ),
        rx.vstack(
            rx.icon("upload", size=28, color=rx.color("accent", 10)),
            rx.text("Drop photos here, or click to choose", weight="medium"),
            rx.text(UploadState.accepted_files_label, size="1", color_scheme="gray",
                    custom_attrs={"data-testid": "upload-limits"}),
            align="center",
            spacing="1",
        ),
        display="block",
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="12px",
        padding="1.5em",
        width="100%",
        cursor="pointer",
        custom_attrs={
            "data-testid": "upload-zone",
            "data-drop-zone": "",
            "data-upload-endpoint": backend_src(rx.Var.create("/api/v1/uploads")),
        },
        on_mount=UploadState.connect,
    )


def _status_icon(status: rx.Var[str]) -> rx.Component:
    return rx.match(
        status,
        *[(status.value, rx.icon(icon, color=rx.color(_STATUS_COLOR[status], 10), size=18))
          for status, icon in _FINAL_ICONS.items()],
        rx.spinner(size="2"),
    )


@rx.memo
def upload_row(row_key: rx.Var[str], filename: rx.Var[str], received_label: rx.Var[str],
               status: rx.Var[str], message: rx.Var[str], photo_id: rx.Var[str],
               progress: rx.Var[int], in_trash: rx.Var[bool], rest: rx.RestProp
               ) -> rx.Component:
    """One file of the queue.

    Its own component, given plain values: while files are on their way, only the rows whose
    values changed render again, not every row of the batch.
    """
    active = rx.Var.create(sorted(s.value for s in ACTIVE_UPLOAD_STATUSES)).contains(status)
    # On a narrow screen what happened wraps under the file's name instead of squeezing it.
    return rx.vstack(
        rx.flex(
            rx.hstack(
                _status_icon(status),
                rx.text(filename, weight="medium", trim="both", class_name="truncate",
                        min_width="0"),
                rx.text(received_label, size="1", color_scheme="gray", white_space="nowrap"),
                align="center",
                min_width="0",
                max_width="100%",
                flex="1 1 auto",
            ),
            rx.hstack(
                rx.text(
                    message,
                    size="2",
                    color=rx.match(
                        status,
                        *[(k.value, rx.color(v, 11)) for k, v in _STATUS_COLOR.items()],
                        rx.color("gray", 11),
                    ),
                    custom_attrs={"data-testid": "upload-message"},
                ),
                rx.cond(
                    status == S.DUPLICATE.value,
                    rx.cond(
                        in_trash,
                        rx.button("Restore it", size="1", variant="soft",
                                  on_click=UploadState.restore_duplicate(row_key),
                                  custom_attrs={"data-testid": "restore-duplicate"}),
                        rx.link("open it", href="/photo/" + photo_id, size="2",
                                custom_attrs={"data-testid": "open-duplicate"}),
                    ),
                ),
                rx.cond(
                    status == S.FAILED.value,
                    rx.button("Retry", size="1", variant="soft",
                              on_click=UploadState.retry_file(row_key),
                              custom_attrs={"data-testid": "upload-retry"}),
                ),
                rx.cond(
                    status == S.PAUSED.value,
                    rx.hstack(
                        rx.button("Resume", size="1", variant="soft", type="button",
                                  on_click=rx.call_script("window.imgstreamUploads.pick()"),
                                  custom_attrs={"data-testid": "upload-resume"}),
                        rx.button("Discard", size="1", variant="soft", color_scheme="red",
                                  type="button", on_click=UploadState.discard_file(row_key),
                                  custom_attrs={"data-testid": "upload-discard"}),
                        spacing="2",
                    ),
                ),
                rx.cond(
                    active,
                    rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost",
                                   color_scheme="gray", aria_label="Cancel this file",
                                   on_click=UploadState.cancel_file(row_key),
                                   custom_attrs={"data-testid": "upload-cancel"}),
                ),
                align="center",
                justify="end",
                margin_left="auto",
                flex_wrap="wrap",
            ),
            align="center",
            wrap="wrap",
            gap="0.25em 0.75em",
            width="100%",
        ),
        rx.cond(
            (status == S.UPLOADING.value) | (status == S.PAUSED.value),
            rx.progress(value=progress, size="1", width="100%"),
        ),
        rest,
        width="100%",
        spacing="1",
        padding_y="0.35em",
        border_bottom="1px solid var(--gray-a3)",
        custom_attrs={"data-testid": "upload-item", "data-status": status},
    )


def _row(row: UploadRow) -> rx.Component:
    return upload_row(row_key=row.key, filename=row.filename, received_label=row.received_label,
                      status=row.status, message=row.message, photo_id=row.photo_id,
                      progress=row.progress, in_trash=row.in_trash, key=row.key)


def _side(title: str, image: rx.Component, *lines: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color_scheme="gray"),
        rx.box(image, width="100%", height="180px", border_radius="8px", overflow="hidden",
               background=rx.color("gray", 3), display="flex", align_items="center",
               justify_content="center"),
        *lines,
        spacing="1",
        width="50%",
        min_width="0",
    )


def _collision_body(item: CollisionItem) -> rx.Component:
    fit = {"width": "100%", "height": "100%", "object_fit": "contain"}
    return rx.hstack(
        _side(
            "In your library",
            rx.cond(
                item.existing_thumbnail_url != "",
                rx.image(src=backend_src(item.existing_thumbnail_url), alt=item.existing_name,
                         **fit),
                rx.icon("image", size=40, color=rx.color("gray", 9)),
            ),
            rx.text(item.existing_name, weight="medium", class_name="truncate"),
            rx.text("Taken ", item.existing_taken_label, size="1"),
            rx.text("Uploaded ", item.existing_uploaded_label, size="1"),
            rx.text(item.existing_size_label, size="1", color_scheme="gray"),
        ),
        _side(
            "New file",
            rx.cond(
                item.new_preview != "",
                rx.image(src=item.new_preview, alt=item.new_name, **fit),
                rx.icon("image", size=40, color=rx.color("gray", 9)),
            ),
            rx.text(item.new_name, weight="medium", class_name="truncate"),
            rx.text(item.new_size_label, size="1", color_scheme="gray"),
        ),
        spacing="4",
        width="100%",
        align="start",
    )


def _collision_dialog() -> rx.Component:
    current = UploadState.collisions[0]
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("A photo with this name exists"),
            rx.dialog.description(
                rx.cond(
                    UploadState.collision_count > 1,
                    rx.fragment(UploadState.collision_count, " files have names already taken. "
                                "Nothing is uploaded until you decide."),
                    "Nothing is uploaded until you decide.",
                ),
                size="2",
                margin_bottom="1em",
            ),
            rx.cond(UploadState.collision_count > 0, _collision_body(current)),
            rx.cond(
                UploadState.collision_count > 1,
                rx.el.label(
                    rx.checkbox(checked=UploadState.apply_to_all,
                                on_change=UploadState.set_apply_to_all,
                                custom_attrs={"data-testid": "collision-apply-all"}),
                    rx.text("Do this for all ", UploadState.collision_count, " remaining",
                            size="2"),
                    display="flex", gap="0.5em", align_items="center", margin_top="1em",
                ),
            ),
            rx.hstack(
                rx.button("Skip", variant="soft", color_scheme="gray",
                          on_click=UploadState.decide("skip"),
                          custom_attrs={"data-testid": "collision-skip"}),
                rx.button("Keep both", variant="soft",
                          on_click=UploadState.decide("keep_both"),
                          custom_attrs={"data-testid": "collision-keep-both"}),
                rx.button("Replace", color_scheme="red",
                          on_click=UploadState.decide("replace"),
                          custom_attrs={"data-testid": "collision-replace"}),
                justify="end",
                spacing="3",
                margin_top="1.25em",
            ),
            max_width="560px",
            on_escape_key_down=UploadState.skip_remaining,
            on_interact_outside=rx.prevent_default,
            custom_attrs={"data-testid": "collision-dialog"},
        ),
        open=UploadState.collision_count > 0,
    )


def _summary_group(group: SummaryGroup) -> rx.Component:
    return rx.box(
        rx.text(group.label, " (", group.count, ")", weight="bold", size="2"),
        rx.foreach(group.files, lambda line: rx.text(line, size="1", color_scheme="gray")),
        custom_attrs={"data-testid": "summary-group", "data-status": group.status},
    )


def _summary() -> rx.Component:
    return rx.cond(
        UploadState.summary.length() > 0,
        rx.callout.root(
            rx.flex(rx.foreach(UploadState.summary, _summary_group), gap="1.25em",
                    wrap="wrap"),
            width="100%",
            variant="surface",
            custom_attrs={"data-testid": "upload-summary"},
        ),
    )


def upload_panel() -> rx.Component:
    """Drop zone, batch progress, one row per file, collision dialog and summary."""
    return rx.vstack(
        _drop_zone(),
        rx.cond(
            UploadState.uploading,
            rx.hstack(
                rx.progress(value=UploadState.batch_progress, width="100%"),
                rx.button("Cancel all", variant="ghost", size="1", color_scheme="red",
                          on_click=UploadState.cancel_batch, type="button",
                          custom_attrs={"data-testid": "upload-cancel-all"}),
                width="100%",
                align="center",
            ),
        ),
        _summary(),
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
        _collision_dialog(),
        width="100%",
        spacing="3",
    )
