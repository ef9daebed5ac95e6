"""The public REST API, `/api/v1`, on FastAPI.

OpenAPI 3.1 at /api/v1/openapi.json, docs at /api/v1/docs.

Every handler calls the same service functions as the pages. Errors are problem+json
(`problems.py`); callers and scopes are in `callers.py`, rate limits in `rate_limits.py`.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import JSONResponse

from imgstream import __version__
from imgstream.api import metrics
from imgstream.api.v1 import account, albums, analysis, photos, uploads
from imgstream.api.v1.problems import Problem, install, problem_response
from imgstream.runtime import NoSuchUser
from imgstream.services.storage import StorageUnavailable
from imgstream.services.upload_progress import UploadNotFound

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
DESCRIPTION = """\
The ImgStream library of the person calling: photos, timeline, albums, share links, uploads in
chunks, and image analysis.

Authenticate with an API key, `Authorization: Bearer isk_<id>_<secret>` (made in Settings, or
`imgstream admin keys create`), which gets exactly its scopes; or with the browser's sign-in,
which gets every scope (changes must then come from the app's own origin). Errors are
`application/problem+json` (RFC 9457). Requests are rate-limited per key and per person (429 with
`Retry-After`).
"""


def _domain_errors(app: FastAPI) -> None:
    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return problem_response(404, "no such upload")

    async def no_user(_request: Request, _exc: Exception) -> JSONResponse:
        return problem_response(401, "sign-in required")

    async def too_slow(_request: Request, _exc: Exception) -> JSONResponse:
        # The rest of the body is not read: the connection cannot be used again.
        return problem_response(408, "the request body arrived too slowly; send it again",
                                headers={"Connection": "close"})

    async def storage_down(request: Request, _exc: Exception) -> JSONResponse:
        metrics.STORAGE_ERRORS.inc()
        log.warning("storage unavailable during %s", request.url.path, exc_info=True)
        return problem_response(503, "storage is unavailable right now; try again in a minute")

    async def database_down(request: Request, _exc: Exception) -> JSONResponse:
        # pool_pre_ping replaces dead connections: the next request after a restart works.
        log.warning("database unavailable during %s", request.url.path, exc_info=True)
        return problem_response(503, "the database is unavailable right now; try again in a "
                                "moment", headers={"Retry-After": "5"})

    async def os_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            log.error("disk full during %s", request.url.path)
            return problem_response(507, "the server has no space left for this right now; "
                                    "nothing of it was kept, try again later")
        log.exception("unexpected error during %s", request.url.path, exc_info=exc)
        return problem_response(500, "something went wrong on the server")

    app.add_exception_handler(UploadNotFound, not_found)
    app.add_exception_handler(sa.exc.OperationalError, database_down)
    app.add_exception_handler(OSError, os_error)
    app.add_exception_handler(NoSuchUser, no_user)
    app.add_exception_handler(uploads.BodyTooSlow, too_slow)
    app.add_exception_handler(StorageUnavailable, storage_down)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, servers=[{"url": PREFIX}])
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "isk_<id>_<secret>"}}
    schema["security"] = [{"apiKey": []}]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                # A path segment holds no slash and no line break (a URL cannot reach the
                # route otherwise).
                param_schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and param_schema.get("type") == "string" \
                        and "pattern" not in param_schema and "format" not in param_schema:
                    param_schema["pattern"] = "^[^/\\r\\n]+$"
            # FastAPI's own 422 description does not match what is answered: a problem.
            if "422" in operation.get("responses", {}):
                operation["responses"]["422"] = {"description": "Unprocessable Content",
                                                 "content": problem}
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    app.openapi_schema = schema
    return schema


def create_api() -> FastAPI:
    """The /api/v1 app, to be mounted at PREFIX."""
    app = FastAPI(title="ImgStream API", version=__version__, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    install(app)
    _domain_errors(app)
    app.include_router(account.router)
    app.include_router(photos.router)
    app.include_router(albums.router)
    app.include_router(uploads.router)
    app.include_router(analysis.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
