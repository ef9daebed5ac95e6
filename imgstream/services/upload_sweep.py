"""Expiring uploads nobody finished: their rows, their chunks, and spool files left by a crash.

The app runs `sweep_on_schedule` for as long as it serves, so an abandoned upload gives its
reservation back to the quota without anyone running `reconcile`; `reconcile` runs the same sweep.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from imgstream.models import Upload, utcnow
from imgstream.services import upload_receiving
from imgstream.services.storage import INCOMING_PREFIX, Storage, delete_quietly

log = logging.getLogger(__name__)

UPLOAD_EXPIRY = timedelta(hours=24)
# Chunk objects without an upload row younger than this may belong to a request still running.
ORPHAN_GRACE = timedelta(minutes=15)
# Spool files are written to continuously while a request runs; one untouched this long was left
# by a process that was killed.
SPOOL_GRACE = timedelta(hours=1)


@dataclass
class SweepReport:
    """Uploads nobody finished, chunks without an upload, and spool files left by a crash."""

    stale_uploads: list[uuid.UUID] = field(default_factory=list)
    orphan_chunks: list[str] = field(default_factory=list)
    stale_spool_files: list[Path] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing needed removing."""
        return not (self.stale_uploads or self.orphan_chunks or self.stale_spool_files)


def sweep(
    *,
    session: Session,
    storage: Storage,
    spool_dir: Path | None,
    fix: bool,
    now: datetime | None = None,
    expiry: timedelta = UPLOAD_EXPIRY,
    grace: timedelta = ORPHAN_GRACE,
    spool_grace: timedelta = SPOOL_GRACE,
) -> SweepReport:
    """Find (and with `fix`, remove) what unfinished uploads left behind.

    Args:
        session: Database session.
        storage: Where chunks are.
        spool_dir: Where temporary upload files go; None to leave them alone.
        fix: Remove, rather than only report.
        now: The current time (for tests).
        expiry: Uploads not updated for this long are abandoned.
        grace: Chunk objects without an upload younger than this are left alone.
        spool_grace: Temporary files not written for this long are left over.

    Returns:
        The report.
    """
    report = SweepReport()
    moment = now or utcnow()
    stale = session.exec(select(Upload).where(Upload.updated_at < moment - expiry)).all()
    for upload in stale:
        report.stale_uploads.append(upload.id)
        if fix:
            upload_receiving.cancel_upload(session=session, storage=storage,
                                          owner_id=upload.owner_id, upload_id=upload.id)
    live = {upload_id: owner_id for upload_id, owner_id in
            session.exec(select(Upload.id, Upload.owner_id)).all()}
    session.rollback()
    for key in list(storage.list(INCOMING_PREFIX.rstrip("/"))):
        chunk_of = upload_receiving.parse_chunk_key(key)
        if chunk_of is None:
            continue
        owner_id, upload_id = chunk_of
        if live.get(upload_id) == owner_id:
            continue
        written = storage.modified(key)
        if written is not None and moment - written < grace:
            continue
        report.orphan_chunks.append(key)
        if fix:
            delete_quietly(storage, [key])
    if spool_dir is not None and spool_dir.is_dir():
        for path in sorted(spool_dir.iterdir()):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            written = datetime.fromtimestamp(stat.st_mtime, UTC)
            if not path.is_file() or moment - written < spool_grace:
                continue
            report.stale_spool_files.append(path)
            if fix:
                path.unlink(missing_ok=True)
    return report


async def sweep_on_schedule(
    *,
    sessions: Callable[[], AbstractContextManager[Session]],
    storage: Callable[[], Storage],
    spool_dir: Path | None,
    every: timedelta,
    expiry: timedelta = UPLOAD_EXPIRY,
) -> None:
    """Sweep with `fix` every `every`, until cancelled (when the app stops).

    A failing sweep (the database or the store unreachable) is logged and tried again next
    time. Several instances may sweep at once: each removal happens once.

    Args:
        sessions: Opens a database session.
        storage: The store (called for each sweep, so it is built once the app runs).
        spool_dir: Where uploads are spooled; None to leave spool files alone.
        every: Time between sweeps.
        expiry: Uploads not updated for this long are abandoned.
    """
    while True:
        await asyncio.sleep(every.total_seconds())

        def run() -> SweepReport:
            with sessions() as session:
                return sweep(session=session, storage=storage(), spool_dir=spool_dir, fix=True,
                             expiry=expiry)

        try:
            report = await asyncio.to_thread(run)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("sweeping expired uploads failed; trying again in %s", every)
            continue
        if not report.clean:
            log.info("expired %d uploads, removed %d left-over chunks and %d spool files",
                     len(report.stale_uploads), len(report.orphan_chunks),
                     len(report.stale_spool_files))
