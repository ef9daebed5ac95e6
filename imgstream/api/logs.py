"""One log line per request and per ingest: JSON in Cloud Logging's format, or text in development.

Every request gets a context (request id, trace, hashed user id) that log lines written while
it runs carry, ingest threads included (they run in a copy of the request's context). The line
names the user only by a hash of their id, and a share link's token only by a hash of it: never
an email, a cookie or a token.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from imgstream.api import metrics
from imgstream.api.identity import SCOPE_USER
from imgstream.config import LogFormat, Settings

log = logging.getLogger("imgstream.requests")

TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
SAMPLED_FIELD = "logging.googleapis.com/trace_sampled"
QUIET_PATHS = frozenset({"/health", "/ping", "/_health", "/metrics"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SHARE_PATH = re.compile(r"^/s/([^/]+)")
_CLOUD_TRACE = re.compile(r"^([0-9a-f]{32})(?:/(\d+))?(?:;o=([01]))?$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO",
             "DEBUG": "DEBUG"}


@dataclass
class RequestContext:
    """What every log line written during one request says about it."""

    request_id: str
    trace_id: str | None = None
    span_id: str | None = None
    sampled: bool = False
    user: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "imgstream_request", default=None
)


def current_request() -> RequestContext | None:
    """The context of the request being served, if any."""
    return _current.get()


def note_upload_format(filename: str) -> None:
    """Remember the format an upload's file name announces, for the request's figures."""
    context = current_request()
    if context is not None:
        context.fields["upload_format"] = metrics.announced_format(filename)


def hashed_user(user_id: uuid.UUID | str) -> str:
    """A stable pseudonym for a user id: the same person's lines group, nobody is named."""
    return hashlib.sha256(str(user_id).encode()).hexdigest()[:16]


def loggable_path(path: str) -> str:
    """A request path fit for logs and traces: a share link's token becomes a hash of it.

    The token opens the link to anyone holding it, so it is kept only as the first 12 hex digits
    of its SHA-256, the start of the link's `token_hash` (the lines of one link still group,
    and an operator can find the link).
    """
    return _SHARE_PATH.sub(
        lambda found: f"/s/sha256:{hashlib.sha256(found.group(1).encode()).hexdigest()[:12]}",
        path, count=1)


def trace_of(headers: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """The trace id, span id and sampling flag of a request.

    Args:
        headers: Lower-cased request headers.

    Returns:
        (trace id, span id, sampled) from `X-Cloud-Trace-Context`, else from W3C `traceparent`;
        Nones when neither is well formed.
    """
    cloud = _CLOUD_TRACE.match(headers.get("x-cloud-trace-context", "").strip())
    if cloud:
        return cloud.group(1), cloud.group(2), cloud.group(3) == "1"
    parent = _TRACEPARENT.match(headers.get("traceparent", "").strip())
    if parent:
        return parent.group(1), parent.group(2), int(parent.group(3), 16) & 1 == 1
    return None, None, False


class CloudLoggingFormatter(logging.Formatter):
    """A JSON object per line with the fields Cloud Logging reads from a container's output."""

    def __init__(self, project: str | None = None):
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        message = record.getMessage()
        if record.exc_info:
            # Error Reporting groups errors whose message holds the stack trace.
            message = f"{message}\n{self.formatException(record.exc_info)}"
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        context = current_request()
        if context is not None:
            entry["request_id"] = context.request_id
            if context.user:
                entry["user"] = context.user
            if context.trace_id:
                entry[TRACE_FIELD] = (f"projects/{self.project}/traces/{context.trace_id}"
                                      if self.project else context.trace_id)
                if context.span_id:
                    entry[SPAN_FIELD] = context.span_id
                entry[SAMPLED_FIELD] = context.sampled
        entry.update(getattr(record, "json_fields", None) or {})
        return json.dumps(entry, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, with the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as text."""
        line = super().format(record)
        context = current_request()
        return f"{line} [{context.request_id}]" if context is not None else line


def configure(settings: Settings, stream: TextIO | None = None) -> None:
    """Send ImgStream's log lines to stdout in the configured format (called once at start-up).

    Args:
        settings: The app settings (log format, level, project for trace ids).
        stream: Where to write instead of stdout.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(settings.gcp_project)
                         if settings.log_format is LogFormat.JSON else TextFormatter())
    logger = logging.getLogger("imgstream")
    logger.handlers = [handler]
    logger.setLevel(settings.log_level)
    logger.propagate = False


def _request_id(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def observe_requests(app: Callable) -> Callable:
    """Wrap the whole backend: time, count and log every request and socket."""

    async def observed(scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        trace_id, span_id, sampled = trace_of(headers)
        context = RequestContext(_request_id(headers), trace_id, span_id, sampled)
        token = _current.set(context)
        path = scope.get("path", "")
        route = metrics.route_of(path)
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        answer = {"status": 500, "bytes": 0}

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            elif message["type"] == "websocket.accept":
                answer["status"] = 101
            elif message["type"] == "websocket.close" and answer["status"] != 101:
                answer["status"] = 403
            await send(message)

        started = time.perf_counter()
        socket = scope["type"] == "websocket"
        if socket:
            metrics.OPEN_SOCKETS.inc()
        try:
            await app(scope, receive, sending)
        finally:
            if socket:
                metrics.OPEN_SOCKETS.dec()
            seconds = time.perf_counter() - started
            metrics.observe_request(method=method, route=route, status=answer["status"],
                                    seconds=seconds,
                                    upload_format=context.fields.get("upload_format"))
            # A 5xx line is an error, so Cloud Logging's error views and alerts find it.
            level = (logging.ERROR if answer["status"] >= 500
                     else logging.DEBUG if path in QUIET_PATHS and answer["status"] < 400
                     else logging.INFO)
            log.log(level, "%s %s %s", method, route, answer["status"], extra={"json_fields": {
                "httpRequest": {
                    "requestMethod": method,
                    "requestUrl": loggable_path(path),
                    "status": answer["status"],
                    "responseSize": str(answer["bytes"]),
                    "latency": f"{seconds:.3f}s",
                    "userAgent": headers.get("user-agent", "")[:200],
                    "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                },
                "route": route,
            }})
            _current.reset(token)

    return observed


def remember_user(app: Callable) -> Callable:
    """Note who the identity middleware found, for the request's log lines (inside identity)."""

    async def remembering(scope, receive, send) -> None:
        context = current_request()
        user_id = scope.get(SCOPE_USER)
        if context is not None and user_id is not None:
            context.user = hashed_user(user_id)
        await app(scope, receive, send)

    return remembering
