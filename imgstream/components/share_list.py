"""The list of someone's share links: what, created, expires, views, with copy and revoke."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.share_dialog import copy_link_button
from imgstream.state.sharing import ShareRow, SharingState


def _row(row: ShareRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.text(row.title, weight="medium", size="2",
                            custom_attrs={"data-testid": "share-row-title"}),
                    rx.badge(row.status, variant="soft", size="1",
                             color_scheme=rx.match(row.status, ("active", "green"),
                                                   ("expired", "orange"), "gray"),
                             custom_attrs={"data-testid": "share-row-status"}),
                    rx.cond(row.protected, rx.badge(rx.icon("lock", size=12), "password",
                                                    variant="outline", size="1")),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(row.what, size="1", color_scheme="gray"),
                rx.text("Created ", row.created_label, " · ", row.expires_label,
                        size="1", color_scheme="gray"),
                rx.text(row.views_label,
                        size="1", color_scheme="gray",
                        custom_attrs={"data-testid": "share-row-views"}),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.cond(
                row.status != "revoked",
                rx.hstack(
                    rx.cond(row.path != "", copy_link_button(row.path, "share-row-copy")),
                    rx.button(rx.icon("ban", size=14), "Revoke", size="1", variant="soft",
                              color_scheme="red", type="button",
                              on_click=SharingState.revoke(row.id),
                              custom_attrs={"data-testid": "share-revoke"}),
                    spacing="2",
                ),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            justify="between",
            width="100%",
        ),
        size="1",
        width="100%",
        key=row.id,
        custom_attrs={"data-testid": "share-row", "data-share-id": row.id},
    )


def share_list() -> rx.Component:
    """The user's links, newest first."""
    return rx.cond(
        SharingState.links.length() > 0,
        rx.vstack(rx.foreach(SharingState.links, _row), spacing="2", width="100%",
                  custom_attrs={"data-testid": "share-list"}),
        empty_state("link", "No share links",
                    "Share an album or a selection of photos: its link shows up here.",
                    testid="share-list-empty"),
    )
