"""ImgStream's command line: `python -m imgstream.cli COMMAND`.

Commands:
    regenerate-renditions: give every photo its thumbnail and preview (photos stored before
        renditions were recorded get them made from their originals). Safe to run any time;
        `make run` runs it after migrating.
    reconcile [--fix]: list objects no photo refers to, photos whose original is missing,
        wrong storage use, photos in the trash for longer than IMGSTREAM_TRASH_DAYS, abandoned
        uploads, chunks without an upload and left-over spool files; with --fix, repair them and
        empty that expired trash.
    empty-expired-trash: delete forever the photos in the trash for longer than
        IMGSTREAM_TRASH_DAYS (default 30). Meant to run daily.
    upload --user EMAIL [--on-collision CHOICE] PATH...: add photo files (folders are searched)
        to someone's library, one line per file with what became of it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from imgstream import models
from imgstream.config import get_settings
from imgstream.presentation import format_bytes
from imgstream.runtime import db_session, storage
from imgstream.services import identity, ingest, renditions, trash
from imgstream.services.reconcile import describe, reconcile
from imgstream.services.spooling import FileTooLarge, IncomingFile

READ_BLOCK_BYTES = 1024 * 1024


def regenerate_renditions() -> int:
    """Make missing renditions; the exit status is 1 when some photo failed."""
    settings = get_settings()
    with db_session() as session:
        report = renditions.regenerate_renditions(
            session=session,
            storage=storage(),
            spool_dir=settings.incoming_dir,
            thumbnail_size=settings.thumbnail_size,
            preview_size=settings.preview_size,
            max_pixels=settings.max_image_pixels,
        )
    print(
        f"renditions: {report.photos} photo(s) needed them, {report.written} image(s) written, "
        f"{report.failed} failed"
    )
    return 1 if report.failed else 0


def reconcile_storage(*, fix: bool) -> int:
    """Report (and with fix, repair) what the database and storage disagree on."""
    settings = get_settings()
    with db_session() as session:
        report = reconcile(
            session=session, storage=storage(), fix=fix, spool_dir=settings.incoming_dir,
            upload_expiry=timedelta(hours=settings.upload_expiry_hours),
            trash_days=settings.trash_days,
        )
    for line in describe(report):
        print(line)
    if report.clean:
        print("reconcile: database and storage agree")
        return 0
    if not fix:
        print("reconcile: run with --fix to repair")
        return 1
    return 0


def empty_expired_trash() -> int:
    """Delete forever the photos that have been in the trash longer than the setting allows."""
    days = get_settings().trash_days
    with db_session() as session:
        result = trash.empty_expired_trash(session=session, storage=storage(), days=days)
    print(f"trash: {result.photos} photo(s) in the trash for more than {days} days deleted "
          f"forever, {format_bytes(result.freed_bytes)} freed")
    return 0


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            yield path


def _read(path: Path, spool_dir: Path, max_bytes: int) -> tuple[IncomingFile, str]:
    incoming = IncomingFile(filename=path.name, spool_dir=spool_dir, max_bytes=max_bytes)
    try:
        with path.open("rb") as source:
            while block := source.read(READ_BLOCK_BYTES):
                incoming.write(block)
        return incoming, incoming.finish()
    except BaseException:
        incoming.discard()
        raise


def upload_files(*, email: str, paths: list[Path], on_collision: models.CollisionChoice) -> int:
    """Ingest local files into a user's library, printing one line per file.

    Args:
        email: Whose library.
        paths: Files, or folders whose files (not hidden ones) are added.
        on_collision: What to do with a file whose name a photo of the library has.

    Returns:
        The exit status: 0 when every file was stored or already there, 1 when some were
        refused or failed, 2 when there is no such user.
    """
    settings = get_settings()
    status = 0
    with db_session() as session:
        owner = identity.find_user(session=session, email=email)
        if owner is None:
            print(f"no user with the email {email} (they sign in once first)", file=sys.stderr)
            return 2
        for path in _files(paths):
            try:
                incoming, sha256 = _read(path, settings.incoming_dir, settings.max_upload_bytes)
            except FileTooLarge as exc:
                print(f"{path}: rejected: {exc}")
                status = 1
                continue
            except OSError as exc:
                print(f"{path}: failed: {exc.strerror or exc}")
                status = 1
                continue
            session.refresh(owner)
            try:
                result = ingest.ingest(
                    session=session,
                    storage=storage(),
                    owner=owner,
                    upload=incoming,
                    sha256=sha256,
                    thumbnail_size=settings.thumbnail_size,
                    preview_size=settings.preview_size,
                    max_pixels=settings.max_image_pixels,
                    on_collision=on_collision,
                )
            except Exception as exc:  # noqa: BLE001 - one file failing does not stop the rest
                logging.getLogger(__name__).debug("ingest of %s failed", path, exc_info=True)
                print(f"{path}: failed: {exc}")
                status = 1
                continue
            print(f"{path}: {_outcome_line(result)}")
            if result.status is ingest.IngestStatus.REJECTED:
                status = 1
    return status


def _outcome_line(result: ingest.IngestResult) -> str:
    # These messages already say what happened ("added", "skipped: ...", "replaced ...").
    if result.status in _SELF_DESCRIBING:
        return result.message
    return f"{result.status.value}: {result.message}"


_SELF_DESCRIBING = frozenset({ingest.IngestStatus.ADDED, ingest.IngestStatus.SKIPPED,
                              ingest.IngestStatus.KEPT_BOTH, ingest.IngestStatus.REPLACED})


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: Arguments (default: the process's).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m imgstream.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("regenerate-renditions", help="make missing thumbnails and previews")
    reconcile_command = commands.add_parser(
        "reconcile", help="compare the database with storage")
    reconcile_command.add_argument("--fix", action="store_true", help="repair what it finds")
    commands.add_parser("empty-expired-trash",
                        help="delete forever what has been in the trash too long")
    upload = commands.add_parser("upload", help="add photo files to someone's library")
    upload.add_argument("--user", required=True, metavar="EMAIL", help="whose library")
    upload.add_argument(
        "--on-collision",
        choices=[c.value for c in models.CollisionChoice if c is not models.CollisionChoice.ASK],
        default=models.CollisionChoice.KEEP_BOTH.value,
        help="when the library has a photo of the same name (default: keep_both)",
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "regenerate-renditions":
        return regenerate_renditions()
    if args.command == "empty-expired-trash":
        return empty_expired_trash()
    if args.command == "upload":
        return upload_files(email=args.user, paths=args.paths,
                            on_collision=models.CollisionChoice(args.on_collision))
    return reconcile_storage(fix=args.fix)


if __name__ == "__main__":
    sys.exit(main())
