import hashlib
import io
import json
import logging
import uuid

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from imgstream.api import logs
from imgstream.api.identity import SCOPE_USER
from imgstream.config import LogFormat, Settings

USER = uuid.uuid4()
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def backend():
    async def hello(request):
        logging.getLogger("imgstream.test").info("inside the request")
        return PlainTextResponse("hello", status_code=201)

    async def share(request):
        return PlainTextResponse(request.path_params["token"])

    async def broken(request):
        return PlainTextResponse("down", status_code=503)

    return Starlette(routes=[Route("/api/v1/uploads", hello, methods=["POST"]),
                             Route("/s/{token}/p/{photo}", share),
                             Route("/health", broken)])


def signed_in(app):
    async def with_user(scope, receive, send):
        await app({**scope, SCOPE_USER: USER}, receive, send)

    return with_user


@pytest.fixture(autouse=True)
def restore_logging():
    logger = logging.getLogger("imgstream")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers, logger.level, logger.propagate = saved


@pytest.fixture
def json_lines():
    out = io.StringIO()
    logs.configure(Settings(_env_file=None, log_format="json", gcp_project="photos-prod"), out)
    return lambda: [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_logs_are_the_default_outside_development():
    production = Settings(_env_file=None, env="staging", secret="s" * 32,
                          public_url="https://p.example.com", iap_audience="/projects/1/apps/p")
    assert production.log_format is LogFormat.JSON
    assert Settings(_env_file=None).log_format is LogFormat.TEXT


def test_a_request_writes_one_cloud_logging_line_with_trace_and_hashed_user(json_lines):
    app = logs.observe_requests(signed_in(logs.remember_user(backend())))
    answer = TestClient(app).post(
        "/api/v1/uploads", headers={"X-Cloud-Trace-Context": f"{TRACE}/123;o=1",
                                    "Cookie": "imgstream_dev_user=secret-cookie"})
    assert answer.status_code == 201
    inside, request = json_lines()
    assert inside["message"] == "inside the request"
    assert inside["logging.googleapis.com/trace"] == f"projects/photos-prod/traces/{TRACE}"
    assert request["severity"] == "INFO"
    assert request["httpRequest"]["status"] == 201
    assert request["httpRequest"]["requestMethod"] == "POST"
    assert request["route"] == "/api/v1/uploads"
    assert request["logging.googleapis.com/spanId"] == "123"
    assert request["logging.googleapis.com/trace_sampled"] is True
    assert request["request_id"] == inside["request_id"]
    assert request["user"] == logs.hashed_user(USER) != str(USER)
    assert "secret-cookie" not in json.dumps(request)


def test_a_given_request_id_is_kept_and_a_malformed_one_replaced(json_lines):
    client = TestClient(logs.observe_requests(backend()))
    client.post("/api/v1/uploads", headers={"X-Request-Id": "abc-123-def"})
    client.post("/api/v1/uploads", headers={"X-Request-Id": "<script>"})
    lines = [line for line in json_lines() if "httpRequest" in line]
    assert lines[0]["request_id"] == "abc-123-def"
    assert len(lines[1]["request_id"]) == 32


def test_a_share_link_is_logged_by_a_hash_of_its_token_never_the_token(json_lines):
    token = "Secr3tShareToken_abcdefghij"
    answer = TestClient(logs.observe_requests(backend())).get(f"/s/{token}/p/42?x=1")
    assert answer.text == token
    (line,) = json_lines()
    assert token not in json.dumps(line)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert line["httpRequest"]["requestUrl"] == f"/s/sha256:{digest[:12]}/p/42"
    assert line["route"] == "/s/{token}"


def test_a_server_error_is_logged_as_an_error_even_on_a_quiet_path(json_lines):
    assert TestClient(logs.observe_requests(backend())).get("/health").status_code == 503
    (line,) = json_lines()
    assert line["severity"] == "ERROR" and line["httpRequest"]["status"] == 503


@pytest.mark.parametrize(("headers", "expected"), [
    ({"x-cloud-trace-context": f"{TRACE}/1;o=1"}, (TRACE, "1", True)),
    ({"x-cloud-trace-context": TRACE}, (TRACE, None, False)),
    ({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}, (TRACE, "00f067aa0ba902b7", True)),
    ({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-00"}, (TRACE, "00f067aa0ba902b7", False)),
    ({"traceparent": "garbage"}, (None, None, False)),
    ({}, (None, None, False)),
])
def test_trace_context_comes_from_cloud_run_or_w3c_headers(headers, expected):
    assert logs.trace_of(headers) == expected


def test_an_exception_is_logged_with_its_stack_in_the_message(json_lines):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("imgstream.test").exception("it failed")
    (line,) = json_lines()
    assert line["severity"] == "ERROR"
    assert "ValueError: broken" in line["message"]


def test_text_logs_in_development():
    stream = io.StringIO()
    logs.configure(Settings(_env_file=None), stream)
    logging.getLogger("imgstream.test").warning("plain words")
    out = stream.getvalue()
    assert "WARNING imgstream.test plain words" in out
    assert not out.startswith("{")
