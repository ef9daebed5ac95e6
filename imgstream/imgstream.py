"""The Reflex app: pages, states and ImgStream's own routes wired together."""

from datetime import timedelta

import reflex as rx

from imgstream import runtime
from imgstream.api import http_api, logs, metrics, tracing
from imgstream.api.headers import security_headers
from imgstream.api.identity import request_identity
from imgstream.components.selection_bar import ESCAPE_CLEARS_SCRIPT
from imgstream.components.timeline import TIMELINE_CSS, TIMELINE_SCRIPT
from imgstream.components.upload_panel import UPLOAD_QUEUE_SCRIPT
from imgstream.components.viewer import VIEWER_SCRIPT
from imgstream.config import SignIn, get_settings
from imgstream.pages import (  # noqa: F401 - registers the pages
    albums,
    library,
    not_found,
    photo,
    search,
    settings,
    trash,
)
from imgstream.pages.admin import admin_page
from imgstream.pages.sign_in import sign_in_page
from imgstream.services import imaging, upload_sweep

PAGE_CSS = """
.imgstream-visually-hidden {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
[data-drop-zone]:focus-within { outline: 2px solid var(--accent-8); outline-offset: 2px; }
[data-drop-zone][data-dragging] { background: var(--accent-a3); }
[data-drop-anywhere][data-dragging] {
  outline: 3px dashed var(--accent-8); outline-offset: 6px; border-radius: 12px;
  background: var(--accent-a2);
}
img { max-width: 100%; }
@media (max-width: 480px) { .imgstream-wide-only { display: none; } }
.imgstream-card .imgstream-heart:not(.is-favorite) { opacity: 0; transition: opacity .15s; }
.imgstream-card:hover .imgstream-heart, .imgstream-card:focus-within .imgstream-heart,
.imgstream-heart:focus-visible { opacity: 1; }
@media (hover: none) { .imgstream-card .imgstream-heart { opacity: 1; } }
"""

# Added to a phone's home screen, the library opens full-screen with its own icon.
HOME_SCREEN = [
    rx.el.link(rel="manifest", href="/manifest.webmanifest", cross_origin="use-credentials"),
    rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
    rx.el.link(rel="icon", href="/icon-192.png", type="image/png"),
    rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
    rx.el.meta(name="theme-color", content="#3e63dd"),
    rx.el.meta(name="mobile-web-app-capable", content="yes"),
    rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
    rx.el.meta(name="apple-mobile-web-app-title", content="ImgStream"),
]

imaging.configure(max_pixels=get_settings().max_image_pixels)
logs.configure(get_settings())
metrics.watch_database()

# Identity wraps everything, socket and API routes included; the security headers wrap that too,
# so refusals carry them as well; only the request log, which also records what identity
# refuses, is outside them, and the optional tracing outside that.
app = rx.App(
    api_transformer=[http_api(), logs.remember_user, request_identity, security_headers,
                     logs.observe_requests, tracing.request_tracing(get_settings())],
    head_components=[rx.script(UPLOAD_QUEUE_SCRIPT), rx.script(TIMELINE_SCRIPT),
                     rx.script(VIEWER_SCRIPT), rx.script(ESCAPE_CLEARS_SCRIPT),
                     rx.el.style(PAGE_CSS + TIMELINE_CSS),
                     *HOME_SCREEN],
)

# Abandoned uploads give their reservation back to the quota without anyone running reconcile.
app.register_lifespan_task(
    upload_sweep.sweep_on_schedule,
    sessions=runtime.db_session,
    storage=runtime.storage,
    spool_dir=get_settings().incoming_dir,
    every=timedelta(minutes=get_settings().upload_sweep_minutes),
    expiry=timedelta(hours=get_settings().upload_expiry_hours),
)

if get_settings().sign_in is SignIn.DEVELOPMENT:
    sign_in_page(app)
    admin_page(app)
