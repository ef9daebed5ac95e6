"""The library's timeline: months of days of square tiles, and a scrubber to jump to a month.

A month's days and photos come from the browser's timeline store (timeline.js), filled as the
month nears the viewport: first its days with their counts, which cut it into segments, then
the photos of the segments near the viewport. Until then a month or a segment is a placeholder
of the height its photos will take. Days with few photos share a row, each under its own date.
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx
from reflex.vars.base import Var, VarData

from imgstream.components.day_select import day_select
from imgstream.components.empty_state import empty_state
from imgstream.components.photo_grid import timeline_tile
from imgstream.state.gallery import (
    GalleryState,
    MonthRow,
    PhotoCard,
    TimelineDayView,
    TimelineSegment,
)

_HERE = Path(__file__).parent
TIMELINE_SCRIPT = (_HERE / "thumbhash.js").read_text() + (_HERE / "timeline.js").read_text()

DAY_HEADER_PX = 40
SCRUBBER_ROOM = ["24px", "40px"]
"""Room the page keeps free along its right edge for the scrubber (phone, wider)."""
# Selectors under .tl-root: Radix's own `.rt-Box { display: block }` comes later in the page.
TIMELINE_CSS = f"""
.tl-root {{ container-type: inline-size; --tl-gap: 4px; }}
.tl-month {{
  --tl-cols: 4;
  --tl-tile: calc((100cqw - (var(--tl-cols) - 1) * var(--tl-gap)) / var(--tl-cols));
  --tl-row: calc(var(--tl-tile) + var(--tl-gap));
}}
@container (min-width: 560px) {{ .tl-month {{ --tl-cols: 5; }} }}
@container (min-width: 760px) {{ .tl-month {{ --tl-cols: 6; }} }}
@container (min-width: 1000px) {{ .tl-month {{ --tl-cols: 7; }} }}
@container (min-width: 1200px) {{ .tl-month {{ --tl-cols: 8; }} }}
.tl-root .tl-days {{ display: flex; flex-wrap: wrap; column-gap: var(--tl-gap); }}
.tl-root .tl-day {{ min-width: 0; }}
.tl-root .tl-grid {{
  display: grid; gap: var(--tl-gap); padding-bottom: var(--tl-gap);
  grid-template-columns: repeat(auto-fill, minmax(calc(var(--tl-tile) - 0.5px), 1fr));
}}
.tl-root .tl-day-header {{
  height: {DAY_HEADER_PX}px; display: flex; align-items: center; padding-right: 6px;
}}
.tl-root .tl-day-label {{
  min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}}
@container (max-width: 559px) {{
  .tl-root .tl-day-header {{ gap: 4px !important; }}
  .tl-root .tl-day-label {{ font-size: 12px; }}
}}
.tl-scrubber-month:hover {{ background: var(--accent-a5); }}
/* Dialogs and menus open over the viewer. */
.rt-BaseDialogOverlay, [data-radix-popper-content-wrapper] {{ z-index: 60 !important; }}
"""

# The store's snapshot where the timeline renders. A new snapshot renders as a transition: React
# renders it in slices between other work, so a big change (a month's photos arriving, the
# library going from empty to full) never holds the page for one long task. (React's
# useSyncExternalStore would render every change at once.)
_STORE = "imgstreamTimelineData"
_STORE_DATA = VarData(
    imports={"react": [rx.ImportVar(tag="useState"), rx.ImportVar(tag="useEffect"),
                       rx.ImportVar(tag="startTransition")]},
    hooks={
        f"const [{_STORE}, set_{_STORE}] = useState(() => (typeof window !== 'undefined'"
        " && window.imgstreamTimeline ? window.imgstreamTimeline.snapshot() : null));": None,
        "useEffect(() => {"
        " if (typeof window === 'undefined' || !window.imgstreamTimeline) return undefined;"
        " const store = window.imgstreamTimeline;"
        f" set_{_STORE}(store.snapshot());"
        f" return store.subscribe(() => startTransition(() => set_{_STORE}(store.snapshot())));"
        " }, []);": None,
    },
)


def _from_store(expr: str, var_type: type, *uses: Var) -> Var:
    return Var(
        _js_expr=expr,
        _var_type=var_type,
        _var_data=VarData.merge(_STORE_DATA, *(use._get_all_var_data() for use in uses)),
    )


def _segments_of(row: Var[MonthRow]) -> Var:
    return _from_store(f"({_STORE}?.layouts?.[{row.month}] ?? null)",
                       list[TimelineSegment] | None, row.month)


def _days_of(segment: Var[TimelineSegment]) -> Var:
    return _from_store(f"({_STORE}?.tiles?.[{segment.key}] ?? null)",
                       list[TimelineDayView] | None, segment.key)


def _placeholder_height(row: Var[MonthRow]) -> str:
    # Before its days are known: as if every day filled rows of its own.
    return (f"calc(({row.count} / var(--tl-cols) + {row.days} * 0.5) * var(--tl-row)"
            f" + {row.days} * {DAY_HEADER_PX}px)")


def timeline_card(card: PhotoCard) -> rx.Component:
    """A square tile of the timeline; a click opens the viewer over the timeline."""
    return timeline_tile(photo_id=card.id, filename=card.filename,
                         thumbnail_url=card.thumbnail_url, placeholder=card.placeholder,
                         favorite=card.favorite, key=card.id)


def _day(day: TimelineDayView) -> rx.Component:
    return rx.box(
        rx.cond(day.label != "",
                rx.flex(day_select(day.day, day.cards),
                        rx.text(day.label, size="2", weight="medium", class_name="tl-day-label"),
                        style={"gap": "8px"}, class_name="tl-day-header")),
        rx.box(rx.foreach(day.cards, timeline_card), class_name="tl-grid"),
        class_name="tl-day",
        flex=day.flex,
        custom_attrs={"data-testid": "timeline-day", "data-day": day.day},
        key=day.key,
    )


def _placeholder(height: Var | str) -> rx.Component:
    return rx.box(height=height, border_radius="4px", overflow_anchor="none",
                  background_color=rx.color("gray", 2),
                  custom_attrs={"data-testid": "timeline-placeholder"})


def _segment(segment: TimelineSegment) -> rx.Component:
    days = _days_of(segment)
    return rx.box(
        rx.cond(
            days,
            rx.box(rx.foreach(days.to(list[TimelineDayView]), _day), class_name="tl-days",
                   custom_attrs={"data-loaded": "true"}),
            _placeholder(segment.height),
        ),
        custom_attrs={"data-timeline-segment": segment.key},
        key=segment.key,
    )


def _month(row: MonthRow) -> rx.Component:
    segments = _segments_of(row)
    return rx.box(
        rx.hstack(
            rx.heading(row.label, size="5"),
            rx.text(row.count_label, size="2", color_scheme="gray"),
            align="baseline",
            spacing="3",
            padding_top="1.25em",
            padding_bottom="0.25em",
        ),
        rx.cond(
            segments,
            rx.box(rx.foreach(segments.to(list[TimelineSegment]), _segment)),
            _placeholder(_placeholder_height(row)),
        ),
        class_name="tl-month",
        id="month-" + row.month,
        custom_attrs={"data-testid": "timeline-month", "data-month": row.month,
                      "data-timeline-month": row.month},
        key=row.month,
    )


def _jump(month: Var[str]) -> rx.event.EventSpec:
    return rx.call_script("window.imgstreamTimeline.jump(" + month.to(str).to_string() + ")")


def _scrubber_month(row: MonthRow) -> rx.Component:
    return rx.box(
        rx.cond(
            row.year_start,
            rx.text(row.year, size="1", color_scheme="gray", position="absolute", right="4px",
                    top="-2px", line_height="1", pointer_events="none",
                    custom_attrs={"data-testid": "timeline-scrubber-year",
                                  "data-year": row.year}),
        ),
        flex_grow=row.count,
        flex_basis="0",
        min_height="3px",
        position="relative",
        cursor="pointer",
        title=row.label,
        class_name="tl-scrubber-month",
        border_top=rx.cond(row.year_start, f"1px solid {rx.color('gray', 7)}", "none"),
        on_click=_jump(row.month),
        custom_attrs={"data-testid": "timeline-scrubber-month", "data-month": row.month},
        key=row.month,
    )


def scrubber() -> rx.Component:
    """A strip along the right edge: every month, as tall as its share of the photos."""
    return rx.flex(
        rx.foreach(GalleryState.months, _scrubber_month),
        direction="column",
        position="fixed",
        right="0",
        top=["96px", "72px"],  # below the header (on a phone, search has its own row)
        bottom="12px",
        width=["28px", "44px"],
        z_index="4",
        aria_label="Jump to a month",
        custom_attrs={"data-testid": "timeline-scrubber"},
    )


def _empty_library() -> rx.Component:
    return empty_state(
        "image", "No photos yet",
        "Drop photos on the area above, or click it to choose files. "
        "They appear here, by the day they were taken.",
        testid="empty-library",
    )


def timeline() -> rx.Component:
    """Every month of the library with the photos of those near the viewport."""
    return rx.cond(
        GalleryState.loaded,
        rx.cond(
            GalleryState.total > 0,
            rx.box(
                rx.text(GalleryState.total_label, size="2", color_scheme="gray",
                        custom_attrs={"data-testid": "timeline-count"}),
                rx.box(rx.foreach(GalleryState.months, _month),
                       on_mount=GalleryState.connect,
                       custom_attrs={"data-testid": "photo-grid"}),
                scrubber(),
                class_name="tl-root",
                width="100%",
                custom_attrs={"data-testid": "timeline"},
            ),
            _empty_library(),
        ),
        rx.center(rx.spinner(size="3"), padding_y="4em"),
    )
