"""Optional OpenTelemetry tracing of every request, exported over OTLP/HTTP; off unless set.

With `IMGSTREAM_TRACING_ENDPOINT` set, each HTTP request and socket handshake becomes a span
(W3C `traceparent` from the load balancer is continued), sampled at `tracing_sample_ratio`.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from imgstream.config import Settings

SERVICE_NAME = "imgstream"


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
    return lambda app: OpenTelemetryMiddleware(app, tracer_provider=provider)
