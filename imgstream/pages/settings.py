"""Settings: who you are, storage used against quota, preferences."""

from __future__ import annotations

import reflex as rx

from imgstream.components.layout import page_frame
from imgstream.services.identity import PAGE_SIZES, THEMES
from imgstream.state.account import AccountState
from imgstream.state.session import SessionState


def _row(label: str, *value: rx.Component) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(*value))


@rx.page(route="/settings", title="Settings · ImgStream",
         on_load=[SessionState.require_sign_in, AccountState.load_usage])
def settings() -> rx.Component:
    """The settings page."""
    return page_frame(
        rx.vstack(
            rx.heading("Settings", size="6"),
            rx.data_list.root(
                _row("Signed in as", rx.text(SessionState.user_email,
                                             custom_attrs={"data-testid": "settings-email"})),
                _row("Photos", rx.text(AccountState.photo_count,
                                       custom_attrs={"data-testid": "settings-photo-count"})),
                _row(
                    "Storage",
                    rx.vstack(
                        rx.progress(value=AccountState.used_percent, width="16em"),
                        rx.text(AccountState.used_label, " of ", AccountState.quota_label,
                                " used", size="2",
                                custom_attrs={"data-testid": "settings-storage"}),
                        rx.cond(
                            AccountState.trash_count > 0,
                            rx.text(
                                "including ", AccountState.trash_count, " in the ",
                                rx.link("trash", href="/trash"), " (", AccountState.trash_label,
                                "), freed when deleted forever",
                                size="1", color_scheme="gray",
                                custom_attrs={"data-testid": "settings-trash"},
                            ),
                        ),
                        spacing="1",
                    ),
                ),
                _row(
                    "Photos per page",
                    rx.select(
                        [str(n) for n in PAGE_SIZES],
                        value=SessionState.page_size.to_string(),
                        on_change=AccountState.save_page_size,
                        custom_attrs={"data-testid": "settings-page-size"},
                    ),
                ),
                _row(
                    "Theme",
                    rx.segmented_control.root(
                        *[rx.segmented_control.item(t.capitalize(), value=t) for t in THEMES],
                        value=SessionState.theme,
                        on_change=AccountState.save_theme,
                        custom_attrs={"data-testid": "settings-theme"},
                    ),
                ),
                orientation="vertical",
                size="3",
            ),
            spacing="5",
        )
    )
