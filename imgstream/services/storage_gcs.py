"""Photo bytes in a Google Cloud Storage bucket.

This is the only module that imports google.cloud.storage.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

import google.auth.credentials
import google.auth.exceptions
import google_crc32c
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth.transport.requests import Request as AuthRequest
from google.cloud import storage as gcs
from google.cloud.storage.retry import (
    DEFAULT_RETRY,
    ConditionalRetryPolicy,
    is_generation_specified,
)
from google.oauth2 import service_account

from imgstream.services import media_urls
from imgstream.services.storage import (
    ObjectExists,
    ObjectMissing,
    StorageUnavailable,
    UrlUnavailable,
    check_key,
    content_type_for,
)

log = logging.getLogger(__name__)

# Objects larger than the library's 8 MiB multipart limit go up as a resumable session in chunks
# of this size (a multiple of 256 KiB), so a failed chunk is re-sent, not the whole file.
UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
# The most objects one compose request takes.
MAX_COMPOSE_SOURCES = 32
# Transient errors (429, 5xx, dropped connections) are retried with exponential backoff for at
# most this long in total, then the call fails with StorageUnavailable.
RETRY_DEADLINE_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 5.0
# Signed URLs minted for the current expiry window; a gallery page asks for the same thumbnails
# again and again, and on Cloud Run every new URL costs an IAM signBlob call.
_URL_CACHE_LIMIT = 20_000
# After a refused signature no URL is signed for this long: a page of sixty thumbnails would
# otherwise wait for sixty refused IAM calls.
SIGNING_RETRY_SECONDS = 30.0
_REFUSAL_CHARS = 300

_TRANSIENT = (
    api_exceptions.TooManyRequests,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.ServiceUnavailable,
    api_exceptions.GatewayTimeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)


class GcsStorage:
    """Photo originals and renditions as objects in one bucket, served by V4 signed URLs."""

    def __init__(
        self,
        *,
        bucket: str,
        url_ttl_seconds: int = 1800,
        client: gcs.Client | None = None,
        credentials: google.auth.credentials.Credentials | None = None,
        retry: Retry | None = None,
        signing_key_file: Path | None = None,
    ):
        """Create a store for a bucket.

        Args:
            bucket: Bucket name.
            url_ttl_seconds: Minimum lifetime of a signed URL.
            client: A storage client; created on first use from `credentials` when None (the
                client honours STORAGE_EMULATOR_HOST).
            credentials: Credentials for the client and for signing URLs; None for the client's
                own (application default credentials).
            retry: How transient errors are retried; by default exponential backoff for at most
                RETRY_DEADLINE_SECONDS.
            signing_key_file: A service-account key file (GOOGLE_APPLICATION_CREDENTIALS) that
                signs URLs when `credentials` is None; the emulator's client is anonymous, so
                against it this key is the only way to sign.
        """
        self.bucket_name = bucket
        self._ttl = url_ttl_seconds
        self._client = client
        self._credentials = credentials
        self._retry = retry or DEFAULT_RETRY.with_timeout(RETRY_DEADLINE_SECONDS)
        # Create-only uploads carry ifGenerationMatch=0, which makes them safe to retry.
        self._upload_retry = ConditionalRetryPolicy(
            self._retry, is_generation_specified, ["query_params"]
        )
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._urls: dict[tuple[str, str, int], str] = {}
        self._window = 0
        self._signing_key_file = signing_key_file
        self._key_file_credentials: service_account.Credentials | None = None
        self._refused: tuple[float, str] | None = None
        """Until when signing is not tried again, and why it was refused."""

    def _bucket(self) -> gcs.Bucket:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = gcs.Client(credentials=self._credentials)
        return self._client.bucket(self.bucket_name)

    def put_file(self, key: str, source: Path) -> None:
        """Upload a file's bytes, streamed from disk; create-only.

        Args:
            key: Storage key.
            source: The file.

        Raises:
            ObjectExists: Another object (different bytes) is already stored at key.
            StorageUnavailable: GCS kept failing until the retry deadline.
        """
        check_key(key)
        with source.open("rb") as stream:
            self._upload(key, cast(BinaryIO, stream), source.stat().st_size)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Upload bytes; create-only.

        Args:
            key: Storage key.
            data: The bytes.

        Raises:
            ObjectExists: Another object (different bytes) is already stored at key.
            StorageUnavailable: GCS kept failing until the retry deadline.
        """
        check_key(key)
        self._upload(key, io.BytesIO(data), len(data))

    def put_joined(self, key: str, parts: list[str], copy: Path) -> None:
        """Compose the part objects into a new object at key, in the bucket; create-only.

        Compose takes at most MAX_COMPOSE_SOURCES objects: beyond that, groups of parts are
        composed into temporary objects first, which are removed afterwards.

        Args:
            key: Storage key of the new object.
            parts: Keys of the objects whose bytes it holds, in order.
            copy: A local file with the same bytes, to recognise a retried compose.

        Raises:
            ObjectExists: Another object (different bytes) is already stored at key.
            ObjectMissing: A part is missing.
            StorageUnavailable: GCS kept failing until the retry deadline.
        """
        check_key(key)
        bucket = self._bucket()
        sources = [bucket.blob(check_key(part)) for part in parts]
        staged: list[gcs.Blob] = []
        try:
            while len(sources) > MAX_COMPOSE_SOURCES:
                # Beside the first part, so whatever removes the parts' folder removes them;
                # unique per call: two completes of one upload may compose at once.
                stage = f"{parts[0]}.compose-{secrets.token_hex(6)}"
                grouped = []
                for start in range(0, len(sources), MAX_COMPOSE_SOURCES):
                    group = bucket.blob(check_key(f"{stage}-{start // MAX_COMPOSE_SOURCES}"))
                    self._compose(group, sources[start:start + MAX_COMPOSE_SOURCES], key)
                    staged.append(group)
                    grouped.append(group)
                sources = grouped
            target = bucket.blob(key)
            target.content_type = content_type_for(key)
            try:
                # ifGenerationMatch=0 makes the compose create-only; the check before it also
                # holds where a server ignores that condition on compose (fake-gcs-server).
                if self.exists(key):
                    raise api_exceptions.PreconditionFailed(f"{key} exists")
                self._compose(target, sources, key, if_generation_match=0)
            except api_exceptions.PreconditionFailed as exc:
                with copy.open("rb") as stream:
                    if not self._holds(key, cast(BinaryIO, stream)):
                        raise ObjectExists(key) from exc
        finally:
            for blob in staged:
                try:
                    self.delete(blob.name)
                except Exception:  # noqa: BLE001 - removed with the upload's folder
                    log.warning("could not remove the temporary object %s", blob.name)

    def _compose(self, target: gcs.Blob, sources: list[gcs.Blob], key: str,
                 **precondition: int) -> None:
        try:
            with _unavailable_on_transient():
                target.compose(sources, retry=self._upload_retry if precondition
                               else self._retry, **precondition)
        except api_exceptions.NotFound as exc:
            raise ObjectMissing(key) from exc

    def _upload(self, key: str, stream: BinaryIO, size: int) -> None:
        blob = self._bucket().blob(key, chunk_size=UPLOAD_CHUNK_BYTES)
        try:
            with _unavailable_on_transient():
                blob.upload_from_file(
                    stream,
                    size=size,
                    content_type=content_type_for(key),
                    if_generation_match=0,
                    retry=self._upload_retry,
                )
        except api_exceptions.PreconditionFailed as exc:
            stream.seek(0)
            if not self._holds(key, stream):
                raise ObjectExists(key) from exc

    def _holds(self, key: str, stream: BinaryIO) -> bool:
        """Whether the object at key has exactly the stream's bytes.

        An upload retried after a lost response gets 412 although its first attempt stored the
        object; the stored checksum tells that apart from a different object at the key.
        """
        with _unavailable_on_transient():
            stored = self._bucket().get_blob(key, retry=self._retry)
        if stored is None:
            return False
        md5 = hashlib.md5(usedforsecurity=False)
        crc = google_crc32c.Checksum()
        while block := stream.read(READ_CHUNK_BYTES):
            md5.update(block)
            crc.update(block)
        if stored.md5_hash:
            return stored.md5_hash == base64.b64encode(md5.digest()).decode()
        if stored.crc32c:
            return stored.crc32c == base64.b64encode(crc.digest()).decode()
        return False

    def open(self, key: str) -> BinaryIO:
        """Open an object for a streamed read of the version stored now.

        Args:
            key: Storage key.

        Returns:
            A readable file object fetching the object in chunks.

        Raises:
            ObjectMissing: No object at key.
            StorageUnavailable: GCS kept failing until the retry deadline.
        """
        check_key(key)
        with _unavailable_on_transient():
            blob = self._bucket().get_blob(key, retry=self._retry)
        if blob is None:
            raise ObjectMissing(key)
        # Every chunk is asked for with this generation: a replaced object fails the read with
        # 412 instead of mixing two versions.
        reader = blob.open(
            "rb",
            chunk_size=READ_CHUNK_BYTES,
            retry=self._retry,
            if_generation_match=blob.generation,
        )
        return cast(BinaryIO, reader)

    def delete(self, key: str) -> None:
        """Remove an object; no error when it is already gone.

        Args:
            key: Storage key.
        """
        check_key(key)
        try:
            with _unavailable_on_transient():
                self._bucket().delete_blob(key, retry=self._retry)
        except api_exceptions.NotFound:
            pass

    def exists(self, key: str) -> bool:
        """Whether an object is stored at key.

        Args:
            key: Storage key.

        Returns:
            True when the object exists.
        """
        check_key(key)
        with _unavailable_on_transient():
            return self._bucket().blob(key).exists(retry=self._retry)

    def modified(self, key: str) -> datetime | None:
        """When the object was written (UTC); None when there is no object.

        Args:
            key: Storage key.

        Returns:
            The object's creation time.
        """
        check_key(key)
        with _unavailable_on_transient():
            blob = self._bucket().get_blob(key, retry=self._retry)
        return blob.time_created if blob is not None else None

    def size(self, key: str) -> int:
        """Bytes stored at key; 0 when there is no object.

        Args:
            key: Storage key.

        Returns:
            The object's size.
        """
        check_key(key)
        with _unavailable_on_transient():
            blob = self._bucket().get_blob(key, retry=self._retry)
        return int(blob.size or 0) if blob is not None else 0

    def check(self) -> None:
        """Read the bucket's metadata once, without retrying (needs storage.buckets.get).

        Raises:
            google.api_core.exceptions.GoogleAPICallError: The bucket is missing or not allowed.
            StorageUnavailable: GCS could not be reached.
        """
        with _unavailable_on_transient():
            self._bucket().reload(retry=None, timeout=PROBE_TIMEOUT_SECONDS)

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under a folder-like prefix, in key order.

        Args:
            prefix: A key prefix such as `photos` or `photos/{user_id}`; empty for every key.

        Yields:
            Storage keys.
        """
        for blob in self._listed(prefix):
            yield blob.name

    def sizes(self, prefix: str) -> dict[str, int]:
        """Keys under a folder-like prefix with their sizes, from the listing alone.

        Args:
            prefix: A key prefix such as `incoming/{user_id}/{upload_id}`.

        Returns:
            Bytes stored at each key, in key order.
        """
        return {blob.name: int(blob.size or 0) for blob in self._listed(prefix)}

    def _listed(self, prefix: str) -> Iterator[gcs.Blob]:
        folder = f"{prefix.rstrip('/')}/" if prefix else ""
        bucket = self._bucket()
        with _unavailable_on_transient():
            yield from bucket.client.list_blobs(bucket, prefix=folder, retry=self._retry)

    def url_for(self, key: str, *, download_name: str = "") -> str:
        """A V4 signed GET URL, the same one for every call in an expiry window.

        Args:
            key: Storage key.
            download_name: When set, the object downloads as an attachment with this filename.

        Returns:
            The URL; valid for at least the store's TTL.

        Raises:
            UrlUnavailable: The URL cannot be signed (no signing identity, IAM refused); the
                message names what is missing. Not tried again for SIGNING_RETRY_SECONDS.
        """
        check_key(key)
        now = time.time()
        expires_at = media_urls.window_expiry(ttl_seconds=self._ttl, now=now)
        cache_key = (key, download_name, expires_at)
        with self._lock:
            url = self._urls.get(cache_key)
            refused = self._refused
        if url is not None:
            return url
        if refused is not None and now < refused[0]:
            raise UrlUnavailable(refused[1])
        try:
            url = self._sign(key, download_name, expires_in=expires_at - int(now))
        except UrlUnavailable as exc:
            with self._lock:
                self._refused = (now + SIGNING_RETRY_SECONDS, str(exc))
            raise
        with self._lock:
            if expires_at > self._window:
                # A new window: URLs of earlier windows are never handed out again.
                self._window = expires_at
                for stale in [k for k in self._urls if k[2] < expires_at]:
                    del self._urls[stale]
            if len(self._urls) >= _URL_CACHE_LIMIT:
                self._urls.clear()
            self._urls[cache_key] = url
        return url

    def _sign(self, key: str, download_name: str, *, expires_in: int) -> str:
        bucket = self._bucket()
        credentials = self._signing_credentials(bucket.client)
        try:
            iam: dict[str, str] = {}
            if not isinstance(credentials, google.auth.credentials.Signing):
                # Compute credentials (Cloud Run) hold no private key: the signature comes from
                # the IAM signBlob API, called as the service account with its access token.
                iam = self._iam_signer(credentials)
            return bucket.blob(key).generate_signed_url(
                version="v4",
                method="GET",
                expiration=expires_in,
                credentials=credentials,
                # The client's endpoint: storage.googleapis.com, or the emulator a browser can
                # reach.
                api_access_endpoint=bucket.client.api_endpoint,
                response_disposition=(
                    media_urls.content_disposition(download_name) if download_name else None
                ),
                **iam,
            )
        except (google.auth.exceptions.GoogleAuthError, requests.exceptions.RequestException,
                OSError, ValueError) as exc:
            account = getattr(credentials, "service_account_email", None)
            raise UrlUnavailable(_refusal(exc, account)) from exc

    def _signing_credentials(
        self, client: gcs.Client
    ) -> google.auth.credentials.Credentials:
        if self._credentials is not None:
            return self._credentials
        if self._signing_key_file is not None:
            with self._token_lock:
                if self._key_file_credentials is None:
                    try:
                        self._key_file_credentials = (
                            service_account.Credentials.from_service_account_file(
                                str(self._signing_key_file)
                            )
                        )
                    except (OSError, ValueError, google.auth.exceptions.GoogleAuthError) as exc:
                        raise UrlUnavailable(
                            f"GOOGLE_APPLICATION_CREDENTIALS names {self._signing_key_file}, "
                            "which is not a readable service-account key "
                            f"({type(exc).__name__}: {exc})"
                        ) from exc
            return self._key_file_credentials
        return client._credentials

    def _iam_signer(self, credentials: google.auth.credentials.Credentials) -> dict[str, str]:
        if isinstance(credentials, google.auth.credentials.AnonymousCredentials):
            raise UrlUnavailable(
                "signed URLs need a service account, and the storage client has none: set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run as a "
                "service account"
            )
        with self._token_lock:
            email = getattr(credentials, "service_account_email", None)
            if not credentials.valid or not credentials.token or email in (None, "default"):
                credentials.refresh(AuthRequest())
                email = getattr(credentials, "service_account_email", None)
            if not email or email == "default":
                raise UrlUnavailable(
                    "signed URLs need a service account, and the credentials name none: run as "
                    "a service account or set GOOGLE_APPLICATION_CREDENTIALS to its key file"
                )
            return {"service_account_email": email, "access_token": credentials.token}


def _refusal(exc: Exception, account: str | None) -> str:
    """What to tell the operator when signing a URL failed, naming what to grant or enable."""
    text = str(exc)
    if "SERVICE_DISABLED" in text:
        return ("signed URLs need the IAM Service Account Credentials API: enable "
                "iamcredentials.googleapis.com in the project")
    if "PERMISSION_DENIED" in text or re.search(r"\"code\":\s*403", text):
        who = account or "the service account"
        return (f"iam.serviceAccounts.signBlob on {who}: grant {who} "
                "roles/iam.serviceAccountTokenCreator on itself")
    return f"signing a URL failed ({type(exc).__name__}: {text[:_REFUSAL_CHARS]})"


@contextmanager
def _unavailable_on_transient() -> Iterator[None]:
    """Turn what is left of a transient failure after retrying into StorageUnavailable."""
    try:
        yield
    except api_exceptions.RetryError as exc:
        raise StorageUnavailable(f"Cloud Storage is unavailable: {exc}") from exc
    except _TRANSIENT as exc:
        raise StorageUnavailable(f"Cloud Storage is unavailable: {exc}") from exc
