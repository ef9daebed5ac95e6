"""Image pipeline figures: per-format speed against libvips, what each library saves, memory,
batch upload throughput, and the goals they are held to.

Usage: .venv/bin/python -m bench.imaging [--corpus DIR | --camera-weight] [--runs 5] [--batch 20]

All times are CPU time of the process (see CLOCK), pinned to one core, medians.

1. Per-format medians on one core (the process is pinned to one CPU): ImgStream's whole pipeline
   (`imaging.analyse`: sniff, EXIF, one reduced decode, preview, WebP thumbnail, thumbhash)
   against libvips making a 400 px WebP thumbnail of the same file (`pyvips.Image.thumbnail`,
   shrink-on-load, operation cache off), libvips doing the same work (a 1440 px JPEG preview in
   sRGB and the thumbnail made from it) and a naive Pillow thumbnail (full decode, resize, WebP).
   The ratio is ours / libvips: at most 1.0 means the whole pipeline takes no longer than libvips
   takes for the thumbnail alone. The spread beside it is the interquartile range of the ratios
   of single runs, which shows how much of a difference is the machine's noise.
2. For each JPEG size, where the pipeline's time goes: each stage (decode, preview resample,
   conversion to sRGB and turning upright, preview encode, thumbnail resample and encode,
   placeholder, metadata) timed inside `analyse`, and what is left over.
3. What each image library saves: the pipeline timed with the library and, in the same run,
   with the nearest thing to do without it (Pillow's own resampler instead of cykooz.resizer,
   Pillow decoding full size instead of libvips' reduced decodes, ThumbHash's reference
   algorithm in Python instead of thumbhash-rs, both to make a hash in the pipeline and to
   render a library page's placeholders, libvips doing the whole work instead of Pillow).
   pillow-heif has no stand-in: it is the only decoder of HEIC among the libraries.
   Then what the thumbnails' WebP effort trades: the time and size of the pipeline's own
   thumbnails encoded at the effort used, the fastest one and libwebp's default.
4. Peak RSS growth of a fresh process over its warmed-up baseline while it analyses one 24 MP
   JPEG (each measured in its own subprocess, RSS sampled every millisecond).
5. Upload throughput: a batch of JPEGs through the same receive + ingest code the upload handler
   runs, with as many worker threads as the upload handler uses (one per core), against one
   worker.
6. The goals, each marked met or missed.

Without --corpus, a corpus of photo-like images is generated (sky and land gradients, hills,
a sun, blurred texture and mild sensor noise, with camera EXIF) in a temporary directory: JPEG at
3, 12 and 24 MP; a 12 MP JPEG as a phone writes a portrait shot (stored sideways with EXIF
orientation 6, in Display P3, so it is turned and converted to sRGB); and 12 MP PNG, WebP, HEIC
(with a 320 px embedded thumbnail, as phones write) and AVIF. With --camera-weight, only the
JPEGs, with the sensor grain of a small sensor: files as large as a phone writes (12 MP: about
3.7 MB, against 0.6 MB), so that more of the time is entropy decoding, which ImgStream and
libvips share. With --corpus, every file in DIR is grouped by its sniffed format and size, and
by its colour profile and EXIF orientation where it has them.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")

import pyvips  # noqa: E402
from PIL import Image  # noqa: E402

from bench.imaging_common import (  # noqa: E402
    CLOCK,
    MAX_PIXELS,
    PREVIEW,
    THUMBNAIL,
    interleaved,
    median_ms,
    ours,
    pinned_to_one_core,
)
from bench.imaging_corpus import (  # noqa: E402
    CAMERA_GRAIN,
    PHONE_JPEG,
    camera_exif,
    generate_corpus,
    group_files,
    label_of,
    landscape,
    profile_name,
)
from bench.imaging_libraries import (  # noqa: E402
    bench_libraries,
    bench_thumbnail_effort,
    python_thumbhash,
    python_thumbhash_to_rgba,
)
from bench.imaging_load import RSS_GOAL_MIB, bench_memory, bench_throughput, rss_probe  # noqa: E402
from bench.imaging_stages import STAGES, bench_stages  # noqa: E402
from imgstream.services import imaging  # noqa: E402

__all__ = [
    "CAMERA_GRAIN", "PHONE_JPEG", "STAGES", "bench_formats", "bench_libraries", "bench_stages",
    "bench_thumbnail_effort", "camera_exif", "label_of", "landscape", "main", "print_goals",
    "python_thumbhash", "python_thumbhash_to_rgba",
]


def vips(path: Path) -> float:
    """Seconds for libvips to make the thumbnail; NaN when its build cannot read the format
    (the pyvips-binary wheel has no HEVC decoder, so no HEIC)."""
    start = CLOCK()
    try:
        thumb = pyvips.Image.thumbnail(str(path), THUMBNAIL)
        thumb.webpsave_buffer(Q=82)
    except pyvips.Error:
        return math.nan
    return CLOCK() - start


def vips_same_work(path: Path) -> float:
    """Seconds for libvips to do what ImgStream does: a 1440 px preview, in sRGB where the file
    embeds another profile, and, from it, the 400 px WebP thumbnail (EXIF and placeholder aside);
    NaN where it cannot read the format."""
    with Image.open(path) as im:
        colour = profile_name(im)
    # Only where ImgStream converts: asked of every file, libvips would convert from an
    # assumed sRGB to sRGB, at 4x the time.
    convert = {"export_profile": "srgb"} if colour and "srgb" not in colour.lower() else {}
    start = CLOCK()
    try:
        preview = pyvips.Image.thumbnail(str(path), PREVIEW, size="down", **convert)
        preview = preview.copy_memory()
        preview.jpegsave_buffer(Q=85)
        preview.thumbnail_image(THUMBNAIL).webpsave_buffer(Q=82)
    except pyvips.Error:
        return math.nan
    return CLOCK() - start


def naive(path: Path) -> float:
    start = CLOCK()
    with Image.open(path) as im:
        im.load()
        im = im.convert("RGB")
        im.thumbnail((THUMBNAIL, THUMBNAIL))
        im.save(io.BytesIO(), "WEBP", quality=82)
    return CLOCK() - start


def bench_formats(files: list[Path], runs: int) -> dict[str, dict[str, float]]:
    """Print the per-format table; return each group's median ms per contender."""
    groups = group_files(files)
    print(f"\nPer format, one core, median CPU ms per image over {runs} runs of each file "
          f"(thumbnail {THUMBNAIL} px, preview {PREVIEW} px):")
    print("  (libvips: its 400 px WebP thumbnail alone, colours left in the file's profile; "
          "libvips same work: a 1440 px JPEG preview in sRGB and the thumbnail made from it)")
    print("  (spread: the middle half of the per-run ratios, ImgStream / libvips thumbnail, each"
          " pair timed in the same run on the same file)")
    w = max([14, *map(len, groups)])
    print(f"  {'input':<{w}} {'files':>5} {'ImgStream':>10} {'libvips':>8} {'ratio':>6} "
          f"{'spread':>11} {'libvips same work':>18} {'ratio':>6} {'naive Pillow':>13}")
    table: dict[str, dict[str, float]] = {}
    with pinned_to_one_core():
        for label, paths in groups.items():
            timings = interleaved(
                {"ours": ours, "vips": vips, "same": vips_same_work, "naive": naive}, paths, runs)
            m = {key: median_ms(values) for key, values in timings.items()}
            m["files"] = len(paths)
            table[label] = m
            paired = [a / b for a, b in zip(timings["ours"], timings["vips"], strict=True)]
            columns = []
            for key, width in (("vips", 8), ("same", 18)):
                if math.isnan(m[key]):
                    columns.append(f"{'n/a':>{width}} {'n/a':>6}")
                else:
                    columns.append(f"{m[key]:>{width - 2}.0f}ms {m['ours'] / m[key]:>6.2f}")
                if key == "vips":
                    spread = "n/a"
                    if not math.isnan(m[key]) and len(paired) > 1:
                        low, _, high = statistics.quantiles(paired, n=4)
                        spread = f"{low:.2f}-{high:.2f}"
                    columns.append(f"{spread:>11}")
            print(f"  {label:<{w}} {len(paths):>5} {m['ours']:>8.0f}ms {' '.join(columns)} "
                  f"{m['naive']:>11.0f}ms")
    return table


GOALS = (
    # (label, measured against, most)
    ("JPEG 12 MP", "vips", 1.15),
    ("JPEG 12 MP", "same", 0.6),
    ("PNG 12 MP", "vips", 1.3),
    ("WebP 12 MP", "vips", 1.3),
    (PHONE_JPEG, "vips", 1.5),
)
SAVING_GOAL = 0.10
"""A library that saves less than this share of the pipeline's time is not worth keeping."""
REFERENCES = {"vips": "libvips' thumbnail alone", "same": "libvips doing the same work"}


def print_goals(formats: dict[str, dict[str, float]], rss_mib: float | None,
                saved: dict[str, float]) -> bool:
    """Print each goal with the figure measured and whether it is met; True when all are."""
    print("\nGoals (one core, this run):")
    met_all = True
    for label, reference, most in GOALS:
        if label not in formats or math.isnan(formats[label][reference]):
            continue
        ratio = formats[label]["ours"] / formats[label][reference]
        met = ratio <= most
        met_all &= met
        print(f"  {label}: ImgStream {formats[label]['ours']:.0f} ms, {REFERENCES[reference]} "
              f"{formats[label][reference]:.0f} ms, {ratio:.2f}x (goal <= {most}x): "
              f"{'met' if met else 'MISSED'}")
    if rss_mib is not None:
        met = rss_mib < RSS_GOAL_MIB
        met_all &= met
        print(f"  peak RSS per 24 MP JPEG: +{rss_mib:.1f} MiB (goal < +{RSS_GOAL_MIB} MiB): "
              f"{'met' if met else 'MISSED'}")
    best: dict[str, tuple[str, float]] = {}
    for name, share in saved.items():
        library = name.split(" ", 1)[0]
        if library not in best or share > best[library][1]:
            best[library] = (name, share)
    for library, (name, share) in best.items():
        met = share >= SAVING_GOAL
        met_all &= met
        print(f"  {library}: saves {share:.0%} at best ({name.split(' ', 1)[1]}; goal >= "
              f"{SAVING_GOAL:.0%}): {'met' if met else 'MISSED'}")
    return met_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="directory of images (default: generated)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument(
        "--camera-weight", action="store_true",
        help="generate only JPEGs, with sensor grain, as large as a phone's (12 MP: 3.7 MB)",
    )
    parser.add_argument("--rss-probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    imaging.configure(max_pixels=MAX_PIXELS)
    if args.rss_probe:
        rss_probe(args.rss_probe)
        return
    print(f"Pillow {Image.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}."
          f"{pyvips.version(2)}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp)
            print("Generating a photo-like corpus…", file=sys.stderr)
            generate_corpus(corpus, camera_weight=args.camera_weight)
        files = [p for p in corpus.iterdir() if p.is_file()]
        groups = group_files(files)
        formats = bench_formats(files, args.runs)
        bench_stages(groups, args.runs)
        saved = bench_libraries(groups, formats, args.runs)
        bench_thumbnail_effort(groups, args.runs)
        jpegs = sorted(
            (p for label, paths in groups.items() if label.startswith("JPEG") for p in paths),
            key=lambda p: Image.open(p).width * Image.open(p).height,
        )
        rss = None
        if jpegs:
            rss = bench_memory(jpegs[-1], 3)
            twelve = [p for p in jpegs if 10e6 < Image.open(p).width * Image.open(p).height < 14e6]
            bench_throughput(twelve or jpegs, args.batch)
        print_goals(formats, rss, saved)


if __name__ == "__main__":
    main()
