"""ImgStream's command line: `python -m imgstream.cli COMMAND`.

Commands:
    regenerate-renditions: give every photo its thumbnail and preview (photos stored before
        renditions were recorded get them made from their originals). Safe to run any time;
        `make run` runs it after migrating.
"""

from __future__ import annotations

import argparse
import logging
import sys

from imgstream.config import get_settings
from imgstream.runtime import db_session, storage
from imgstream.services import photos


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


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: Arguments (default: the process's).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m imgstream.cli", description=__doc__)
    parser.add_argument("command", choices=["regenerate-renditions"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "regenerate-renditions":
        return regenerate_renditions()
    return 2


if __name__ == "__main__":
    sys.exit(main())
