"""Where a JPEG's time goes: each stage of the pipeline timed inside `imaging.analyse`."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image, ImageFile

from bench.imaging_common import CLOCK, THUMBNAIL, ours, pinned_to_one_core
from imgstream.services.imaging import derivatives

STAGES = (
    "decode", "preview resample", "colour, upright", "preview encode",
    "thumbnail resample", "thumbnail encode", "placeholder", "metadata",
)
"""The stages of a JPEG's analysis, in the order they run."""


@contextlib.contextmanager
def stage_timer() -> Iterator[list[tuple[str, float]]]:
    """Time the stages of `imaging.analyse` while the block runs.

    The functions that do each stage are wrapped in place and restored afterwards; a call made
    inside another timed one (the placeholder's own resample, the encoders' loads) counts
    towards the outer one. Yields the list that collects (stage, seconds) as they finish.
    """
    events: list[tuple[str, float]] = []
    depth = 0

    def timed(fn: Callable, stage: Callable[..., str]) -> Callable:
        def wrapper(*args, **kwargs):
            nonlocal depth
            depth += 1
            start = CLOCK()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = CLOCK() - start
                depth -= 1
                if depth == 0:
                    events.append((stage(*args, **kwargs), elapsed))
        return wrapper

    def resample(im: Image.Image, size: tuple[int, int], kernel: object) -> str:
        return "thumbnail resample" if max(size) <= THUMBNAIL else "preview resample"

    wrapped = {
        "_from_vips": timed(derivatives._from_vips, lambda *a, **k: "decode"),
        "_resize": timed(derivatives._resize, resample),
        "upright_srgb": timed(derivatives.upright_srgb, lambda *a, **k: "colour, upright"),
        "_encode_preview": timed(derivatives._encode_preview, lambda *a, **k: "preview encode"),
        "_encode": timed(derivatives._encode, lambda *a, **k: "thumbnail encode"),
        "_thumbhash": timed(derivatives._thumbhash, lambda *a, **k: "placeholder"),
        "read_metadata": timed(derivatives.read_metadata, lambda *a, **k: "metadata"),
    }
    originals = {name: getattr(derivatives, name) for name in wrapped}
    load = ImageFile.ImageFile.load
    try:
        for name, fn in wrapped.items():
            setattr(derivatives, name, fn)
        ImageFile.ImageFile.load = timed(load, lambda *a, **k: "decode")
        yield events
    finally:
        ImageFile.ImageFile.load = load
        for name, fn in originals.items():
            setattr(derivatives, name, fn)


def bench_stages(groups: dict[str, list[Path]], runs: int) -> dict[str, dict[str, float]]:
    """Print, for each JPEG size, the median ms of each stage and of the whole analysis."""
    print(f"\nWhere a JPEG's time goes, one core, median CPU ms per image over {runs} runs of each "
          "file (each stage timed inside the pipeline; other: sniffing, parsing, buffers):")
    widths = [max(len(name), 6) for name in (*STAGES, "other", "total")]
    w = max([14, *(len(label) for label in groups if label.startswith("JPEG"))])
    print(f"  {'input':<{w}} " + " ".join(
        f"{name:>{w}}" for name, w in zip((*STAGES, "other", "total"), widths, strict=True)))
    table: dict[str, dict[str, float]] = {}
    with pinned_to_one_core():
        for label, paths in groups.items():
            if not label.startswith("JPEG"):
                continue
            per_run: dict[str, list[float]] = {name: [] for name in (*STAGES, "other", "total")}
            for path in paths:
                ours(path)  # warm the file and the libraries
                for _ in range(runs):
                    with stage_timer() as events:
                        total = ours(path)
                    spent = dict.fromkeys(STAGES, 0.0)
                    for stage, seconds in events:
                        spent[stage] += seconds
                    for stage, seconds in spent.items():
                        per_run[stage].append(seconds)
                    per_run["other"].append(total - sum(spent.values()))
                    per_run["total"].append(total)
            row = {name: statistics.median(v) * 1000 for name, v in per_run.items()}
            table[label] = row
            print(f"  {label:<{w}} " + " ".join(
                f"{row[name]:>{w}.1f}" for name, w in zip(row, widths, strict=True)))
    return table
