"""Optional OpenTelemetry tracing of every request, exported over OTLP/HTTP; off unless set.

With `IMGSTREAM_TRACING_ENDPOINT` set, each HTTP request and socket handshake becomes a span
(W3C `traceparent` from the load balancer is continued), sampled at `tracing_sample_ratio`.
Spans see the path as the logs write it (a share link's token hashed) and no query string (signed
media URLs carry their signature there).
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from imgstream.api.logs import loggable_path
from imgstream.config import Settings

SERVICE_NAME = "imgstream"
_ORIGINAL_SCOPE = "imgstream.untraced_scope"


def tracer_provider(*, exporter: SpanExporter, sample_ratio: float) -> TracerProvider:
    """A provider that batches spans to `exporter`, following the caller's sampling decision.

    Args:
        exporter: Where spans go.
        sample_ratio: Share of new traces kept.

    Returns:
        The provider.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}),
                              sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def request_tracing(settings: Settings) -> Callable[[Callable], Callable]:
    """The ASGI wrapper that traces requests when a tracing endpoint is set, else no wrapper.

    Args:
        settings: The app's settings.

    Returns:
        A function wrapping the backend (the identity function when tracing is off).
    """
    if not settings.tracing_endpoint:
        return lambda app: app
    provider = tracer_provider(exporter=OTLPSpanExporter(endpoint=settings.tracing_endpoint),
                               sample_ratio=settings.tracing_sample_ratio)
    return lambda app: traced(app, provider)


def traced(app: Callable, provider: TracerProvider) -> Callable:
    """`app` inside OpenTelemetry's middleware, which sees only the loggable path.

    Args:
        app: The ASGI app; it still receives the request exactly as it came.
        provider: Where spans go.

    Returns:
        The wrapped ASGI app.
    """

    async def untraced(scope, receive, send) -> None:
        await app(scope.get(_ORIGINAL_SCOPE, scope), receive, send)

    middleware = OpenTelemetryMiddleware(untraced, tracer_provider=provider)

    async def tracing(scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        path = loggable_path(scope.get("path", ""))
        seen = {**scope, "path": path, "raw_path": path.encode(), "query_string": b"",
                _ORIGINAL_SCOPE: scope}
        await middleware(seen, receive, send)

    return tracing
