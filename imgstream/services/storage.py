"""Where photo bytes live: the Storage protocol and the local-disk store."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from imgstream.services import media_urls

log = logging.getLogger(__name__)

_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_REVISION = "(?:-[0-9]{1,9})?"
# Renditions made again after an edit (a rotation) carry the turn and a nonce.
_EDIT = "(?:~r(?:0|90|180|270)-[0-9a-f]{8})?"
# The only keys the app makes: originals, thumbnails and previews, named by owner and photo id
# (and the revision, once a photo was replaced), and the chunks of uploads in progress, named by
# owner, upload id and offset (and the temporary objects chunks are composed into, on GCS).
_KEY = re.compile(
    rf"(?:photos/{_ID}/{_ID}{_REVISION}\.(?:jpg|png|webp|gif|heic|heif|avif)"
    rf"|thumbnails/{_ID}/{_ID}{_REVISION}{_EDIT}_thumb\.webp"
    rf"|previews/{_ID}/{_ID}{_REVISION}{_EDIT}_preview\.(?:jpg|webp)"
    rf"|incoming/{_ID}/{_ID}/[0-9]{{12}}(?:\.compose-[0-9a-f]{{12}}-[0-9]{{1,6}})?)"
)
INCOMING_PREFIX = "incoming/"
MIME_BY_EXTENSION = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
    "avif": "image/avif",
}
"""The content type of each extension a key can end with (a test checks it against imaging's)."""


class ObjectExists(Exception):  # noqa: N818
    """A create-only write found an object already at that key."""


class ObjectMissing(Exception):  # noqa: N818
    """No object at that key."""


class StorageUnavailable(Exception):  # noqa: N818
    """The store could not be reached, even after retrying for a while; try again later."""


class UrlUnavailable(Exception):  # noqa: N818
    """No URL for the browser can be signed now; the photo shows its placeholder instead.

    The message says what is missing, such as the permission to grant.
    """


class Storage(Protocol):
    """Stores photo originals and renditions by key."""

    def put_file(self, key: str, source: Path) -> None:
        """Store a file's bytes at key; create-only (raises ObjectExists)."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes at key; create-only (raises ObjectExists)."""

    def put_joined(self, key: str, parts: list[str], copy: Path) -> None:
        """Store at key the objects at `parts` one after the other, joined where they lie.

        Nothing is sent to the store again. Create-only (raises ObjectExists); the parts stay.
        `copy` is a local file holding the same bytes: it tells a retried write that did
        happen apart from another object at the key.
        """

    def open(self, key: str) -> BinaryIO:
        """Open an object for reading (raises ObjectMissing)."""

    def delete(self, key: str) -> None:
        """Remove an object; no error when it is already gone."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored at key."""

    def size(self, key: str) -> int:
        """Bytes stored at key; 0 when there is no object."""

    def modified(self, key: str) -> datetime | None:
        """When the object was written (UTC); None when there is no object."""

    def check(self) -> None:
        """Raise when the store cannot be used (a cheap probe for /health)."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under a prefix."""

    def sizes(self, prefix: str) -> dict[str, int]:
        """Keys under a prefix with the bytes stored at each, read in one listing."""

    def url_for(self, key: str, *, download_name: str = "") -> str:
        """A short-lived URL the browser can fetch the object from.

        Raises:
            UrlUnavailable: The URL cannot be signed now.
        """


def check_key(key: str) -> str:
    """Refuse any key that is not one the app itself generates.

    Args:
        key: A storage key.

    Returns:
        The key.

    Raises:
        ObjectMissing: For anything else (such as a path with `..`).
    """
    if not _KEY.fullmatch(key):
        raise ObjectMissing(key)
    return key


def content_type_for(key: str) -> str:
    """The media type of an object, from its key's extension (keys come from sniffed formats).

    Args:
        key: A storage key.

    Returns:
        A MIME type; `application/octet-stream` for an extension the app does not make.
    """
    return MIME_BY_EXTENSION.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def delete_quietly(storage: Storage, keys: list[str]) -> None:
    """Remove objects after a failed write, logging instead of raising.

    What cannot be removed now is left to the reconcile pass.

    Args:
        storage: The store.
        keys: Keys of the objects to remove.
    """
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # the reconcile pass removes what could not be removed now
            log.exception("could not remove %s after a failed write", key)


class LocalStorage:
    """Photo bytes on local disk, served by the app's signed /media route."""

    def __init__(self, root: Path, *, secret: bytes, url_ttl_seconds: int, base_url: str = ""):
        """Create a store rooted at a directory.

        Args:
            root: Directory holding the objects.
            secret: Signs the media URLs.
            url_ttl_seconds: Minimum lifetime of a media URL.
            base_url: Origin of the backend that serves /media (empty for same origin).
        """
        self.root = root.resolve()
        self._secret = secret
        self._ttl = url_ttl_seconds
        self._base_url = base_url.rstrip("/")

    def path_of(self, key: str) -> Path:
        """The file an object lives in."""
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path) -> None:
        """Copy a file into the store, create-only and durable before it becomes visible."""
        with source.open("rb") as src:
            self._write(key, lambda dst: shutil.copyfileobj(src, dst, 1024 * 1024))

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write bytes into the store, create-only."""
        self._write(key, lambda dst: dst.write(data))

    def put_joined(self, key: str, parts: list[str], copy: Path) -> None:
        """Append the parts' files to one new file at key, create-only.

        Args:
            key: Storage key of the new object.
            parts: Keys of the objects whose bytes it holds, in order.
            copy: Unused here (a write is never retried).

        Raises:
            ObjectExists: An object is already stored at key.
            ObjectMissing: A part is missing.
        """
        sources = [self.path_of(part) for part in parts]

        def fill(dst: BinaryIO) -> None:
            for source in sources:
                try:
                    with source.open("rb") as src:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                except FileNotFoundError as exc:
                    raise ObjectMissing(source.name) from exc

        self._write(key, fill)

    def _write(self, key: str, fill) -> None:  # noqa: ANN001
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Unique per writer: two requests may write the same chunk at once.
        partial = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            try:
                handle = partial.open("wb")
            except FileNotFoundError:
                # An upload's chunk folder was removed with its last chunk just now.
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = partial.open("wb")
            with handle as dst:
                fill(dst)
                dst.flush()
                os.fsync(dst.fileno())
            try:
                # link() fails if the target exists: a create-only publish.
                os.link(partial, target)
            except FileExistsError as exc:
                raise ObjectExists(key) from exc
        finally:
            partial.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        """Open an object for reading."""
        try:
            return self.path_of(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def delete(self, key: str) -> None:
        """Remove an object if present."""
        path = self.path_of(key)
        path.unlink(missing_ok=True)
        if key.startswith(INCOMING_PREFIX):
            # Every upload has a folder of chunks; without this they would pile up empty.
            try:
                path.parent.rmdir()
            except OSError:
                pass

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        return self.path_of(key).is_file()

    def size(self, key: str) -> int:
        """Bytes stored at key; 0 when there is no object."""
        try:
            return self.path_of(key).stat().st_size
        except FileNotFoundError:
            return 0

    def modified(self, key: str) -> datetime | None:
        """When the object was written (UTC); None when there is no object."""
        try:
            return datetime.fromtimestamp(self.path_of(key).stat().st_mtime, UTC)
        except FileNotFoundError:
            return None

    def check(self) -> None:
        """Raise OSError when the store's folder cannot be written."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under a prefix, skipping partial writes."""
        base = self.root / prefix
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def sizes(self, prefix: str) -> dict[str, int]:
        """Keys under a prefix with the bytes stored at each (skipping partial writes)."""
        found = {}
        for key in self.list(prefix):
            with contextlib.suppress(FileNotFoundError):  # removed since it was listed
                found[key] = self.path_of(key).stat().st_size
        return found

    def url_for(self, key: str, *, download_name: str = "") -> str:
        """A signed, expiring URL of the app's /media route."""
        check_key(key)
        path = media_urls.sign(
            secret=self._secret, key=key, ttl_seconds=self._ttl, download_name=download_name
        )
        return f"{self._base_url}{path}"
