"""`imgstream admin ...`: maintenance on the machine that holds the library's database and storage.

These commands read the app's settings (IMGSTREAM_*), open its database and photo store directly
and call the same services as the app; they do not go through a running app.

Commands:
    migrate: bring the database schema up to date (`reflex db migrate`).
    regenerate-renditions: give every photo its thumbnail and preview (photos stored before
        renditions were recorded get them made from their originals). Safe to run any time;
        `make run` runs it after migrating.
    reconcile [--fix]: list objects no photo refers to, photos whose original is missing,
        wrong storage use, photos in the trash for longer than IMGSTREAM_TRASH_DAYS, abandoned
        uploads, chunks without an upload and left-over spool files; with --fix, repair them and
        empty that expired trash.
    empty-expired-trash: delete forever the photos in the trash for longer than
        IMGSTREAM_TRASH_DAYS (default 30). Meant to run daily.
    keys create|list|revoke --user EMAIL: someone's API keys (the secret is shown once).
    import --user EMAIL [--on-collision CHOICE] PATH...: add photo files (folders are searched)
        to someone's library straight into storage, one line per file with what became of it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import click

from imgstream import models
from imgstream.cli.admin_keys import keys_group
from imgstream.config import get_settings
from imgstream.presentation import format_bytes
from imgstream.runtime import db_session, storage
from imgstream.services import identity, imaging, ingest, renditions, trash
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


def _project_root() -> Path:
    """The folder with rxconfig.py, where `reflex db migrate` runs."""
    for folder in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (folder / "rxconfig.py").is_file():
            return folder
    raise click.ClickException("no rxconfig.py here or beside the imgstream package")


@click.group(name="admin")
def admin_group() -> None:
    """Maintenance on the machine that holds the library (database and storage)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    imaging.configure(max_pixels=get_settings().max_image_pixels)


admin_group.add_command(keys_group)


@admin_group.command(name="migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    done = subprocess.run([sys.executable, "-m", "reflex", "db", "migrate"],
                          cwd=_project_root(), check=False)
    sys.exit(done.returncode)


@admin_group.command(name="regenerate-renditions")
def regenerate_renditions_command() -> None:
    """Make missing thumbnails and previews."""
    sys.exit(regenerate_renditions())


@admin_group.command(name="reconcile")
@click.option("--fix", is_flag=True, help="Repair what it finds.")
def reconcile_command(fix: bool) -> None:
    """Compare the database with storage."""
    sys.exit(reconcile_storage(fix=fix))


@admin_group.command(name="empty-expired-trash")
def empty_expired_trash_command() -> None:
    """Delete forever what has been in the trash too long."""
    sys.exit(empty_expired_trash())


@admin_group.command(name="import")
@click.option("--user", "email", required=True, metavar="EMAIL", help="Whose library.")
@click.option(
    "--on-collision",
    type=click.Choice([c.value for c in models.CollisionChoice
                       if c is not models.CollisionChoice.ASK]),
    default=models.CollisionChoice.KEEP_BOTH.value, show_default=True,
    help="When the library has a photo of the same name.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_command(email: str, on_collision: str, paths: tuple[Path, ...]) -> None:
    """Add photo files (folders are searched) to someone's library, straight into storage."""
    sys.exit(upload_files(email=email, paths=list(paths),
                          on_collision=models.CollisionChoice(on_collision)))
