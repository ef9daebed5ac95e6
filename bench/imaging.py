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
import concurrent.futures
import contextlib
import io
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")

import pyvips  # noqa: E402
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageFilter  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from imgstream.runtime import create_engine  # noqa: E402
from imgstream.services import identity, imaging, ingest  # noqa: E402
from imgstream.services.imaging import derivatives  # noqa: E402
from imgstream.services.spooling import IncomingFile  # noqa: E402
from imgstream.services.storage import LocalStorage  # noqa: E402
from tests import images  # noqa: E402

THUMBNAIL = 400
PREVIEW = 1440
MAX_PIXELS = 100_000_000
CHUNK = 64 * 1024
ORIENTATION = 0x0112
PHONE_JPEG = "JPEG 12 MP Display P3 rotated"
"""A phone's JPEG: a portrait shot stored sideways (EXIF orientation 6) in Display P3."""

CLOCK = time.process_time
"""What the per-format, stage and library figures count: the CPU time of this process, all its
threads (libvips' workers too), so that what other processes on the machine do does not count.
Everything is pinned to one core, so CPU time is the time one core spends."""

CORPUS = [
    # (label, format, size, files)
    ("JPEG 3 MP", "JPEG", (2048, 1536), 3),
    ("JPEG 12 MP", "JPEG", (4000, 3000), 3),
    ("JPEG 24 MP", "JPEG", (6000, 4000), 3),
    (PHONE_JPEG, "JPEG", (4000, 3000), 2),
    ("PNG 12 MP", "PNG", (4000, 3000), 2),
    ("WebP 12 MP", "WEBP", (4000, 3000), 2),
    ("HEIC 12 MP", "HEIF", (4000, 3000), 2),
    ("AVIF 12 MP", "AVIF", (4000, 3000), 2),
]


def landscape(size: tuple[int, int], seed: int, grain: int = 0) -> Image.Image:
    """A photo-like scene: smooth sky, textured hills, a sun, fine detail and sensor noise;
    `grain` adds that much more noise (a standard deviation in levels), as a small sensor in
    poor light leaves it."""
    rng = random.Random(seed)
    w, h = size
    small = (max(64, w // 8), max(48, h // 8))
    sky_top = (rng.randint(30, 90), rng.randint(90, 150), rng.randint(170, 240))
    sky_low = (rng.randint(180, 240), rng.randint(170, 220), rng.randint(150, 210))
    gradient = Image.linear_gradient("L").resize(small)
    sky = Image.composite(Image.new("RGB", small, sky_low), Image.new("RGB", small, sky_top),
                          gradient)
    draw = ImageDraw.Draw(sky)
    sx, sy, sr = rng.randint(0, small[0]), rng.randint(0, small[1] // 3), small[0] // 14
    draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=(255, 244, 214))
    for layer in range(4):
        base = small[1] * (0.45 + 0.12 * layer)
        points = [(0, small[1])]
        for x in range(0, small[0] + 16, 16):
            points.append((x, base + rng.uniform(-1, 1) * small[1] * 0.08))
        points.append((small[0], small[1]))
        green = (rng.randint(40, 90) - 8 * layer, rng.randint(80, 140) - 12 * layer,
                 rng.randint(30, 70) - 5 * layer)
        draw.polygon(points, fill=green)
    scene = sky.filter(ImageFilter.GaussianBlur(1.2)).resize(size, Image.Resampling.BICUBIC)
    # Texture: a fractal for structure and blurred noise for foliage and grain.
    fractal = Image.effect_mandelbrot(small, (-2.2 + rng.random() * 0.2, -1.2, 1.0, 1.2), 80)
    texture = Image.blend(fractal, Image.effect_noise(small, 60).filter(
        ImageFilter.GaussianBlur(0.8)), 0.6).resize(size, Image.Resampling.BICUBIC)
    scene = Image.blend(scene, Image.merge("RGB", (texture,) * 3), 0.18)
    noise = Image.effect_noise(size, 6).convert("L")
    scene = Image.blend(scene, Image.merge("RGB", (noise, noise, noise)), 0.05)
    if grain:
        noise = Image.effect_noise(size, grain).convert("L")
        scene = Image.blend(scene, Image.merge("RGB", (noise, noise, noise)), 0.15)
    return scene


def camera_exif(seed: int, orientation: int = 1) -> bytes:
    from fractions import Fraction

    return images.exif_bytes(
        date_original=f"2024:0{1 + seed % 9}:1{seed % 10} 1{seed % 10}:2{seed % 10}:00",
        offset_original="+02:00", make="FUJIFILM", model="X-T5", lens="XF23mmF1.4 R LM WR",
        focal_length=23.0, f_number=2.8, exposure=Fraction(1, 250), iso=200,
        gps=(46.5584 + seed / 1000, 7.8359), orientation=None if orientation == 1 else orientation,
    )


CAMERA_GRAIN = 40
"""Extra noise of the camera-weight corpus: its 12 MP JPEGs come out at about 3.7 MB, as a
phone writes them, where the default corpus' smoother scenes make 0.6 MB."""


def generate_corpus(root: Path, *, camera_weight: bool = False) -> None:
    for label, fmt, size, count in CORPUS:
        if camera_weight and fmt != "JPEG":
            continue
        for i in range(count):
            seed = zlib.crc32(f"{label}/{i}".encode()) & 0xFFFF
            im = landscape(size, seed, CAMERA_GRAIN if camera_weight else 0)
            params: dict = {"exif": camera_exif(i)}
            if label == PHONE_JPEG:
                # A portrait shot as a phone stores it: sideways, with the turn in its EXIF,
                # and in the phone's wide gamut.
                params.update(exif=camera_exif(i, orientation=6),
                              icc_profile=images.display_p3_profile())
            if fmt == "JPEG":
                params.update(quality=92 if camera_weight else 90)
            elif fmt == "WEBP":
                params.update(quality=90)
            elif fmt == "HEIF":
                params.update(quality=85, thumbnails=[320])
            elif fmt == "AVIF":
                params.update(quality=80, speed=8)
            name = f"{label.replace(' ', '_')}_{i}.{fmt.lower()}"
            (root / name).write_bytes(images.encode(im, fmt, **params))
            print(f"  generated {name}", file=sys.stderr)


def label_of(path: Path) -> str | None:
    with path.open("rb") as fh:
        fmt = imaging.sniff_format(fh.read(64))
    if fmt is None:
        return None
    with Image.open(path) as im:
        megapixels = im.width * im.height / 1e6
        colour = profile_name(im)
        rotated = im.getexif().get(ORIENTATION, 1) != 1
    name = {"WEBP": "WebP"}.get(fmt.name, fmt.name)
    return f"{name} {megapixels:.0f} MP" + (f" {colour}" if colour else "") + (
        " rotated" if rotated else "")


def profile_name(im: Image.Image) -> str | None:
    """The description of the image's embedded colour profile, if it has one."""
    if not (icc := im.info.get("icc_profile")):
        return None
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except (ImageCms.PyCMSError, OSError):
        return "unreadable ICC"


def ours(path: Path) -> float:
    start = CLOCK()
    imaging.analyse(path, thumbnail_size=THUMBNAIL, preview_size=PREVIEW, max_pixels=MAX_PIXELS)
    return CLOCK() - start


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


def group_files(files: list[Path]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {}
    for path in sorted(files):
        label = label_of(path)
        if label:
            groups.setdefault(label, []).append(path)
    return groups


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


# What each library saves. Each "without" is the nearest way to do the same work with the
# libraries that would be left, patched into the pipeline for the time of one run.

PILLOW_FILTERS = {"bilinear": Image.Resampling.BILINEAR, "catmull_rom": Image.Resampling.BICUBIC}


def pillow_resize(im: Image.Image, size: tuple[int, int], kernel: object) -> Image.Image:
    """Pillow's own resampler with the same kernel (its bicubic is Catmull-Rom)."""
    if im.size == size:
        return im
    return im.resize(size, PILLOW_FILTERS[kernel.name])  # type: ignore[attr-defined]


def python_thumbhash(w: int, h: int, rgba: bytes) -> bytes:
    """ThumbHash's reference encoder (github.com/evanw/thumbhash, JavaScript) in Python."""

    def js_round(x: float) -> int:
        return math.floor(x + 0.5)

    n = w * h
    avg_r = avg_g = avg_b = avg_a = 0.0
    for i in range(n):
        alpha = rgba[i * 4 + 3] / 255
        avg_r += alpha / 255 * rgba[i * 4]
        avg_g += alpha / 255 * rgba[i * 4 + 1]
        avg_b += alpha / 255 * rgba[i * 4 + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = avg_a < n
    l_limit = 5 if has_alpha else 7
    lx = max(1, js_round(l_limit * w / max(w, h)))
    ly = max(1, js_round(l_limit * h / max(w, h)))
    lum, p, q, a = [], [], [], []
    for i in range(n):
        alpha = rgba[i * 4 + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[i * 4]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[i * 4 + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[i * 4 + 2]
        lum.append((r + g + b) / 3)
        p.append((r + g) / 2 - b)
        q.append(r - g)
        a.append(alpha)

    def encode_channel(channel: list[float], nx: int, ny: int) -> tuple[float, list[float], float]:
        dc, ac, scale = 0.0, [], 0.0
        for cy in range(ny):
            cx = 0
            while cx * ny < nx * (ny - cy):
                fx = [math.cos(math.pi / w * cx * (x + 0.5)) for x in range(w)]
                f = 0.0
                for y in range(h):
                    fy = math.cos(math.pi / h * cy * (y + 0.5))
                    row = y * w
                    for x in range(w):
                        f += channel[x + row] * fx[x] * fy
                f /= n
                if cx or cy:
                    ac.append(f)
                    scale = max(scale, abs(f))
                else:
                    dc = f
                cx += 1
        if scale:
            ac = [0.5 + 0.5 / scale * v for v in ac]
        return dc, ac, scale

    l_dc, l_ac, l_scale = encode_channel(lum, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = encode_channel(p, 3, 3)
    q_dc, q_ac, q_scale = encode_channel(q, 3, 3)
    a_dc, a_ac, a_scale = encode_channel(a, 5, 5) if has_alpha else (0.0, [], 0.0)
    landscape_ = w > h
    header24 = (js_round(63 * l_dc) | js_round(31.5 + 31.5 * p_dc) << 6
                | js_round(31.5 + 31.5 * q_dc) << 12 | js_round(31 * l_scale) << 18
                | int(has_alpha) << 23)
    header16 = ((ly if landscape_ else lx) | js_round(63 * p_scale) << 3
                | js_round(63 * q_scale) << 9 | int(landscape_) << 15)
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        out.append(js_round(15 * a_dc) | js_round(15 * a_scale) << 4)
    start = len(out)
    index = 0
    for ac in (l_ac, p_ac, q_ac, *([a_ac] if has_alpha else [])):
        for f in ac:
            at = start + (index >> 1)
            while len(out) <= at:
                out.append(0)
            out[at] |= js_round(15 * f) << ((index & 1) * 4)
            index += 1
    return bytes(out)


def python_thumbhash_to_rgba(digest: bytes) -> tuple[int, int, bytes]:
    """ThumbHash's reference decoder (github.com/evanw/thumbhash, JavaScript) in Python."""
    h24 = digest[0] | digest[1] << 8 | digest[2] << 16
    h16 = digest[3] | digest[4] << 8
    l_dc, p_dc, q_dc = (h24 & 63) / 63, ((h24 >> 6) & 63) / 31.5 - 1, ((h24 >> 12) & 63) / 31.5 - 1
    l_scale, has_alpha = ((h24 >> 18) & 31) / 31, bool(h24 >> 23)
    p_scale, q_scale, landscape_ = ((h16 >> 3) & 63) / 63, ((h16 >> 9) & 63) / 63, h16 >> 15
    lx = max(3, (5 if has_alpha else 7) if landscape_ else h16 & 7)
    ly = max(3, h16 & 7 if landscape_ else (5 if has_alpha else 7))
    a_dc, a_scale = ((digest[5] & 15) / 15, (digest[5] >> 4) / 15) if has_alpha else (1.0, 0.0)
    start, index = (6 if has_alpha else 5), 0

    def channel(nx: int, ny: int, scale: float) -> list[float]:
        nonlocal index
        ac = []
        for cy in range(ny):
            cx = 0 if cy else 1
            while cx * ny < nx * (ny - cy):
                nibble = (digest[start + (index >> 1)] >> ((index & 1) << 2)) & 15
                ac.append((nibble / 7.5 - 1) * scale)
                index += 1
                cx += 1
        return ac

    l_ac = channel(lx, ly, l_scale)
    p_ac, q_ac = channel(3, 3, p_scale * 1.25), channel(3, 3, q_scale * 1.25)
    a_ac = channel(5, 5, a_scale) if has_alpha else []
    ratio_lx = (5 if has_alpha else 7) if digest[4] & 0x80 else digest[3] & 7
    ratio_ly = digest[3] & 7 if digest[4] & 0x80 else (5 if has_alpha else 7)
    ratio = ratio_lx / ratio_ly
    w = math.floor((32 if ratio > 1 else 32 * ratio) + 0.5)
    h = math.floor((32 / ratio if ratio > 1 else 32) + 0.5)
    out = bytearray(w * h * 4)

    def terms(n: int, fx: list[float], fy: list[float], ac: list[float]) -> float:
        total, j = 0.0, 0
        for cy in range(n):
            cx, fy2 = (0 if cy else 1), fy[cy] * 2
            while cx < n - cy:
                total += ac[j] * fx[cx] * fy2
                cx, j = cx + 1, j + 1
        return total

    for y in range(h):
        fy = [math.cos(math.pi / h * (y + 0.5) * cy) for cy in range(max(ly, 5))]
        for x in range(w):
            fx = [math.cos(math.pi / w * (x + 0.5) * cx) for cx in range(max(lx, 5))]
            lum, j = l_dc, 0
            for cy in range(ly):
                cx, fy2 = (0 if cy else 1), fy[cy] * 2
                while cx * ly < lx * (ly - cy):
                    lum += l_ac[j] * fx[cx] * fy2
                    cx, j = cx + 1, j + 1
            p = p_dc + terms(3, fx, fy, p_ac)
            q = q_dc + terms(3, fx, fy, q_ac)
            a = a_dc + terms(5, fx, fy, a_ac) if has_alpha else a_dc
            b = lum - 2 / 3 * p
            r = (3 * lum - b + q) / 2
            g = r - q
            i = (y * w + x) * 4
            out[i:i + 4] = bytes(int(max(0, 255 * min(1, v))) for v in (r, g, b, a))
    return w, h, bytes(out)


PLACEHOLDERS = 100
"""Placeholders rendered for the thumbhash-rs line: a page of the library, none cached yet."""


def placeholders(hashes: list[str]) -> float:
    """Seconds to render the placeholders of `hashes` as the library page does, uncached."""
    derivatives.placeholder_data_url.cache_clear()
    start = CLOCK()
    for digest in hashes:
        assert derivatives.placeholder_data_url(digest)
    return CLOCK() - start


def bench_placeholders(groups: dict[str, list[Path]], runs: int) -> float | None:
    """Print what thumbhash-rs saves rendering a page of placeholders; return the share."""
    jpegs = [p for label, paths in groups.items() if label.startswith("JPEG") for p in paths]
    if not jpegs:
        return None
    found = [imaging.analyse(p, thumbnail_size=THUMBNAIL, preview_size=PREVIEW,
                             max_pixels=MAX_PIXELS).thumbhash for p in jpegs]
    hashes = [found[i % len(found)] for i in range(PLACEHOLDERS)]
    python = types.SimpleNamespace(thumb_hash_to_rgba=python_thumbhash_to_rgba)
    with_it, without = [], []
    with pinned_to_one_core():
        for _ in range(runs):
            with_it.append(placeholders(hashes))
            with patched(thumbhash=python):
                without.append(placeholders(hashes))
    derivatives.placeholder_data_url.cache_clear()
    share = 1 - statistics.median(with_it) / statistics.median(without)
    print(f"  {'thumbhash-rs':<14} saves {share:>4.0%} rendering {PLACEHOLDERS} placeholders "
          f"(a library page, uncached): {median_ms(with_it):.0f} ms, {median_ms(without):.0f} ms "
          "with ThumbHash's reference decoder in Python")
    return share


@contextlib.contextmanager
def patched(**replacements: object) -> Iterator[None]:
    """The pipeline with some of its parts replaced while the block runs."""
    originals = {name: getattr(derivatives, name) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(derivatives, name, value)
        yield
    finally:
        for name, value in originals.items():
            setattr(derivatives, name, value)


def ours_without(**replacements: object) -> Callable[[Path], float]:
    def run(path: Path) -> float:
        with patched(**replacements):
            return ours(path)
    return run


WITHOUT: dict[str, tuple[str, dict[str, object], tuple[str, ...]]] = {
    # library: (what does the work without it, what is patched, the groups it is timed on)
    "cykooz-resizer": ("Pillow's resampler, same kernels",
                       {"_resize": pillow_resize}, ("JPEG 12 MP",)),
    "pyvips": ("Pillow decoding PNG and WebP at full size",
               {"_libvips_reduced": lambda *a, **k: None}, ("PNG 12 MP", "WebP 12 MP")),
    "thumbhash-rs": ("ThumbHash's reference encoder in Python",
                     {"thumbhash": types.SimpleNamespace(rgba_to_thumb_hash=python_thumbhash)},
                     ("JPEG 12 MP",)),
}


def bench_libraries(groups: dict[str, list[Path]], formats: dict[str, dict[str, float]],
                    runs: int) -> dict[str, float]:
    """Print what each library saves (1 - with / without, medians of the same run)."""
    print(f"\nWhat each library saves, one core, median CPU ms per image over {runs} runs of each "
          "file (with it and without it, taking turns):")
    saved: dict[str, float] = {}
    with pinned_to_one_core():
        for library, (instead, replacements, labels) in WITHOUT.items():
            for label in labels:
                if label not in groups:
                    continue
                timings = interleaved(
                    {"with": ours, "without": ours_without(**replacements)}, groups[label], runs)
                with_ms, without_ms = median_ms(timings["with"]), median_ms(timings["without"])
                saved[f"{library} {label}"] = share = 1 - with_ms / without_ms
                print(f"  {library:<14} saves {share:>4.0%} on {label}: {with_ms:.0f} ms, "
                      f"{without_ms:.0f} ms with {instead}")
    if (share := bench_placeholders(groups, runs)) is not None:
        saved["thumbhash-rs placeholders"] = share
    for label in ("JPEG 12 MP",):
        if label in formats and not math.isnan(formats[label]["same"]):
            row = formats[label]
            saved[f"Pillow {label}"] = share = 1 - row["ours"] / row["same"]
            print(f"  {'Pillow':<14} saves {share:>4.0%} on {label}: {row['ours']:.0f} ms, "
                  f"{row['same']:.0f} ms with libvips doing the same work (table above)")
    heic = [label for label in formats if label.startswith(("HEIC", "HEIF"))]
    if heic:
        vips_reads = not math.isnan(formats[heic[0]]["vips"])
        print(f"  {'pillow-heif':<14} {'decodes' if vips_reads else 'is the only decoder of'} "
              f"{', '.join(heic)} ({formats[heic[0]]['ours']:.0f} ms): "
              + ("libvips reads it too" if vips_reads else
                 "the pyvips-binary wheel has no HEVC decoder, so without it every HEIC upload "
                 "is refused"))
    return saved


WEBP_METHODS = (0, derivatives.WEBP_METHOD, 4)
"""libwebp efforts compared for thumbnails: the fastest, the pipeline's, and libwebp's default."""


def thumbnails_of(paths: list[Path]) -> list[Image.Image]:
    """The thumbnail images the pipeline encodes for `paths` (caught on their way to WebP)."""
    caught: list[Image.Image] = []
    encode = derivatives._encode

    def catching(im: Image.Image, fmt: imaging.ImageFormat) -> imaging.Derivative:
        if fmt is imaging.WEBP and max(im.size) <= THUMBNAIL:
            caught.append(im.copy())
        return encode(im, fmt)

    with patched(_encode=catching):
        for path in paths:
            ours(path)
    return caught


def webp_encode(im: Image.Image, method: int) -> tuple[float, int]:
    """CPU seconds and bytes of one WebP encoding of `im` at the pipeline's quality."""
    out = io.BytesIO()
    start = CLOCK()
    im.save(out, "WEBP", quality=derivatives.WEBP_QUALITY, method=method)
    return CLOCK() - start, out.tell()


def bench_thumbnail_effort(groups: dict[str, list[Path]],
                           runs: int) -> dict[int, tuple[float, float]]:
    """Print what the thumbnails' WebP effort trades: encoding time against file size.

    Returns:
        For each method compared, its median ms and median bytes per thumbnail.
    """
    label = next((name for name in ("JPEG 12 MP", *groups) if name in groups), None)
    if label is None:
        return {}
    thumbs = thumbnails_of(groups[label])
    timings: dict[int, list[float]] = {method: [] for method in WEBP_METHODS}
    sizes: dict[int, list[int]] = {method: [] for method in WEBP_METHODS}
    with pinned_to_one_core():
        for im in thumbs:
            for run in range(runs):
                order = WEBP_METHODS[run % len(WEBP_METHODS):] + WEBP_METHODS[:run % len(
                    WEBP_METHODS)]
                for method in order:
                    seconds, size = webp_encode(im, method)
                    timings[method].append(seconds)
                    sizes[method].append(size)
    result = {method: (median_ms(timings[method]), statistics.median(sizes[method]))
              for method in WEBP_METHODS}
    used_ms, used_bytes = result[derivatives.WEBP_METHOD]
    print(f"\nThumbnail WebP effort ({label}, {len(thumbs)} thumbnails of {THUMBNAIL} px, quality "
          f"{derivatives.WEBP_QUALITY}, one core, median CPU ms and bytes over {runs} runs):")
    for method, (ms, size) in result.items():
        note = ("used" if method == derivatives.WEBP_METHOD else
                f"{ms / used_ms - 1:+.0%} time, {size / used_bytes - 1:+.0%} size against the one "
                "used")
        default = " (libwebp's default)" if method == 4 else ""
        print(f"  method {method}{default}: {ms:.1f} ms, {size / 1000:.1f} KB  {note}")
    return result


def current_rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_probe(path: Path) -> None:
    """Run in a fresh process: print the peak RSS growth (bytes) while analysing one file.

    The process is warmed up first (libraries loaded, a small image analysed), then RSS is
    sampled every millisecond while the file is analysed; the figure is peak minus the RSS
    just before.
    """
    import threading

    warm = Path(tempfile.mkdtemp()) / "warm.jpg"
    warm.write_bytes(images.encode(landscape((640, 480), 1), "JPEG"))
    ours(warm)
    baseline = current_rss()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, current_rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    ours(path)
    peak = max(peak, current_rss())
    done.set()
    sampler.join()
    print(peak - baseline)


def bench_memory(path: Path, runs: int) -> float:
    growths = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-m", "bench.imaging", "--rss-probe", str(path)],
            check=True, capture_output=True, text=True,
        )
        growths.append(int(out.stdout.strip().splitlines()[-1]) / 2**20)
    with Image.open(path) as im:
        size = f"{im.width}x{im.height}"
    print(f"\nPeak RSS growth while analysing one {size} JPEG ({path.stat().st_size / 1e6:.1f} MB)"
          f", fresh process each, {runs} runs: median {statistics.median(growths):.1f} MiB, "
          f"max {max(growths):.1f} MiB (goal < {RSS_GOAL_MIB} MiB)")
    return statistics.median(growths)


def ingest_batch(paths: list[Path], workdir: Path, workers: int) -> tuple[float, float]:
    engine = create_engine(f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    storage = LocalStorage(workdir / "library", secret=b"bench", url_ttl_seconds=1800)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="bench@example.com")

    def one(path: Path) -> None:
        incoming = IncomingFile(filename=path.name, spool_dir=workdir / "in", max_bytes=10**9)
        with path.open("rb") as fh:
            while block := fh.read(CHUNK):
                incoming.write(block)
        with Session(engine, expire_on_commit=False) as session:
            result = ingest.ingest(
                session=session, storage=storage, owner=owner, upload=incoming,
                sha256=incoming.finish(), thumbnail_size=THUMBNAIL, preview_size=PREVIEW,
                max_pixels=MAX_PIXELS,
            )
        assert result.status is ingest.IngestStatus.ADDED, result

    cpu_start, start = time.process_time(), time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, paths))
    wall = time.perf_counter() - start
    engine.dispose()
    return wall, (time.process_time() - cpu_start) / wall


def bench_throughput(jpegs: list[Path], batch: int) -> None:
    # Distinct files (a duplicate would be refused): padded copies differ after the end marker.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(batch):
            source = jpegs[i % len(jpegs)]
            path = root / f"upload_{i:02d}.jpg"
            path.write_bytes(source.read_bytes() + i.to_bytes(4, "big"))
            paths.append(path)
        megapixels = statistics.mean(
            Image.open(p).width * Image.open(p).height / 1e6 for p in paths
        )
        cores = os.cpu_count() or 1
        print(f"\nUpload throughput, batch of {batch} JPEGs (~{megapixels:.0f} MP), "
              "receive + ingest (analyse, store, commit) as the upload handler runs it:")
        for workers in sorted({1, cores}):
            work = root / f"w{workers}"
            work.mkdir()
            wall, cpu = ingest_batch(paths, work, workers)
            print(f"  {workers} worker(s): {wall:.2f} s, {batch / wall:.1f} photos/s, "
                  f"CPU busy {cpu:.2f} cores")


GOALS = (
    # (label, measured against, most)
    ("JPEG 12 MP", "vips", 1.15),
    ("JPEG 12 MP", "same", 0.6),
    ("PNG 12 MP", "vips", 1.3),
    ("WebP 12 MP", "vips", 1.3),
    (PHONE_JPEG, "vips", 1.5),
)
RSS_GOAL_MIB = 40
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
