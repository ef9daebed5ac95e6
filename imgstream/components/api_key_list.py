"""API keys in settings: the form that makes one, the key shown once, the list with revoke."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.state.api_keys import EXPIRY_CHOICES, SCOPE_LABELS, ApiKeysState, KeyRow


def _row(row: KeyRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(row.name, weight="medium", size="2"),
                rx.text(row.scopes_label, size="1", font_family="monospace"),
                rx.text("Created ", row.created_label, " · ", row.expires_label, " · ",
                        row.used_label, size="1", color_scheme="gray"),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.button(rx.icon("ban", size=14), "Revoke", size="1", variant="soft",
                      color_scheme="red", type="button", on_click=ApiKeysState.revoke(row.id),
                      custom_attrs={"data-testid": "api-key-revoke"}),
            spacing="3",
            align="center",
            wrap="wrap",
            justify="between",
            width="100%",
        ),
        size="1",
        width="100%",
        key=row.id,
        custom_attrs={"data-testid": "api-key-row", "data-key-id": row.id},
    )


def _new_key() -> rx.Component:
    return rx.callout.root(
        rx.vstack(
            rx.text("Copy this key now: it is not shown again.", weight="medium", size="2"),
            rx.code(ApiKeysState.new_key, size="2", word_break="break-all",
                    custom_attrs={"data-testid": "api-key-secret"}),
            rx.hstack(
                rx.button(rx.icon("copy", size=14), "Copy", size="1", type="button",
                          on_click=rx.set_clipboard(ApiKeysState.new_key)),
                rx.button("Done", size="1", variant="soft", type="button",
                          on_click=ApiKeysState.dismiss_key),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        color_scheme="green",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.input(placeholder="Key name, e.g. laptop backup", value=ApiKeysState.name,
                 on_change=ApiKeysState.set_name, max_length=100, width="100%",
                 custom_attrs={"data-testid": "api-key-name"}),
        rx.flex(
            *[rx.checkbox(label, checked=ApiKeysState.scopes.contains(scope),
                          on_change=lambda chosen, scope=scope: ApiKeysState.set_scope(
                              scope, chosen),
                          custom_attrs={"data-testid": "api-key-scope", "data-scope": scope})
              for scope, label in SCOPE_LABELS.items()],
            spacing="3",
            wrap="wrap",
        ),
        rx.flex(
            rx.select.root(
                rx.select.trigger(),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in EXPIRY_CHOICES.items()]),
                value=ApiKeysState.expiry,
                on_change=ApiKeysState.set_expiry,
            ),
            rx.button(rx.icon("key-round", size=14), "Create key", type="button",
                      on_click=ApiKeysState.create_key,
                      custom_attrs={"data-testid": "api-key-create"}),
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(ApiKeysState.error != "",
                rx.text(ApiKeysState.error, size="2", color_scheme="red")),
        spacing="3",
        width="100%",
    )


def api_key_section() -> rx.Component:
    """Make, see and revoke the person's API keys."""
    return rx.vstack(
        _form(),
        rx.cond(ApiKeysState.new_key != "", _new_key()),
        rx.cond(
            ApiKeysState.keys.length() > 0,
            rx.vstack(rx.foreach(ApiKeysState.keys, _row), spacing="2", width="100%",
                      custom_attrs={"data-testid": "api-key-list"}),
            empty_state("key-round", "No API keys",
                        "A key lets a program or the imgstream command line use your library.",
                        testid="api-key-list-empty"),
        ),
        spacing="3",
        width="100%",
    )
