"""Prometheus metrics: what the server counts, and GET /metrics for a scraper holding the token.

`/metrics` is never public: without `IMGSTREAM_METRICS_TOKEN` it answers 404, and with it only a
request bearing that token gets the figures. With `PROMETHEUS_MULTIPROC_DIR` set (several server
workers), every worker writes its figures there and the scrape adds them up.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from imgstream.config import get_settings
from imgstream.models import Photo
from imgstream.runtime import db_session
from imgstream.services.imaging.formats import ACCEPTED_FORMATS
from imgstream.services.ingest import IngestResult, IngestStatus

log = logging.getLogger("imgstream.ingest")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
_INGEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
_STORED = frozenset({IngestStatus.ADDED, IngestStatus.REPLACED, IngestStatus.KEPT_BOTH})
# Label values of an announced format: the ones ingests report (Photo.format, lower case).
_FORMAT_BY_EXTENSION = {**{fmt.extension: fmt.name.lower() for fmt in ACCEPTED_FORMATS},
                        "jpeg": "jpeg", "jpe": "jpeg"}

REQUESTS = Counter("imgstream_http_requests_total", "HTTP requests and sockets answered.",
                   ["method", "route", "status"])
REQUEST_SECONDS = Histogram("imgstream_http_request_duration_seconds",
                            "Time from a request's arrival to the end of its answer.",
                            ["method", "route"], buckets=_LATENCY_BUCKETS)
UPLOADS = Counter("imgstream_uploads_total",
                  "Chunked uploads begun, by the announced file's format and outcome (begun, "
                  "too_large, refused, failed).", ["format", "outcome"])
INGESTS = Counter("imgstream_ingests_total", "Uploads turned into photos, by format and outcome.",
                  ["format", "outcome"])
INGEST_SECONDS = Histogram("imgstream_ingest_duration_seconds",
                           "Time to ingest one upload: join, decode, derive, store, commit.",
                           ["format"], buckets=_INGEST_BUCKETS)
STORED_BYTES = Counter("imgstream_stored_bytes_total", "Bytes of originals stored.", ["format"])
STORAGE_ERRORS = Counter("imgstream_storage_errors_total",
                         "Times photo storage was unreachable or failed.")
DATABASE_ERRORS = Counter("imgstream_database_errors_total",
                          "Errors raised by the database driver.")
OPEN_SOCKETS = Gauge("imgstream_open_sockets", "Websockets (the app's live connections) open.",
                     multiprocess_mode="livesum")

# Paths become a bounded set of route names: ids and keys must not become label values.
_ROUTES = [
    (re.compile(r"^/api/v1/uploads/?$"), "/api/v1/uploads"),
    (re.compile(r"^/api/v1/uploads/[^/]+/?$"), "/api/v1/uploads/{id}"),
    (re.compile(r"^/api/v1/uploads/[^/]+/chunks/?$"), "/api/v1/uploads/{id}/chunks"),
    (re.compile(r"^/api/v1/uploads/[^/]+/complete/?$"), "/api/v1/uploads/{id}/complete"),
    (re.compile(r"^/api/v1/"), "/api/v1/other"),
    (re.compile(r"^/media/"), "/media/{key}"),
    (re.compile(r"^/s/[^/]+/media/"), "/s/{token}/media"),
    (re.compile(r"^/s/"), "/s/{token}"),
    (re.compile(r"^/_event(/|$)"), "/_event"),
    (re.compile(r"^/assets/"), "/assets/{file}"),
    (re.compile(r"^/photo/"), "/photo/{id}"),
    (re.compile(r"^/(health|metrics|ping|_health|_upload|auth/dev-sign-in|auth/dev-sign-out|"
                r"signin|admin|settings|trash|favicon\.ico)/?$"), None),
    (re.compile(r"^/$"), "/"),
]


def route_of(path: str) -> str:
    """The route a path belongs to, from a fixed list ("other" for anything else)."""
    for pattern, name in _ROUTES:
        if pattern.match(path):
            return name or path.rstrip("/")
    return "other"


def announced_format(filename: str) -> str:
    """The format an upload's file name announces, from a fixed set ("other" for the rest)."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return _FORMAT_BY_EXTENSION.get(extension, "other")


def observe_request(*, method: str, route: str, status: int, seconds: float,
                    upload_format: str | None = None) -> None:
    """Count one answered request and how long it took.

    Args:
        method: HTTP method (WEBSOCKET for a socket).
        route: The route name (`route_of`).
        status: The status answered.
        seconds: Time from arrival to the end of the answer.
        upload_format: For an upload begun, the format its file name announced, when read.
    """
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    if route == "/api/v1/uploads" and method == "POST":
        outcome = ("begun" if status < 300 else "too_large" if status == 413
                   else "refused" if status < 500 else "failed")
        UPLOADS.labels(upload_format or "unknown", outcome).inc()


_Result = TypeVar("_Result", bound=IngestResult | None)


def measured(ingest: Callable[[], _Result],
             sessions: Callable[[], AbstractContextManager[Session]] = db_session,
             ) -> Callable[[], _Result]:
    """Wrap a blocking ingest so its time, format, outcome and stored bytes are recorded.

    Args:
        ingest: Runs one ingest on the calling thread and returns its result (None when there
            was nobody to ingest for).
        sessions: Opens a database session, to read the stored photo's format and size.

    Returns:
        The same call, measured; it logs one line per ingest. Measuring never fails it.
    """

    def run() -> _Result:
        started = time.perf_counter()
        outcome, kind, size = "error", "unknown", 0
        try:
            result = ingest()
            if result is not None:
                outcome = result.status.value
                if result.status in _STORED and result.photo_id is not None:
                    kind, size = _stored(sessions, result.photo_id)
            return result
        finally:
            seconds = time.perf_counter() - started
            INGESTS.labels(kind, outcome).inc()
            INGEST_SECONDS.labels(kind).observe(seconds)
            if size:
                STORED_BYTES.labels(kind).inc(size)
            log.log(logging.ERROR if outcome == "error" else logging.INFO,
                    "ingest %s %s", kind, outcome, extra={"json_fields": {
                        "ingest": {"format": kind, "outcome": outcome, "bytes": size,
                                   "seconds": round(seconds, 3)}}})

    return run


def _stored(sessions: Callable[[], AbstractContextManager[Session]],
            photo_id: uuid.UUID) -> tuple[str, int]:
    try:
        with sessions() as session:
            photo = session.get(Photo, photo_id)
    except Exception:  # noqa: BLE001 - a figure is not worth failing the ingest it describes
        log.warning("the format of ingested photo %s could not be read", photo_id, exc_info=True)
        return "unknown", 0
    return (photo.format.lower(), photo.size_bytes) if photo is not None else ("unknown", 0)


def _database_error(_context: sa.engine.ExceptionContext) -> None:
    DATABASE_ERRORS.inc()


def watch_database() -> None:
    """Count every error any database engine of this process raises."""
    if not sa.event.contains(sa.Engine, "handle_error", _database_error):
        sa.event.listen(sa.Engine, "handle_error", _database_error)


async def metrics(request: Request) -> Response:
    """GET /metrics: the figures in Prometheus' text format, for a bearer of the token."""
    settings = get_settings()
    if not settings.metrics_token:
        return PlainTextResponse("Not Found", status_code=404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
        return PlainTextResponse("Unauthorized", status_code=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    registry = REGISTRY
    if settings.prometheus_multiproc_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(settings.prometheus_multiproc_dir))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def metrics_routes() -> list[Route]:
    """The metrics route."""
    return [Route("/metrics", metrics, methods=["GET"])]
