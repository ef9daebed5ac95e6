"""Security headers on every answer of the backend: pages, socket polling, API, media, probes.

In the production build the backend also serves the compiled pages, so they get them too; in
development the pages come from the frontend dev server and only the backend's answers do.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from imgstream.config import Settings, get_settings

GCS_ORIGIN = "https://storage.googleapis.com"


def _socket_origin(origin: str) -> str:
    parts = urlsplit(origin)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """The Content-Security-Policy for the app under these settings.

    The compiled Reflex frontend needs inline scripts (its hydration data), string evaluation
    (Reflex runs `rx.call_script` code with `eval`), inline styles (its CSS-in-JS), the socket to
    the backend, and images from the backend's /media route, from Cloud Storage signed URLs and
    from thumbhash placeholders (data: URLs). What the policy adds is where the page may connect,
    load images from, post forms to and be framed by.
    """
    backend = list(dict.fromkeys([*settings.backend_origins, *settings.cors_origins]))
    sockets = [_socket_origin(origin) for origin in backend]
    images = ["'self'", "data:", "blob:", *backend]
    if settings.storage_backend == "gcs":
        images.append(GCS_ORIGIN)
    if settings.storage_emulator_host:
        emulator = urlsplit(settings.storage_emulator_host)
        images.append(f"{emulator.scheme or 'http'}://{emulator.netloc or emulator.path}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *backend, *sockets],
        "worker-src": ["'self'", "blob:"],
        "form-action": ["'self'", *backend],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_header_values(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries (unless the route set its own)."""
    return [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        # Not no-referrer: under it browsers send `Origin: null` with form posts, which the
        # sign-in's origin check must refuse.
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


def security_headers(app: Callable) -> Callable:
    """Wrap the backend so every HTTP answer carries the security headers."""
    values: list[tuple[bytes, bytes]] = []

    async def with_headers(scope, receive, send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if not values:
            values.extend(security_header_values(get_settings()))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in values if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers
