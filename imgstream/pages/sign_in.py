"""Development sign-in: pick or type who you are (no password; development profile only)."""

from __future__ import annotations

import reflex as rx

from imgstream.components.media import backend_src
from imgstream.components.native_form import native_form
from imgstream.state.sign_in import SignInState


def _form(*children: rx.Component) -> rx.Component:
    return native_form(*children, action=backend_src(rx.Var.create("/auth/dev-sign-in")),
                       method="post", width="100%")


def _page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("images", size=24), rx.heading("ImgStream", size="6"),
                          align="center"),
                rx.text("Development sign-in: no password. Type any email address to try the "
                        "app as that person.", color_scheme="gray", size="2"),
                rx.cond(
                    rx.State.router.page.params.get("error", "") != "",
                    rx.callout("Type a valid email address.", color_scheme="red",
                               icon="triangle-alert", size="1"),
                ),
                _form(
                    rx.vstack(
                        rx.input(name="email", type="email", required=True,
                                 default_value=SignInState.default_email,
                                 placeholder="you@example.com", size="3", width="100%",
                                 custom_attrs={"data-testid": "dev-signin-email"}),
                        rx.button("Sign in", type="submit", size="3", width="100%",
                                  custom_attrs={"data-testid": "dev-signin-submit"}),
                        width="100%",
                    ),
                ),
                rx.cond(
                    SignInState.known_emails.length() > 0,
                    rx.vstack(
                        rx.text("Or continue as", size="1", color_scheme="gray"),
                        _form(
                            rx.flex(
                                rx.foreach(
                                    SignInState.known_emails,
                                    lambda email: rx.button(
                                        email, type="submit", name="email", value=email,
                                        variant="soft", size="1", key=email,
                                    ),
                                ),
                                wrap="wrap",
                                gap="2",
                            ),
                        ),
                        width="100%",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="24em",
        ),
        min_height="100vh",
    )


def sign_in_page(app: rx.App) -> None:
    """Add the development sign-in page to the app."""
    app.add_page(_page, route="/signin", title="Sign in · ImgStream",
                 on_load=SignInState.load_known_emails)
