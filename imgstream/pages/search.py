"""Search results and favourites, grouped by month and day like the timeline."""

from __future__ import annotations

import reflex as rx

from imgstream.components.layout import page_frame
from imgstream.components.search import grouped_results, search_filters
from imgstream.state.live import refresh_on_change
from imgstream.state.search import SearchState
from imgstream.state.session import SessionState


@rx.page(route="/search", title="Search · ImgStream",
         on_load=[SessionState.require_sign_in, SearchState.load_search])
def search_page() -> rx.Component:
    """What the search found, with its filters."""
    return page_frame(
        rx.vstack(
            rx.heading(rx.cond(SearchState.query != "", "Results for '" + SearchState.query
                               + "'", "Search"), size="6", word_break="break-word"),
            search_filters(),
            grouped_results(),
            spacing="4",
            width="100%",
        )
    )


@rx.page(route="/favorites", title="Favourites · ImgStream",
         on_load=[SessionState.require_sign_in, SearchState.load_favorites])
def favorites_page() -> rx.Component:
    """Every favourite, newest first."""
    return page_frame(
        rx.vstack(
            rx.heading("Favourites", size="6"),
            grouped_results(),
            spacing="4",
            width="100%",
        )
    )


refresh_on_change("/search", SearchState.load_search)
refresh_on_change("/favorites", SearchState.load_favorites)
