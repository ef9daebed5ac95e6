"""The check in a timeline day's header: selects every photo of that day, or none of them."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData

from imgstream.state.albums import SelectionState
from imgstream.state.selection import SelectionActionsState


def _js(expr: str, var_type: type, *uses: Var) -> Var:
    return Var(_js_expr=expr, _var_type=var_type,
               _var_data=VarData.merge(*(use._get_all_var_data() for use in uses)))


def day_select(day_iso: Var[str], cards: Var[list]) -> rx.Component:
    """A check that is on when every photo of the day is selected (mixed when some are).

    Pressing it selects every photo of the day, also those of a long day that continue in a
    part of the timeline not loaded yet (the server reads them); pressed with all of them
    selected, it unselects them.

    Args:
        day_iso: The day ("2023-07-14").
        cards: The day's photo cards this part of the timeline shows (each with an `id`).
    """
    ids = _js(f"(({cards._js_expr}) ?? []).map((card) => card.id)", list[str], cards)
    selected = SelectionState.selected
    picked = _js(f"{ids._js_expr}.filter((id) => ({selected._js_expr}).includes(id)).length",
                 int, ids, selected)
    checked = _js(f"({picked._js_expr} === 0 ? false : ({picked._js_expr} === "
                  f"{ids._js_expr}.length ? true : 'indeterminate'))", bool, picked, ids)
    # "Select 14 July 2023": the whole date, whatever the header shows of it.
    long_date = _js(f"new Date(({day_iso._js_expr}) + 'T12:00:00Z').toLocaleDateString("
                    "'en-GB', {day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'})",
                    str, day_iso).to(str)
    return rx.checkbox(
        checked=checked,
        on_click=SelectionActionsState.pick_day(day_iso, ids),
        size="2",
        aria_label="Select " + long_date,
        title="Select every photo of this day",
        custom_attrs={"data-testid": "day-select", "data-day": day_iso},
    )
