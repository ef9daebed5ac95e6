"""GET /health: is the app able to serve, checked cheaply enough for a frequent probe."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from imgstream import __version__
from imgstream.api import metrics
from imgstream.runtime import engine, storage
from imgstream.services import photo_urls

CHECK_TIMEOUT_SECONDS = 5.0


def _database() -> None:
    with engine().connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _storage() -> None:
    storage().check()


def _signing() -> None:
    photo_urls.check_signing(storage=storage())


async def _run(check) -> str:  # noqa: ANN001
    try:
        await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure makes the check fail, with its kind
        return f"failing: {type(exc).__name__}"
    return "ok"


async def health(request: Request) -> JSONResponse:
    """Database, storage and URL signing checks; 200 when all pass, 503 naming the failing ones."""
    started = time.perf_counter()
    database, store, signing = await asyncio.gather(
        _run(_database), _run(_storage), _run(_signing)
    )
    checks = {"database": database, "storage": store, "signing": signing}
    if store != "ok":
        metrics.STORAGE_ERRORS.inc()
    healthy = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {
            "status": "ok" if healthy else "failing",
            "version": __version__,
            "timestamp": datetime.now(UTC).isoformat(),
            "checks": checks,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )


def health_routes() -> list[Route]:
    """The health route."""
    return [Route("/health", health, methods=["GET"])]
