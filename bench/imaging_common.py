"""What the imaging bench's figures share: the sizes asked of the pipeline, the clock, and how
contenders are timed against each other on one core."""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")

from imgstream.services import imaging  # noqa: E402

THUMBNAIL = 400
PREVIEW = 1440
MAX_PIXELS = 100_000_000

CLOCK = time.process_time
"""What the per-format, stage and library figures count: the CPU time of this process, all its
threads (libvips' workers too), so that what other processes on the machine do does not count.
Everything is pinned to one core, so CPU time is the time one core spends."""


def ours(path: Path) -> float:
    start = CLOCK()
    imaging.analyse(path, thumbnail_size=THUMBNAIL, preview_size=PREVIEW, max_pixels=MAX_PIXELS)
    return CLOCK() - start


def interleaved(contenders: dict[str, Callable[[Path], float]], paths: list[Path],
                runs: int) -> dict[str, list[float]]:
    """Seconds of each run of each contender on each file, the contenders taking turns."""
    timings: dict[str, list[float]] = {key: [] for key in contenders}
    for path in paths:
        for fn in contenders.values():
            fn(path)  # warm the file and the libraries
        for run in range(runs):
            # Each run starts with a different contender, so none always follows the
            # full-size decode of another (cold caches, memory handed back).
            order = list(contenders)
            order = order[run % len(order):] + order[:run % len(order)]
            for key in order:
                timings[key].append(contenders[key](path))
    return timings


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else math.nan


@contextlib.contextmanager
def pinned_to_one_core() -> Iterator[None]:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)
