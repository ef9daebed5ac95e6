# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""Malformed offsets and bodies get a 400 answer, never a 500; random inputs too (Q-02)."""

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from imgstream.api import http_api
from imgstream.services import media_urls
from tests.unit.api.test_media import as_user
from tests.unit.api.test_uploads import CHUNK, app_env, begin, client, owner, problem, put  # noqa: F401

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("offset", ["²", "①", "0²", "٣", "３", " 0", "0 ", "+0", "-0", "0x0", "",
                                    "1" * 40])
def test_q02_offsets_other_than_ascii_digits_are_refused(client, offset):
    upload = begin(client, 100)
    response = put(client, upload["id"], offset, b"a")
    assert response.status_code == 400
    assert problem(response) == {"error": "offset (a number of bytes) is required"}
    assert client.get(f"/api/v1/uploads/{upload['id']}").json()["received"] == 0


@FUZZ
@given(offset=st.text(max_size=24))
def test_q02_any_offset_is_a_clear_answer(client, offset):
    upload = begin(client, 100)
    response = put(client, upload["id"], offset, b"a")
    if offset.isascii() and offset.isdigit() and len(offset) <= 18:
        assert response.status_code == (200 if int(offset) == 0 else 409)
    else:
        assert response.status_code == 400
        assert problem(response) == {"error": "offset (a number of bytes) is required"}
    client.delete(f"/api/v1/uploads/{upload['id']}")


@pytest.mark.parametrize("body", [b"[" * 5000, b"{\"a\":" * 5000, b"[" * 100_000,
                                  b"\xff\xfe{}", b"{\"size\": 1e999999}", b"NaN", b"\x00"])
def test_q02_malformed_json_bodies_are_400(client, body):
    response = client.post("/api/v1/uploads", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code in (400, 413)
    assert "error" in response.json()


def test_q02_every_json_operation_answers_deep_nesting_with_a_400_problem(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(method.upper(), re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
                  for path, item in schema["paths"].items() for method, operation in item.items()
                  if "application/json" in operation.get("requestBody", {}).get("content", {})]
    assert len(operations) >= 8, operations
    for method, path in operations:
        response = client.request(method, f"/api/v1{path}", content=b"[" * 5000,
                                  headers={"content-type": "application/json"})
        assert response.status_code == 400, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json", (method, path)


@FUZZ
@given(body=st.one_of(
    st.binary(max_size=2000),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                 max_leaves=20).map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=1, max_value=6000).map(lambda depth: b"[" * depth + b"]" * depth),
))
def test_q02_any_body_is_a_clear_answer(client, body):
    upload = begin(client, 100)
    for method, path in [("POST", "/api/v1/uploads"),
                         ("POST", f"/api/v1/uploads/{upload['id']}/complete")]:
        response = client.request(method, path, content=body,
                                  headers={"content-type": "application/json"})
        assert response.status_code < 500, (path, response.text)
        assert "error" in response.json() or response.status_code < 300
        if response.status_code == 201:
            client.delete(f"/api/v1/uploads/{response.json()['id']}")
    client.delete(f"/api/v1/uploads/{upload['id']}")


@pytest.mark.parametrize("expires", ["٣", "²", " 1", "1_0", "+1", "1" * 40])
def test_q02_media_urls_accept_only_the_expiry_the_app_signs(expires):
    with pytest.raises(media_urls.InvalidSignature, match="malformed expiry"):
        media_urls.verify(secret=b"k", key="photos/x", expires=expires, signature="s")


def test_q02_a_media_url_with_a_strange_expiry_is_403(app_env, owner):
    served = TestClient(as_user(http_api(), owner.id))
    key = f"thumbnails/{owner.id}/{owner.id}_thumb.webp"
    for expires in ("²", "٣", "1" * 40):
        response = served.get(f"/media/{key}", params={"exp": expires, "sig": "x"})
        assert response.status_code == 403
