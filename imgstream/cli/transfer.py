"""Sending local photo files through the chunked upload API, resumable across runs.

A run remembers, per server, each file's upload id and outcome in a journal in the user's state
folder. When a run is interrupted (Ctrl-C, a lost connection, a closed laptop), the next run
over the same files continues each unfinished upload at the byte the server holds and does not
send again what already arrived. A run that ends with every file settled clears its entries.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from imgstream.cli import credentials
from imgstream.cli.client import ApiError, checked, describe, with_retries
from imgstream.services.imaging.formats import sniff_format

UPLOADS = "/api/v1/uploads"
SNIFF_BYTES = 64
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
PROCESSING_WAIT_SECONDS = 300.0


class Outcome(StrEnum):
    """What became of one local file."""

    ADDED = "added"
    REPLACED = "replaced"
    KEPT_BOTH = "kept_both"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    FAILED = "failed"
    NEEDS_DECISION = "needs_decision"
    """The library has a photo of that name and nobody chose what to do yet."""

    @property
    def settled(self) -> bool:
        """Whether nothing is left to do for the file."""
        return self not in (Outcome.FAILED, Outcome.NEEDS_DECISION)

    @property
    def succeeded(self) -> bool:
        """Whether the run counts the file as done well."""
        return self not in (Outcome.REJECTED, Outcome.FAILED, Outcome.NEEDS_DECISION)


FINAL_STATUSES = frozenset(o.value for o in Outcome) - {Outcome.FAILED, Outcome.NEEDS_DECISION}


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file to upload."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A file found in a folder that is not sent, and why."""

    path: Path
    reason: str


@dataclass(slots=True)
class Result:
    """What became of one file in this run."""

    path: Path
    outcome: Outcome
    message: str
    photo_id: str | None = None
    upload_id: str | None = None
    resumed: bool = False
    sent_bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        """The result as `--json` prints it."""
        return {"path": str(self.path), "status": self.outcome.value, "message": self.message,
                "photo_id": self.photo_id, "upload_id": self.upload_id, "resumed": self.resumed,
                "sent_bytes": self.sent_bytes}


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _sniffed(path: Path) -> bool:
    try:
        with path.open("rb") as source:
            return sniff_format(source.read(SNIFF_BYTES)) is not None
    except OSError:
        return False


def find_files(paths: Iterable[Path], *, recursive: bool) -> tuple[list[LocalFile], list[LeftOut]]:
    """The photo files named or found in folders, in a stable order.

    Files named on the command line are always sent (the server says what is wrong with one).
    In folders, hidden files and folders are left out, and so is anything whose first bytes
    are not an image ImgStream accepts; without `recursive` only a folder's own files count.

    Args:
        paths: Files and folders.
        recursive: Whether to look into sub-folders.

    Returns:
        The files to send and the files left out.
    """
    found: list[LocalFile] = []
    left_out: list[LeftOut] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        resolved = path.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        try:
            info = resolved.stat()
        except OSError as exc:
            left_out.append(LeftOut(path, exc.strerror or str(exc)))
            return
        found.append(LocalFile(resolved, info.st_size, info.st_mtime_ns))

    for path in paths:
        if not path.is_dir():
            if not path.exists():
                left_out.append(LeftOut(path, "no such file"))
            else:
                add(path)
            continue
        children = path.rglob("*") if recursive else path.iterdir()
        for child in sorted(children):
            if not child.is_file() or _is_hidden(child, path):
                continue
            if _sniffed(child):
                add(child)
            else:
                left_out.append(LeftOut(child, "not a photo ImgStream accepts"))
    return found, left_out


class Journal:
    """The uploads of earlier runs against one server, kept in the user's state folder."""

    def __init__(self, server: str, path: Path | None = None):
        self.server = server.rstrip("/")
        self.path = path or credentials.state_dir() / "uploads.json"
        try:
            everything = json.loads(self.path.read_text())
        except (OSError, ValueError):
            everything = {}
        self._all: dict[str, dict[str, dict[str, Any]]] = (
            everything if isinstance(everything, dict) else {})
        self.entries = self._all.setdefault(self.server, {})

    def entry(self, file: LocalFile) -> dict[str, Any] | None:
        """What an earlier run recorded for this very file (same size and change time)."""
        entry = self.entries.get(str(file.path))
        if entry and entry.get("size") == file.size and entry.get("mtime_ns") == file.mtime_ns:
            return entry
        return None

    def record(self, file: LocalFile, **values: Any) -> None:
        """Remember something about a file's upload."""
        entry = self.entry(file) or {"size": file.size, "mtime_ns": file.mtime_ns}
        entry.update(values)
        self.entries[str(file.path)] = entry
        self._save()

    def forget(self, files: Iterable[LocalFile]) -> None:
        """Drop the entries of files whose run ended."""
        for file in files:
            self.entries.pop(str(file.path), None)
        self._save()

    def _save(self) -> None:
        if not self.entries:
            self._all.pop(self.server, None)
        else:
            self._all[self.server] = self.entries
        credentials.write_private(self.path, json.dumps(self._all, indent=1))


@dataclass
class Transfer:
    """Sends files through one connection, recording each step in the journal."""

    client: httpx.AsyncClient
    journal: Journal
    on_collision: str | None = None
    """`skip`, `replace`, `keep_both`, `ask`, or None for the person's default setting."""
    on_bytes: Callable[[LocalFile, int], None] = field(default=lambda _file, _n: None)

    async def send(self, file: LocalFile) -> Result:
        """Upload one file (or continue its earlier upload) and complete it.

        Args:
            file: The file.

        Returns:
            What became of it; a failure is a result too, never an exception.
        """
        earlier = self.journal.entry(file)
        try:
            if earlier and earlier.get("status") in FINAL_STATUSES:
                self.on_bytes(file, file.size)
                return Result(file.path, Outcome(earlier["status"]), earlier.get("message", ""),
                              earlier.get("photo_id"), earlier.get("upload_id"), resumed=True)
            return await self._send(file, earlier)
        except ApiError as exc:
            return Result(file.path, Outcome.FAILED, str(exc),
                          upload_id=(self.journal.entry(file) or {}).get("upload_id"))

    async def _send(self, file: LocalFile, earlier: dict[str, Any] | None) -> Result:
        upload: dict[str, Any] | None = None
        resumed = False
        if earlier and earlier.get("upload_id"):
            answer = await with_retries(
                lambda: self.client.get(f"{UPLOADS}/{earlier['upload_id']}"))
            if answer.status_code != 404:
                upload = await self._settled(checked(answer).json())
                upload["chunk_bytes"] = earlier.get("chunk_bytes", DEFAULT_CHUNK_BYTES)
                resumed = True
        if upload is None:
            answer = await with_retries(lambda: self.client.post(
                UPLOADS, json={"filename": file.path.name, "size": file.size}))
            if answer.status_code in (400, 413):
                message = describe(answer)
                self.journal.record(file, status=Outcome.REJECTED.value, message=message)
                return Result(file.path, Outcome.REJECTED, message)
            upload = checked(answer).json()
            self.journal.record(file, upload_id=upload["id"], chunk_bytes=upload["chunk_bytes"],
                                status=None)
        upload_id = upload["id"]
        sent = 0
        if upload["status"] == "uploading":
            self.on_bytes(file, upload["received"])
            sent = await self._send_bytes(file, upload_id, upload["received"],
                                          upload["chunk_bytes"])
            upload = await self._complete(file, upload_id, upload["chunk_bytes"], self.on_collision)
        elif upload["status"] == "needs_decision":
            self.on_bytes(file, file.size)
            if self.on_collision not in (None, "ask"):
                upload = await self._complete(file, upload_id, upload["chunk_bytes"],
                                              self.on_collision)
        else:
            self.on_bytes(file, file.size)
        result = self._result(file, upload, resumed=resumed)
        result.sent_bytes = sent
        return result

    async def _settled(self, upload: dict[str, Any]) -> dict[str, Any]:
        """The upload once the server is no longer completing it (an earlier run asked)."""
        waited, path = 0.0, f"{UPLOADS}/{upload['id']}"
        while upload["status"] == "processing" and waited < PROCESSING_WAIT_SECONDS:
            await asyncio.sleep(0.5)
            waited += 0.5
            upload = checked(await with_retries(lambda: self.client.get(path))).json()
        return upload

    async def decide(self, file: LocalFile, upload_id: str, choice: str) -> Result:
        """Complete an upload that waits for a decision with the person's choice."""
        try:
            upload = await self._complete(file, upload_id, DEFAULT_CHUNK_BYTES, choice)
        except ApiError as exc:
            return Result(file.path, Outcome.FAILED, str(exc), upload_id=upload_id)
        return self._result(file, upload, resumed=False)

    def _result(self, file: LocalFile, upload: dict[str, Any], *, resumed: bool) -> Result:
        status = upload["status"]
        outcome = Outcome(status) if status in Outcome.__members__.values() else Outcome.FAILED
        message = upload.get("message") or status
        if outcome is Outcome.NEEDS_DECISION:
            message = upload.get("message") or "the library has a photo of this name"
        self.journal.record(file, upload_id=upload["id"],
                            status=outcome.value if outcome.settled else None,
                            message=message, photo_id=upload.get("photo_id"))
        return Result(file.path, outcome, message, upload.get("photo_id"), upload["id"],
                      resumed=resumed)

    async def _send_bytes(self, file: LocalFile, upload_id: str, offset: int,
                          chunk_bytes: int) -> int:
        sent = 0
        with file.path.open("rb") as source:
            while offset < file.size:
                source.seek(offset)
                chunk = source.read(min(chunk_bytes, file.size - offset))
                if not chunk:
                    raise ApiError(f"{file.path} became shorter while it was being sent")
                answer = await with_retries(lambda chunk=chunk, at=offset: self.client.put(
                    f"{UPLOADS}/{upload_id}/chunks", params={"offset": at}, content=chunk,
                    headers={"Content-Type": "application/octet-stream"}))
                if answer.status_code == 409 and "received" in _json(answer):
                    received = int(_json(answer)["received"])
                else:
                    received = int(checked(answer).json()["received"])
                    sent += len(chunk)
                self.on_bytes(file, received - offset)
                offset = received
        return sent

    async def _complete(self, file: LocalFile, upload_id: str, chunk_bytes: int,
                        choice: str | None) -> dict[str, Any]:
        body = {"on_collision": choice} if choice else {}
        for _ in range(3):
            answer = await with_retries(lambda: self.client.post(
                f"{UPLOADS}/{upload_id}/complete", json=body))
            if answer.status_code == 409 and "received" in _json(answer):
                # Some bytes never arrived (a lost chunk): send from there and complete again.
                await self._send_bytes(file, upload_id, int(_json(answer)["received"]),
                                       chunk_bytes)
                continue
            return checked(answer).json()
        raise ApiError("the server kept missing bytes of this file")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
