"""The frame every page shares: header with the product name and the signed-in user."""

from __future__ import annotations

import reflex as rx

from imgstream.state.session import SessionState


def header() -> rx.Component:
    """Top bar."""
    return rx.hstack(
        rx.link(
            rx.hstack(rx.icon("images", size=22), rx.heading("ImgStream", size="5"),
                      align="center", spacing="2"),
            href="/",
            underline="none",
            color_scheme="gray",
            high_contrast=True,
        ),
        rx.spacer(),
        rx.text(SessionState.user_email, size="2", color_scheme="gray",
                custom_attrs={"data-testid": "current-user"}),
        rx.color_mode.button(size="2", variant="ghost"),
        align="center",
        width="100%",
        padding_x="1.5em",
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
    )


def page_frame(*children: rx.Component) -> rx.Component:
    """Header above the page's content."""
    return rx.box(
        header(),
        rx.box(*children, padding="1.5em", max_width="1400px", margin_x="auto"),
        min_height="100vh",
    )
