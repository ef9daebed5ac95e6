"""Settings: who you are, storage used against quota, preferences."""

from __future__ import annotations

import reflex as rx

from imgstream.components.api_key_list import api_key_section
from imgstream.components.layout import back_link, page_frame
from imgstream.components.share_list import share_list
from imgstream.services.identity import THEMES
from imgstream.state.account import AccountState
from imgstream.state.api_keys import ApiKeysState
from imgstream.state.live import refresh_on_change
from imgstream.state.session import SessionState
from imgstream.state.sharing import SharingState

COLLISION_CHOICES = {
    "ask": "Ask me each time",
    "keep_both": "Keep both",
    "replace": "Replace the photo",
    "skip": "Skip the upload",
}


def _row(label: str, *value: rx.Component) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(*value))


@rx.page(route="/settings", title="Settings · ImgStream",
         on_load=[SessionState.require_sign_in, AccountState.load_usage,
                  SharingState.load_links, ApiKeysState.load_keys])
def settings() -> rx.Component:
    """The settings page."""
    return page_frame(
        rx.vstack(
            back_link(),
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
                        SessionState.page_size_options,
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
                _row(
                    "When a name is taken",
                    rx.select.root(
                        rx.select.trigger(
                            custom_attrs={"data-testid": "settings-collision-choice"}),
                        rx.select.content(
                            *[rx.select.item(label, value=value)
                              for value, label in COLLISION_CHOICES.items()],
                        ),
                        value=SessionState.collision_choice,
                        on_change=AccountState.save_collision_choice,
                    ),
                ),
                _row(
                    "Name collisions",
                    rx.vstack(
                        rx.text(AccountState.collisions_detected, " detected: ",
                                AccountState.collisions_replaced, " replaced, ",
                                AccountState.collisions_kept_both, " kept both, ",
                                AccountState.collisions_skipped, " skipped", size="2"),
                        rx.cond(
                            AccountState.decision_time_label != "",
                            rx.text("Median time to decide: ", AccountState.decision_time_label,
                                    size="1", color_scheme="gray"),
                        ),
                        spacing="1",
                        custom_attrs={"data-testid": "settings-collision-stats"},
                    ),
                ),
                orientation="vertical",
                size="3",
            ),
            rx.heading("Sharing", size="5", id="sharing", padding_top="0.5em"),
            rx.text("Links to your albums and photos that people open without an account. "
                    "Revoking a link stops it at once.", size="2", color_scheme="gray"),
            share_list(),
            rx.heading("API keys", size="5", id="api-keys", padding_top="0.5em"),
            rx.text("Keys let programs and the imgstream command line use your library through "
                    "the REST API (", rx.link("/api/v1/docs", href="/api/v1/docs",
                                              is_external=True),
                    "), with only the permissions you give them.", size="2",
                    color_scheme="gray"),
            api_key_section(),
            spacing="5",
            width="100%",
            max_width="52em",
        )
    )


refresh_on_change("/settings", AccountState.load_usage)
