"""ImgStream's command line: `python -m imgstream.cli COMMAND`.

Commands:
    regenerate-renditions: give every photo its thumbnail and preview (photos stored before
        renditions were recorded get them made from their originals). Safe to run any time;
        `make run` runs it after migrating.
    reconcile [--fix]: list objects no photo refers to, photos whose original is missing,
        wrong storage use and photos in the trash for longer than IMGSTREAM_TRASH_DAYS; with
        --fix, repair them and empty that expired trash.
    empty-expired-trash: delete forever the photos in the trash for longer than
        IMGSTREAM_TRASH_DAYS (default 30). Meant to run daily.
"""

from __future__ import annotations

import argparse
import logging
import sys

from imgstream.config import get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import photos
from imgstream.services.reconcile import reconcile
from imgstream.services.uploads import format_bytes


def regenerate_renditions() -> int:
    """Make missing renditions; the exit status is 1 when some photo failed."""
    settings = get_settings()
    with db_session() as session:
        report = photos.regenerate_renditions(
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
    with db_session() as session:
        report = reconcile(session=session, storage=storage(), fix=fix,
                           trash_days=get_settings().trash_days)
    verb = "removed" if fix else "found"
    for key in report.unclaimed_objects:
        print(f"object no photo refers to ({verb}): {key}")
    for photo_id in report.photos_missing_original:
        print(f"photo whose original is missing ({verb}): {photo_id}")
    for key in report.renditions_missing:
        print(f"missing rendition ({'forgotten, to be made again' if fix else 'found'}): {key}")
    for photo_id in report.expired_trash:
        print(f"in the trash for too long ({'deleted forever' if fix else 'found'}): {photo_id}")
    for email, recorded, actual in report.usage_corrections:
        print(f"storage used by {email}: recorded {recorded}, actual {actual}"
              f"{' (corrected)' if fix else ''}")
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
        result = photos.empty_expired_trash(session=session, storage=storage(), days=days)
    print(f"trash: {result.photos} photo(s) in the trash for more than {days} days deleted "
          f"forever, {format_bytes(result.freed_bytes)} freed")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: Arguments (default: the process's).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m imgstream.cli", description=__doc__)
    parser.add_argument("command",
                        choices=["regenerate-renditions", "reconcile", "empty-expired-trash"])
    parser.add_argument("--fix", action="store_true", help="reconcile: repair what it finds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "regenerate-renditions":
        return regenerate_renditions()
    if args.command == "empty-expired-trash":
        return empty_expired_trash()
    return reconcile_storage(fix=args.fix)


if __name__ == "__main__":
    sys.exit(main())
