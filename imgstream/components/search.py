"""The header's search box, the search filters, and results grouped by month and day."""

from __future__ import annotations

import reflex as rx

from imgstream.components.empty_state import empty_state
from imgstream.components.photo_grid import photo_card
from imgstream.state.search import ResultDay, SearchState


def search_box() -> rx.Component:
    """The header's search field: Enter opens the results page."""
    return rx.form(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            name="q",
            type="search",
            placeholder="Search photos",
            default_value=SearchState.query,
            max_length=200,
            aria_label="Search photos",
            width="100%",
            custom_attrs={"data-testid": "search-input", "enterKeyHint": "search"},
        ),
        on_submit=SearchState.submit_search,
        reset_on_submit=False,
        role="search",
        # On a phone the box takes a row of its own under the header's links.
        flex=["1 1 100%", "1 1 auto"],
        order=["1", "0"],
        min_width="0",
        max_width=["none", "28em"],
    )


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1")


def search_filters() -> rx.Component:
    """Dates, favourites, camera and format."""
    return rx.flex(
        _labelled("From", rx.input(
            type="date", value=SearchState.taken_from,
            on_change=lambda v: SearchState.set_filter("taken_from", v),
            custom_attrs={"data-testid": "search-filter-from"})),
        _labelled("To", rx.input(
            type="date", value=SearchState.taken_to,
            on_change=lambda v: SearchState.set_filter("taken_to", v),
            custom_attrs={"data-testid": "search-filter-to"})),
        _labelled("Camera", rx.select(
            SearchState.camera_choices, value=SearchState.camera,
            on_change=lambda v: SearchState.set_filter("camera", v),
            custom_attrs={"data-testid": "search-filter-camera"})),
        _labelled("Format", rx.select(
            SearchState.format_choices, value=SearchState.format,
            on_change=lambda v: SearchState.set_filter("format", v),
            custom_attrs={"data-testid": "search-filter-format"})),
        rx.el.label(
            rx.hstack(
                rx.checkbox(checked=SearchState.favorites_only,
                            on_change=lambda v: SearchState.set_filter("favorites_only", v),
                            custom_attrs={"data-testid": "search-filter-favorites"}),
                rx.text("Favourites only", size="2"),
                align="center", spacing="2",
            ),
            align_self="end",
            padding_bottom="0.4em",
        ),
        gap="3",
        flex_wrap="wrap",
        align="end",
        width="100%",
    )


def _day(day: ResultDay) -> rx.Component:
    return rx.box(
        rx.cond(
            day.first_of_month,
            rx.heading(day.month_label, size="5", padding_top="0.5em",
                       custom_attrs={"data-testid": "search-month", "data-month": day.month}),
        ),
        rx.text(day.day_label, size="2", weight="medium", color_scheme="gray",
                padding_y="0.5em"),
        rx.grid(
            rx.foreach(day.cards, lambda card: photo_card(card, selectable=False)),
            columns="repeat(auto-fill, minmax(min(150px, 28vw), 1fr))",
            gap="8px",
            width="100%",
        ),
        width="100%",
        key=day.day,
        custom_attrs={"data-testid": "search-day", "data-day": day.day},
    )


def grouped_results() -> rx.Component:
    """The results by month and day, or why there are none."""
    return rx.cond(
        SearchState.loaded,
        rx.cond(
            SearchState.error != "",
            rx.callout(SearchState.error, icon="triangle-alert", color_scheme="red",
                       custom_attrs={"data-testid": "search-error"}),
            rx.cond(
                SearchState.days.length() > 0,
                rx.vstack(
                    rx.foreach(SearchState.days, _day),
                    rx.cond(SearchState.has_more,
                            rx.button("Load more", on_click=SearchState.load_more,
                                      variant="soft", type="button",
                                      custom_attrs={"data-testid": "load-more"})),
                    width="100%",
                    spacing="2",
                    custom_attrs={"data-testid": "search-results"},
                ),
                empty_state("search-x", "Nothing found", SearchState.empty_message,
                            testid="search-empty"),
            ),
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )
