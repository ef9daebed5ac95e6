"""An HTML form the browser submits itself (Reflex's own form always prevents that)."""

from __future__ import annotations

from reflex.vars.base import Var
from reflex_components_core.el.elements.base import BaseHTML


class NativeForm(BaseHTML):
    """<form action=... method=...>, posted by the browser to a backend route."""

    tag = "form"

    action: Var[str]

    method: Var[str]

    target: Var[str]


native_form = NativeForm.create
