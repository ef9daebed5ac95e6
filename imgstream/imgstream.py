"""The Reflex app: pages, states and ImgStream's own routes wired together."""

import reflex as rx

from imgstream.api import http_api
from imgstream.api.identity import request_identity
from imgstream.config import SignIn, get_settings
from imgstream.pages import library, photo, settings, trash  # noqa: F401 - registers the pages
from imgstream.pages.sign_in import sign_in_page

# In development the page and the backend are on different ports; upload requests must still
# carry the sign-in cookie, so they are sent with credentials.
UPLOADS_WITH_CREDENTIALS = """
(() => {
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    const result = open.call(this, method, url, ...rest);
    if (String(url).includes("/_upload")) this.withCredentials = true;
    return result;
  };
})();
"""

# Identity wraps everything, socket and uploads included, so it comes last.
app = rx.App(
    api_transformer=[http_api(), request_identity],
    head_components=[rx.script(UPLOADS_WITH_CREDENTIALS)],
)

if get_settings().sign_in is SignIn.DEVELOPMENT:
    sign_in_page(app)
