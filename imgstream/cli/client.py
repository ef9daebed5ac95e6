"""Talking to a running ImgStream over /api/v1: the connection, retries and error messages."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from imgstream.cli.credentials import Credentials

USER_AGENT = "imgstream-cli/1"
ATTEMPTS = 5
"""Tries of one request when the network fails or the server is busy (408, 429, 502-504)."""
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
MAX_WAIT_SECONDS = 30.0
TIMEOUT = httpx.Timeout(30.0, read=300.0)
"""Completing an upload decodes the photo: its answer may take a while on a busy server."""


class ApiError(Exception):
    """The server refused a request or could not be reached; the message is for a person."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


def describe(response: httpx.Response) -> str:
    """What a refusal says, from a problem document, an `{"error"}` body or plain text.

    Args:
        response: An answer with a 4xx or 5xx status.

    Returns:
        A one-line message.
    """
    message = ""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for field in ("detail", "error", "title", "message"):
            if isinstance(body.get(field), str) and body[field]:
                message = body[field]
                break
    if not message:
        message = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    return message or response.reason_phrase or f"HTTP {response.status_code}"


def refusal(response: httpx.Response) -> ApiError:
    """The error for a refused request, with what to do about a refused key."""
    message = describe(response)
    if response.status_code == 401:
        message = (f"the server refused the API key ({message}); "
                   "run `imgstream login URL` with a valid key")
    elif response.status_code == 403:
        message = f"not allowed: {message}"
    return ApiError(message, status=response.status_code)


def checked(response: httpx.Response) -> httpx.Response:
    """The response when it succeeded.

    Raises:
        ApiError: When its status is 4xx or 5xx.
    """
    if response.is_error:
        raise refusal(response)
    return response


def fetch_oidc_token(audience: str) -> str:
    """An OIDC ID token for IAP's OAuth client, from the Application Default Credentials.

    A service account key (GOOGLE_APPLICATION_CREDENTIALS) or the metadata server gives one
    directly; see the README for a person's own account.
    """
    # Loaded here: only a server behind IAP needs google-auth, and it is slow to load.
    import google.auth.transport.requests
    import google.oauth2.id_token

    return google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(),
                                                 audience)


class ServerAuth(httpx.Auth):
    """The API key in `Authorization`; behind IAP, an OIDC token in `Proxy-Authorization`.

    IAP reads the token from `Proxy-Authorization` when `Authorization` is the app's own. The
    token is fetched once and again after `TOKEN_SECONDS` (Google's last an hour).
    """

    TOKEN_SECONDS = 45 * 60

    def __init__(self, credentials: Credentials,
                 fetch: Callable[[str], str] = fetch_oidc_token):
        self.credentials = credentials
        self.fetch = fetch
        self._token: tuple[str, float] | None = None

    def _iap_token(self) -> str:
        now = time.monotonic()
        if self._token is None or now - self._token[1] > self.TOKEN_SECONDS:
            try:
                self._token = (self.fetch(self.credentials.iap_audience or ""), now)
            except Exception as exc:  # noqa: BLE001 - google-auth raises several kinds
                raise ApiError(f"cannot get a token for IAP: {exc}") from exc
        return self._token[0]

    def auth_flow(self, request: httpx.Request):  # noqa: ANN201 - httpx's generator protocol
        """Add the headers to a request to the server."""
        request.headers["Authorization"] = f"Bearer {self.credentials.key}"
        if self.credentials.iap_audience:
            request.headers["Proxy-Authorization"] = f"Bearer {self._iap_token()}"
        yield request


def connect(credentials: Credentials) -> httpx.Client:
    """A client for the server that presents the API key (and IAP's token)."""
    return httpx.Client(base_url=credentials.url, auth=ServerAuth(credentials),
                        headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT)


def connect_async(credentials: Credentials, *, connections: int = 4) -> httpx.AsyncClient:
    """An asynchronous client for the server that presents the API key (and IAP's token)."""
    return httpx.AsyncClient(
        base_url=credentials.url, auth=ServerAuth(credentials),
        headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=connections + 2),
    )


def _wait_seconds(response: httpx.Response | None, attempt: int) -> float:
    retry_after = response.headers.get("retry-after") if response is not None else None
    if retry_after:
        if retry_after.isdigit():
            return min(float(retry_after), MAX_WAIT_SECONDS)
        try:
            when = email.utils.parsedate_to_datetime(retry_after).timestamp()
            return min(max(when - time.time(), 0.0), MAX_WAIT_SECONDS)
        except (TypeError, ValueError):
            pass
    return min(0.5 * 2 ** attempt, MAX_WAIT_SECONDS)


async def with_retries(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Send a request again after a network failure or a busy answer, waiting in between.

    Args:
        send: Sends the request once (called again for every try).

    Returns:
        The first answer that is not a busy one, or the last one.

    Raises:
        ApiError: The server could not be reached in any of the tries.
    """
    for attempt in range(ATTEMPTS):
        try:
            response = await send()
        except httpx.TransportError as exc:
            if attempt == ATTEMPTS - 1:
                raise ApiError(f"cannot reach the server: {exc or type(exc).__name__}") from exc
            await asyncio.sleep(_wait_seconds(None, attempt))
            continue
        if response.status_code not in RETRY_STATUSES or attempt == ATTEMPTS - 1:
            return response
        await asyncio.sleep(_wait_seconds(response, attempt))
    raise AssertionError("unreachable")


def get_json(client: httpx.Client, path: str, **params: Any) -> Any:
    """GET a JSON document.

    Raises:
        ApiError: When the server cannot be reached or refuses.
    """
    try:
        response = client.get(path, params={k: v for k, v in params.items() if v is not None})
    except httpx.TransportError as exc:
        raise ApiError(f"cannot reach {client.base_url}: {exc or type(exc).__name__}") from exc
    return checked(response).json()
