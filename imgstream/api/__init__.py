"""HTTP routes beside the Reflex app."""

from starlette.applications import Starlette
from starlette.routing import Mount

from imgstream.api.archives import archive_routes
from imgstream.api.health import health_routes
from imgstream.api.identity import sign_in_routes
from imgstream.api.media import media_routes
from imgstream.api.metrics import metrics_routes
from imgstream.api.shares import share_routes
from imgstream.api.v1 import PREFIX, create_api


def http_api() -> Starlette:
    """ImgStream's own routes, mounted in front of Reflex's."""
    return Starlette(
        routes=[*health_routes(), *metrics_routes(), *media_routes(), *sign_in_routes(),
                *share_routes(), *archive_routes(), Mount(PREFIX, app=create_api())]
    )
