"""Receiving upload bytes: spool to a temp file, hash on the way, enforce the size limit."""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path

MAX_FILENAME_BYTES = 200
_BIDI_AND_INVISIBLE = {
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff",
}


class FileTooLarge(Exception):  # noqa: N818
    """The upload passed the size limit while it was being read."""

    def __init__(self, limit: int):
        """Record the limit that was passed."""
        super().__init__(f"larger than the {format_bytes(limit)} limit")
        self.limit = limit


def format_bytes(size: int) -> str:
    """A size for people, in decimal units (100 MB means 100,000,000 bytes)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return "1 byte" if size == 1 else f"{size} bytes"
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1000
    raise AssertionError("unreachable")


def display_name(raw: str) -> str:
    """The filename to show and to compare for collisions.

    A basename without control characters, bidi overrides or zero-width marks, at most 200
    UTF-8 bytes, with its extension kept.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        ch for ch in name
        if ch not in _BIDI_AND_INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()
    if not name or name in (".", ".."):
        return "photo"
    if len(name.encode()) > MAX_FILENAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext) > 10:
            stem, dot, ext = name, "", ""
        budget = MAX_FILENAME_BYTES - len((dot + ext).encode())
        stem = stem.encode()[:budget].decode("utf-8", "ignore")
        name = stem + dot + ext
    return name


def collision_key(name: str) -> str:
    """What two filenames are compared by: NFC, case-folded, `.jpeg` counted as `.jpg`."""
    key = unicodedata.normalize("NFC", name).casefold()
    stem, dot, ext = key.rpartition(".")
    if dot and ext in ("jpeg", "jpe"):
        return f"{stem}.jpg"
    return key


def numbered_name(name: str, number: int) -> str:
    """`name (number).ext`, the name a kept-both photo gets."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{ext}"


class IncomingFile:
    """One uploaded file being received into a temporary file.

    Bytes are written as they arrive, hashed on the way, and refused as soon as they pass the
    limit; memory use does not depend on the file size. The temporary file is removed by
    `discard()` (idempotent) unless the caller has taken it over.
    """

    def __init__(self, *, filename: str, spool_dir: Path, max_bytes: int):
        """Open a temporary file for an upload.

        Args:
            filename: The name the browser gave the file.
            spool_dir: Where temporary files go (same disk as the local store).
            max_bytes: The size limit.
        """
        spool_dir.mkdir(parents=True, exist_ok=True)
        self.filename = display_name(filename)
        self.max_bytes = max_bytes
        self.size = 0
        self.too_large = False
        self._sha256 = hashlib.sha256()
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=spool_dir)
        self.path = Path(name)
        self._fh = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        """Append the next chunk.

        Raises:
            FileTooLarge: When the file has passed the limit; the bytes so far are dropped.
        """
        if self.too_large:
            raise FileTooLarge(self.max_bytes)
        if self.size + len(data) > self.max_bytes:
            self.too_large = True
            self.discard()
            raise FileTooLarge(self.max_bytes)
        self._fh.write(data)
        self._sha256.update(data)
        self.size += len(data)

    def finish(self) -> str:
        """Close the file after the last chunk.

        Returns:
            The sha256 of the bytes, hex.
        """
        self._fh.close()
        return self._sha256.hexdigest()

    def discard(self) -> None:
        """Remove the temporary file."""
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)
