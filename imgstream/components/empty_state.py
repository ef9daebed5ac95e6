"""The centred message a page shows when it has nothing to list."""

from __future__ import annotations

import reflex as rx


def empty_state(icon: str, heading: str, *text: rx.Component | str | rx.Var,
                testid: str) -> rx.Component:
    """An icon, a heading and a line of explanation, centred."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=rx.color("gray", 8)),
            rx.heading(heading, size="4"),
            rx.text(*text, color_scheme="gray", align="center"),
            align="center",
            max_width="28em",
        ),
        padding_y="4em",
        custom_attrs={"data-testid": testid},
    )
