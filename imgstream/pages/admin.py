"""Development admin: reconcile the database with photo storage (development profile only)."""

from __future__ import annotations

import reflex as rx

from imgstream.components.layout import back_link, page_frame
from imgstream.state.admin import AdminState
from imgstream.state.session import SessionState


def _page() -> rx.Component:
    return page_frame(
        rx.vstack(
            back_link(),
            rx.heading("Admin", size="6"),
            rx.text("Reconcile compares photo rows with stored objects: objects no photo refers "
                    "to, photos whose original is gone, missing renditions, abandoned uploads "
                    "and storage use that does not add up.", size="2", color_scheme="gray"),
            rx.hstack(
                rx.button("Check", on_click=AdminState.run_reconcile(False),
                          loading=AdminState.working,
                          custom_attrs={"data-testid": "reconcile-check"}),
                rx.button("Repair", color_scheme="red", variant="soft",
                          on_click=AdminState.run_reconcile(True),
                          disabled=AdminState.working | (AdminState.findings.length() == 0),
                          custom_attrs={"data-testid": "reconcile-fix"}),
            ),
            rx.cond(
                AdminState.checked,
                rx.box(
                    rx.cond(
                        AdminState.findings.length() == 0,
                        rx.callout("Database and storage agree.", icon="circle-check",
                                   color_scheme="green"),
                        rx.vstack(
                            rx.cond(AdminState.fixed, rx.text("Repaired:", weight="bold"),
                                    rx.text("Found:", weight="bold")),
                            rx.foreach(AdminState.findings,
                                       lambda line: rx.code(line, size="1")),
                            spacing="1",
                        ),
                    ),
                    custom_attrs={"data-testid": "reconcile-report"},
                ),
            ),
            spacing="4",
            align="start",
        )
    )


def admin_page(app: rx.App) -> None:
    """Add the admin page (development profile only)."""
    app.add_page(_page, route="/admin", title="Admin · ImgStream",
                 on_load=[SessionState.require_sign_in, AdminState.run_reconcile(False)])
