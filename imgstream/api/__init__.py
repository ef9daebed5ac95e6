"""HTTP routes beside the Reflex app."""

from starlette.applications import Starlette

from imgstream.api.archives import archive_routes
from imgstream.api.health import health_routes
from imgstream.api.identity import sign_in_routes
from imgstream.api.media import media_routes
from imgstream.api.metrics import metrics_routes
from imgstream.api.shares import share_routes
from imgstream.api.uploads import upload_routes


def http_api() -> Starlette:
    """ImgStream's own routes, mounted in front of Reflex's."""
    return Starlette(
        routes=[*health_routes(), *metrics_routes(), *media_routes(), *sign_in_routes(),
                *upload_routes(), *share_routes(), *archive_routes()]
    )
