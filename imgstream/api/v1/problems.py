"""Errors of the REST API as `application/problem+json` (RFC 9457).

Every error answers `{"type", "title", "status", "detail"}`; `error` repeats `detail` for the
clients written against the first upload API, and some problems add a member of their own
(`received` for an upload that continues elsewhere, `scope` for a missing scope).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
NO_STORE = {"Cache-Control": "no-store"}


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a person.")
    error: str = Field(description="The same as `detail`.")
    received: int | None = Field(
        default=None, description="For an upload: the byte where it continues.")
    scope: str | None = Field(default=None, description="The scope the API key lacks.")


class ProblemError(Exception):  # noqa: N818 - it is raised as the answer
    """Raise to answer with a problem."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any):
        """Describe the problem.

        Args:
            status: HTTP status code.
            detail: What went wrong, for a person.
            headers: Extra response headers (e.g. Retry-After).
            **extra: Extension members (`received`, `scope`).
        """
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(status: int, detail: str, *, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    """A problem+json response.

    Args:
        status: HTTP status code.
        detail: What went wrong, for a person.
        headers: Extra response headers.
        **extra: Extension members.

    Returns:
        The response.
    """
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "error": detail, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers={**NO_STORE, **(headers or {})})


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all as problem+json."""
    return {
        status: {"description": HTTPStatus(status).phrase,
                 "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else
                     str(error.get("msg", "invalid")))
    return "; ".join(parts) or "the request is not valid"


def install(app: FastAPI) -> None:
    """Answer every error of the app as problem+json, and list Problem in its schemas."""

    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.status, exc.detail, headers=exc.headers, **exc.extra)

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource"
        return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))

    async def on_invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, _validation_detail(exc))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "something went wrong on our side; please try again")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_unexpected)
