"""ImgStream's command line: `python -m imgstream.cli COMMAND`.

Commands:
    regenerate-renditions: give every photo its thumbnail and preview (photos stored before
        renditions were recorded get them made from their originals). Safe to run any time;
        `make run` runs it after migrating.
    reconcile [--fix]: list objects no photo refers to, photos whose original is missing,
        unfinished deletes, wrong storage use, abandoned uploads, chunks without an upload and
        left-over spool files; with --fix, repair them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta

from imgstream.config import get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import photos
from imgstream.services.reconcile import reconcile


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
    settings = get_settings()
    with db_session() as session:
        report = reconcile(
            session=session, storage=storage(), fix=fix, spool_dir=settings.incoming_dir,
            upload_expiry=timedelta(hours=settings.upload_expiry_hours),
        )
    verb = "removed" if fix else "found"
    for key in report.unclaimed_objects:
        print(f"object no photo refers to ({verb}): {key}")
    for photo_id in report.photos_missing_original:
        print(f"photo whose original is missing ({verb}): {photo_id}")
    for key in report.renditions_missing:
        print(f"missing rendition ({'forgotten, to be made again' if fix else 'found'}): {key}")
    for photo_id in report.unfinished_deletes:
        print(f"unfinished delete ({'finished' if fix else 'found'}): {photo_id}")
    for email, recorded, actual in report.usage_corrections:
        print(f"storage used by {email}: recorded {recorded}, actual {actual}"
              f"{' (corrected)' if fix else ''}")
    for upload_id in report.uploads.stale_uploads:
        print(f"abandoned upload ({verb}): {upload_id}")
    for key in report.uploads.orphan_chunks:
        print(f"chunk of no upload ({verb}): {key}")
    for path in report.uploads.stale_spool_files:
        print(f"left-over spool file ({verb}): {path}")
    if report.clean:
        print("reconcile: database and storage agree")
        return 0
    if not fix:
        print("reconcile: run with --fix to repair")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: Arguments (default: the process's).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m imgstream.cli", description=__doc__)
    parser.add_argument("command", choices=["regenerate-renditions", "reconcile"])
    parser.add_argument("--fix", action="store_true", help="reconcile: repair what it finds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "regenerate-renditions":
        return regenerate_renditions()
    return reconcile_storage(fix=args.fix)


if __name__ == "__main__":
    sys.exit(main())
