"""HTTP routes beside the Reflex app."""

import re

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
                *share_routes(), *archive_routes(), _public_api()]
    )


def _public_api() -> Mount:
    """/api/v1 with every path below it, also one holding an encoded line break.

    Starlette's mount pattern ends in `.*`, which stops at a line break: such a path would miss
    the API and get a plain-text answer instead of a problem document.
    """
    mount = Mount(PREFIX, app=create_api())
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount
