"""The frame every page shares: header with the product name and the account menu."""

from __future__ import annotations

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.components.native_form import native_form
from imgstream.components.search import search_box
from imgstream.components.theme_preference import theme_preference
from imgstream.state.live import LiveState
from imgstream.state.session import SessionState
from imgstream.state.upload import UploadState

IAP_SIGN_OUT = "/?gcp-iap-mode=CLEAR_LOGIN_COOKIE"
SIGN_OUT_FORM = "imgstream-sign-out"


def _sign_out() -> rx.Component:
    # Development sign-out is a POST from this page, so a link elsewhere cannot sign anyone out.
    return rx.cond(
        SessionState.iap_sign_in,
        rx.menu.item(
            rx.link("Sign out", href=IAP_SIGN_OUT, reload_document=True, color="inherit",
                    underline="none", custom_attrs={"data-testid": "sign-out"}),
        ),
        rx.menu.item(
            rx.el.button("Sign out", type="submit", form=SIGN_OUT_FORM, width="100%",
                         text_align="start", custom_attrs={"data-testid": "sign-out"}),
            as_child=True,
        ),
    )


def _sign_out_form() -> rx.Component:
    # The menu lives in a portal where a form cannot wrap its item; the item's button names
    # this form instead.
    return native_form(id=SIGN_OUT_FORM, action=backend_src(rx.Var.create("/auth/dev-sign-out")),
                       method="post", display="none")


def account_menu() -> rx.Component:
    """Who is signed in, with settings, the trash and sign-out."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle-user", size=18),
                rx.text(SessionState.user_email, max_width=["7em", "12em", "none"],
                        overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                        custom_attrs={"data-testid": "current-user"}),
                variant="ghost",
                color_scheme="gray",
                type="button",
            ),
        ),
        rx.menu.content(
            rx.menu.item(rx.link("Settings", href="/settings", color="inherit",
                                 underline="none")),
            rx.menu.item(rx.link("Sharing", href="/settings#sharing", color="inherit",
                                 underline="none")),
            rx.menu.item(rx.link("Trash", href="/trash", color="inherit", underline="none",
                                 custom_attrs={"data-testid": "trash-link"})),
            rx.menu.separator(),
            _sign_out(),
        ),
    )


def upload_indicator() -> rx.Component:
    """While files are on their way, from any page: how far the batch is, linking to its queue."""
    return rx.cond(
        UploadState.uploading,
        rx.link(
            rx.hstack(
                rx.spinner(size="2"),
                rx.text(rx.el.span("Uploading ", class_name="imgstream-wide-only"),
                        UploadState.batch_progress.to_string(), "%",
                        size="2", white_space="nowrap"),
                align="center", spacing="2",
            ),
            href="/", underline="none", color_scheme="gray", high_contrast=True,
            aria_label="Uploads in progress",
            custom_attrs={"data-testid": "upload-indicator", "role": "status"},
        ),
    )


def header() -> rx.Component:
    """Top bar."""
    return rx.hstack(
        rx.link(
            rx.hstack(rx.icon("images", size=22),
                      rx.heading("ImgStream", size="5", display=["none", "none", "block"]),
                      align="center", spacing="2"),
            href="/",
            underline="none",
            color_scheme="gray",
            high_contrast=True,
        ),
        search_box(),
        rx.spacer(),
        upload_indicator(),
        rx.link(rx.hstack(rx.icon("heart", size=16),
                          rx.text("Favourites", display=["none", "none", "inline"]),
                          align="center", spacing="1"),
                aria_label="Favourites", href="/favorites", color_scheme="gray",
                high_contrast=True, underline="none",
                custom_attrs={"data-testid": "favorites-link"}),
        rx.link(rx.hstack(rx.icon("book-image", size=16),
                          rx.text("Albums", display=["none", "none", "inline"]), align="center",
                          spacing="1"),
                aria_label="Albums",
                href="/albums", color_scheme="gray", high_contrast=True, underline="none",
                custom_attrs={"data-testid": "albums-link"}),
        account_menu(),
        _sign_out_form(),
        align="center",
        spacing="3",
        flex_wrap="wrap",
        row_gap="0.5em",
        width="100%",
        padding_x=["1em", "1.5em"],
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
    )


def back_link(label: str = "Library", href: str = "/") -> rx.Component:
    """A link back to where the page was reached from (the library by default)."""
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=16), rx.text(label), align="center", spacing="1"),
        href=href, color_scheme="gray", high_contrast=True, underline="none", size="2",
        custom_attrs={"data-testid": "back-link"},
    )


def page_frame(*children: rx.Component) -> rx.Component:
    """Header above the page's content, in the user's chosen theme."""
    return rx.box(
        theme_preference(),
        header(),
        rx.box(*children, padding=["0.75em", "1em", "1.5em"], max_width="1400px",
               margin_x="auto"),
        min_height="100vh",
        # Every page follows the person's changes made in their other tabs and devices.
        on_mount=LiveState.watch,
    )
