from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from imgstream.api import logs, tracing
from imgstream.config import Settings


def hello(request):
    return PlainTextResponse("hello")


def echo(request):
    return PlainTextResponse(f"{request.url.path}?{request.url.query}")


def backend():
    return Starlette(routes=[Route("/hello", hello), Route("/s/{token}/media/{key:path}", echo)])


def test_tracing_is_off_unless_an_endpoint_is_set():
    app = backend()
    assert tracing.request_tracing(Settings())(app) is app


def test_tracing_on_wraps_the_backend_in_the_otel_middleware():
    settings = Settings(tracing_endpoint="http://127.0.0.1:4318/v1/traces")
    wrapped = tracing.request_tracing(settings)(backend())
    assert any(isinstance(cell.cell_contents, OpenTelemetryMiddleware)
               for cell in wrapped.__closure__)


def test_a_traced_request_becomes_a_span_continuing_the_callers_trace():
    exporter = InMemorySpanExporter()
    provider = tracing.tracer_provider(exporter=exporter, sample_ratio=0.0)
    app = tracing.traced(backend(), provider)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with TestClient(app) as client:
        # Sampled by the caller: kept although the ratio for new traces is 0.
        response = client.get("/hello", headers={
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        assert response.text == "hello"
        client.get("/hello")  # a new trace, not sampled at ratio 0
    provider.force_flush()
    spans = exporter.get_finished_spans()
    assert spans, "the sampled request made spans"
    assert {format(span.context.trace_id, "032x") for span in spans} == {trace_id}
    assert any(span.attributes.get("http.status_code") == 200
               or span.attributes.get("http.response.status_code") == 200 for span in spans)


def test_spans_never_hold_a_share_token_or_a_signed_query():
    exporter = InMemorySpanExporter()
    provider = tracing.tracer_provider(exporter=exporter, sample_ratio=1.0)
    token = "Secr3tShareToken_abcdefghij"
    with TestClient(tracing.traced(backend(), provider)) as client:
        response = client.get(f"/s/{token}/media/thumb/x.jpg?exp=99&sig=SIGNATURE")
    # The app still gets the request as it came.
    assert response.text == f"/s/{token}/media/thumb/x.jpg?exp=99&sig=SIGNATURE"
    provider.force_flush()
    spans = exporter.get_finished_spans()
    assert spans
    recorded = repr([(span.name, dict(span.attributes)) for span in spans])
    assert token not in recorded and "SIGNATURE" not in recorded
    assert logs.loggable_path(f"/s/{token}/media/thumb/x.jpg") in recorded
