"""Image sources served by the backend's /media route."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData


def backend_src(path: Var[str]) -> Var[str]:
    """A /media path as an absolute URL of the backend, wherever the frontend is served from."""
    return Var(
        _js_expr=f"(getBackendURL(env.PING).origin + {path})",
        _var_type=str,
        _var_data=VarData.merge(
            VarData(
                imports={
                    "$/utils/state": "getBackendURL",
                    "$/env.json": rx.ImportVar(tag="env", is_default=True),
                }
            ),
            path._get_all_var_data(),
        ),
    )
