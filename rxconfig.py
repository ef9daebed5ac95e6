"""Reflex configuration; ImgStream's own settings live in imgstream.config."""

import os

import reflex as rx
from reflex.plugins import RadixThemesPlugin
from reflex.plugins.sitemap import SitemapPlugin

from imgstream.config import settings_or_exit
from imgstream.indexes import leave_the_search_index_out_of_comparisons

settings = settings_or_exit()
settings.data_dir.mkdir(parents=True, exist_ok=True)
# Photos and the database change while the app runs; they must not restart the dev server.
os.environ.setdefault("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", str(settings.data_dir.resolve()))
# With Redis (several workers), a worker keeps a tab's state between its events and writes it
# back when another worker asks for it or after a while, instead of a Redis lock, read and
# write around every event: under load, events answer in about half the time (bench/load.py).
os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "1")

# The search index is made by its own statements, not by the models: comparisons pass over it.
leave_the_search_index_out_of_comparisons()

config = rx.Config(
    app_name="imgstream",
    db_url=settings.resolved_database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[RadixThemesPlugin(theme=rx.theme(accent_color="iris", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    cors_allowed_origins=settings.cors_origins,
)
