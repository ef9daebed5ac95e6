"""The "share" dialog: expiry, password, download and location options, then the link."""

from __future__ import annotations

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.state.sharing import SharingState


def share_button(on_click: rx.EventHandler, label: str = "Share") -> rx.Component:
    """Opens the share dialog."""
    return rx.button(rx.icon("share-2", size=14), label, size="2", variant="soft", type="button",
                     on_click=on_click, custom_attrs={"data-testid": "share-create"})


def copy_link_button(path: rx.Var[str], testid: str) -> rx.Component:
    """Copies the absolute URL of a share link."""
    return rx.button(
        rx.icon("copy", size=14), "Copy",
        size="1", variant="soft", type="button",
        on_click=[rx.set_clipboard(backend_src(path)), rx.toast.info("Link copied.")],
        custom_attrs={"data-testid": testid},
    )


def _option(label: str, hint: str, checked: rx.Var[bool], on_change, testid: str):  # noqa: ANN001
    return rx.el.label(
        rx.flex(
            rx.switch(checked=checked, on_change=on_change,
                      custom_attrs={"data-testid": testid}),
            rx.vstack(rx.text(label, size="2", weight="medium"),
                      rx.text(hint, size="1", color_scheme="gray"), spacing="0"),
            spacing="3",
            align="start",
        ),
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.text("Link expires", size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(custom_attrs={"data-testid": "share-expiry"}),
            rx.select.content(
                rx.foreach(SharingState.expiry_options.items(),
                           lambda item: rx.select.item(item[1], value=item[0])),
            ),
            value=SharingState.expiry,
            on_change=SharingState.set_expiry,
        ),
        rx.cond(
            SharingState.expiry == "date",
            rx.input(type="date", min=SharingState.today, value=SharingState.expiry_date,
                     on_change=SharingState.set_expiry_date,
                     custom_attrs={"data-testid": "share-expiry-date"}),
        ),
        rx.text("Password (optional)", size="2", weight="medium"),
        rx.input(type="password", value=SharingState.password, max_length=256,
                 on_change=SharingState.set_password, auto_complete="new-password",
                 placeholder="Anyone with the link can open it",
                 custom_attrs={"data-testid": "share-password-field"}),
        _option("Allow download", "Visitors can save the originals, one by one or as a ZIP.",
                SharingState.allow_download, SharingState.set_allow_download,
                "share-allow-download"),
        _option("Show location", "Off: no GPS position in the pages or in downloaded files, "
                "and no camera serial numbers.", SharingState.show_location,
                SharingState.set_show_location, "share-show-location"),
        rx.cond(SharingState.error != "",
                rx.callout(SharingState.error, icon="triangle-alert", color_scheme="red",
                           size="1", custom_attrs={"data-testid": "share-error"})),
        rx.flex(
            rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                      type="button")),
            rx.button(rx.icon("link", size=14), "Create link", type="button",
                      on_click=SharingState.create_link,
                      custom_attrs={"data-testid": "share-submit"}),
            spacing="2",
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _result() -> rx.Component:
    return rx.vstack(
        rx.text("Anyone with this link can see ", SharingState.target_label,
                ", without an account.", size="2"),
        rx.flex(
            rx.input(value=backend_src(SharingState.created_path), read_only=True, flex="1",
                     custom_attrs={"data-testid": "share-link-url"}),
            copy_link_button(SharingState.created_path, "share-copy"),
            spacing="2",
            width="100%",
            align="center",
        ),
        rx.text("Your links are listed under ", rx.link("Settings", href="/settings#sharing"),
                ", where you can revoke them.", size="1", color_scheme="gray"),
        rx.flex(rx.dialog.close(rx.button("Done", type="button",
                                          custom_attrs={"data-testid": "share-done"})),
                justify="end", width="100%"),
        spacing="3",
        width="100%",
    )


def share_dialog() -> rx.Component:
    """The dialog, opened by SharingState.open_for_album or open_for_selection."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Share ", SharingState.target_label),
            rx.cond(SharingState.created_path != "", _result(), _form()),
            max_width="32em",
            custom_attrs={"data-testid": "share-dialog"},
        ),
        open=SharingState.dialog_open,
        on_open_change=SharingState.set_dialog_open,
    )
