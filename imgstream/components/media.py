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


def square_thumbnail(url: Var[str], filename: Var[str], placeholder: Var[str],
                     **props) -> rx.Component:
    """A photo's thumbnail cropped to a square, over its blurred placeholder until it loads.

    Without a URL (it could not be signed) the placeholder stays, or a neutral tile without one.
    """
    style = {
        "aspect_ratio": "1",
        "width": "100%",
        "overflow": "hidden",
        "border_radius": "8px",
        "background_size": "cover",
        "background_color": rx.color("gray", 4),
    }
    # The thumbhash placeholder shows through until the thumbnail has loaded. It is an inline
    # style: as a style rule, every new photo on the page would add a rule (and its data URL)
    # to the page's style sheet, and make the browser restyle the whole page.
    attrs = {**props.pop("custom_attrs", {}),
             "style": {"backgroundImage": "url(" + placeholder.to(str) + ")"}}
    return rx.box(
        rx.cond(
            url != "",
            rx.image(src=backend_src(url), alt=filename, loading="lazy", width="100%",
                     height="100%", object_fit="cover"),
            rx.box(role="img", aria_label=filename, width="100%", height="100%",
                   custom_attrs={"data-testid": "thumbnail-unavailable"}),
        ),
        **{**style, **props},
        custom_attrs=attrs,
    )
