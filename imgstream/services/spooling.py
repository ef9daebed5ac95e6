"""Spooling received bytes: to a temporary file, hashed on the way, within the size limit."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from imgstream.presentation import format_bytes
from imgstream.services.filenames import display_name


class FileTooLarge(Exception):  # noqa: N818
    """The upload passed the size limit while it was being read."""

    def __init__(self, limit: int):
        """Record the limit that was passed."""
        super().__init__(f"larger than the {format_bytes(limit)} limit")
        self.limit = limit


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

