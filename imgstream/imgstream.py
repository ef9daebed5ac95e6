"""The Reflex app: pages, states and ImgStream's own routes wired together."""

import reflex as rx

from imgstream.api import http_api, logs, metrics
from imgstream.api.identity import request_identity
from imgstream.components.upload_panel import UPLOAD_QUEUE_SCRIPT
from imgstream.config import SignIn, get_settings
from imgstream.pages import library, photo, settings, trash  # noqa: F401 - registers the pages
from imgstream.pages.admin import admin_page
from imgstream.pages.sign_in import sign_in_page

PAGE_CSS = """
.imgstream-visually-hidden {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
[data-drop-zone]:focus-within { outline: 2px solid var(--accent-8); outline-offset: 2px; }
[data-drop-zone][data-dragging] { background: var(--accent-a3); }
"""

logs.configure(get_settings())
metrics.watch_database()

# Identity wraps everything, socket and API routes included; only the request log, which also
# records what identity refuses, is outside it.
app = rx.App(
    api_transformer=[http_api(), logs.remember_user, request_identity, logs.observe_requests],
    head_components=[rx.script(UPLOAD_QUEUE_SCRIPT), rx.el.style(PAGE_CSS)],
)

if get_settings().sign_in is SignIn.DEVELOPMENT:
    sign_in_page(app)
    admin_page(app)
