"""The Reflex app: pages, states and ImgStream's own routes wired together."""

from datetime import timedelta

import reflex as rx

from imgstream import runtime
from imgstream.api import http_api, logs, metrics, tracing
from imgstream.api.headers import security_headers
from imgstream.api.identity import request_identity
from imgstream.components.timeline import TIMELINE_CSS, TIMELINE_SCRIPT
from imgstream.components.upload_panel import UPLOAD_QUEUE_SCRIPT
from imgstream.config import SignIn, get_settings
from imgstream.pages import albums, library, photo, search, settings, trash  # noqa: F401 - registers the pages
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
.imgstream-card .imgstream-heart:not(.is-favorite) { opacity: 0; transition: opacity .15s; }
.imgstream-card:hover .imgstream-heart, .imgstream-card:focus-within .imgstream-heart,
.imgstream-heart:focus-visible { opacity: 1; }
@media (hover: none) { .imgstream-card .imgstream-heart { opacity: 1; } }
"""

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
                     rx.el.style(PAGE_CSS + TIMELINE_CSS)],
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
