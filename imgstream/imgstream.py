"""The Reflex app: pages, states and the media route wired together."""

import reflex as rx

from imgstream.api.media import media_api
from imgstream.pages import library, photo  # noqa: F401 - registers the pages

app = rx.App(api_transformer=media_api())
