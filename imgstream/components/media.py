"""Image sources served by the backend's /media route."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData


def backend_src(path: Var[str]) -> Var[str]:
    """A media URL the browser can fetch.

    Paths of the app's own /media route become absolute URLs of the backend, wherever the frontend
    is served from; absolute URLs (Cloud Storage signed URLs) stay as they are.
    """
    return Var(
        _js_expr=f"({path}?.startsWith('/') ? getBackendURL(env.PING).origin + {path} : {path})",
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
