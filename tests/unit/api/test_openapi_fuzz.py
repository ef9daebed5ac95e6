# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""Schemathesis against /api/v1/openapi.json: no 5xx, and every answer matches its schema.

Bounded: a few examples per operation (about a minute in all); a person with photos, an album
and a link is there for the generated requests to find or miss.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from imgstream import config
from imgstream.api import http_api
from tests import images
from tests.unit.api.test_media import as_user
from tests.unit.api.test_uploads import app_env, client, owner  # noqa: F401
from tests.unit.api.test_v1_photos import upload

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def api_schema(app_env, owner, client, monkeypatch):
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_KEY", "100000/minute")
    monkeypatch.setenv("IMGSTREAM_API_RATE_PER_PERSON", "100000/minute")
    config.get_settings.cache_clear()
    photo_id = upload(client, images.jpeg(size=(64, 48), date_original="2024:07:14 18:30:00"),
                      "seed.jpg")
    album = client.post("/api/v1/albums", json={"name": "Seed"}).json()
    client.post(f"/api/v1/albums/{album['id']}/photos", json={"photo_ids": [photo_id]})
    client.post("/api/v1/shares", json={"album_id": album["id"]})
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", as_user(http_api(), owner.id))


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


@pytest.mark.timeout(600)
def test_every_operation_answers_within_its_schema(api_schema):
    failures = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=bool(os.environ.get("CI")),
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - all are tried
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}"[:3000])
    assert operations >= 25
    assert failures == []


def test_a_path_with_an_encoded_line_break_gets_a_problem_document(app_env, owner):
    from starlette.testclient import TestClient

    api = TestClient(as_user(http_api(), owner.id))
    answer = api.delete("/api/v1/uploads/a%0Ab")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
