"""Image pipeline figures: per-format speed against libvips, memory, batch upload throughput.

Usage: uv run python -m bench.imaging [--corpus DIR | --camera-weight] [--runs 5] [--batch 20]

1. Per-format medians on one core (the process is pinned to one CPU): ImgStream's whole pipeline
   (`imaging.analyse`: sniff, EXIF, one reduced decode, preview, WebP thumbnail, thumbhash)
   against libvips making a 400 px WebP thumbnail of the same file (`pyvips.Image.thumbnail`,
   shrink-on-load, operation cache off) and a naive Pillow thumbnail (full decode, resize, WebP).
   The ratio is ours / libvips: at most 1.0 means the whole pipeline takes no longer than libvips
   takes for the thumbnail alone. The spread beside it is the interquartile range of the ratios
   of single runs, which shows how much of a difference is the machine's noise.
   For JPEGs, also ImgStream through RGB: without the YCbCr library `make setup` builds, as on
   a machine without a C compiler or libjpeg's headers.
   For each JPEG size, where the pipeline's time goes: each stage (the YCbCr planes' native
   call, or, for JPEGs it does not take: decode, preview resample,
   conversion to sRGB and turning upright, preview encode, thumbnail resample and encode,
   placeholder, metadata) timed inside `analyse`, and what is left over.
2. Peak RSS growth of a fresh process over its warmed-up baseline while it analyses one 24 MP
   JPEG (each measured in its own subprocess, RSS sampled every millisecond).
3. Upload throughput: a batch of JPEGs through the same receive + ingest code the upload handler
   runs, with as many worker threads as the upload handler uses (one per core), against one
   worker.

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
from PIL import Image, ImageCms, ImageDraw, ImageFilter  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from imgstream.runtime import create_engine  # noqa: E402
from imgstream.services import identity, imaging, ingest  # noqa: E402
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
    start = time.perf_counter()
    imaging.analyse(path, thumbnail_size=THUMBNAIL, preview_size=PREVIEW, max_pixels=MAX_PIXELS)
    return time.perf_counter() - start


def ours_through_rgb(path: Path) -> float:
    """`ours` with the YCbCr JPEG library unavailable: JPEGs made through RGB, as elsewhere."""
    made_from_planes = imaging._jpeg_derivatives
    imaging._jpeg_derivatives = lambda: None
    try:
        return ours(path)
    finally:
        imaging._jpeg_derivatives = made_from_planes


def vips(path: Path) -> float:
    """Seconds for libvips to make the thumbnail; NaN when its build cannot read the format
    (the pyvips-binary wheel has no HEVC decoder, so no HEIC)."""
    start = time.perf_counter()
    try:
        thumb = pyvips.Image.thumbnail(str(path), THUMBNAIL)
        thumb.webpsave_buffer(Q=82)
    except pyvips.Error:
        return math.nan
    return time.perf_counter() - start


def vips_same_work(path: Path) -> float:
    """Seconds for libvips to do what ImgStream does: a 1440 px preview, in sRGB where the file
    embeds another profile, and, from it, the 400 px WebP thumbnail (EXIF and placeholder aside);
    NaN where it cannot read the format."""
    with Image.open(path) as im:
        colour = profile_name(im)
    # Only where ImgStream converts: asked of every file, libvips would convert from an
    # assumed sRGB to sRGB, at 4x the time.
    convert = {"export_profile": "srgb"} if colour and "srgb" not in colour.lower() else {}
    start = time.perf_counter()
    try:
        preview = pyvips.Image.thumbnail(str(path), PREVIEW, size="down", **convert)
        preview = preview.copy_memory()
        preview.jpegsave_buffer(Q=85)
        preview.thumbnail_image(THUMBNAIL).webpsave_buffer(Q=82)
    except pyvips.Error:
        return math.nan
    return time.perf_counter() - start


def naive(path: Path) -> float:
    start = time.perf_counter()
    with Image.open(path) as im:
        im.load()
        im = im.convert("RGB")
        im.thumbnail((THUMBNAIL, THUMBNAIL))
        im.save(io.BytesIO(), "WEBP", quality=82)
    return time.perf_counter() - start


def bench_formats(files: list[Path], runs: int) -> dict[str, list[Path]]:
    pyvips.cache_set_max(0)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    groups: dict[str, list[Path]] = {}
    for path in sorted(files):
        label = label_of(path)
        if label:
            groups.setdefault(label, []).append(path)
    print(f"\nPer format, one core, median ms per image over {runs} runs of each file "
          f"(thumbnail {THUMBNAIL} px, preview {PREVIEW} px):")
    print("  (libvips: its 400 px WebP thumbnail alone, colours left in the file's profile; "
          "libvips same work: a 1440 px JPEG preview in sRGB and the thumbnail made from it)")
    print("  (spread: the middle half of the per-run ratios, ImgStream / libvips thumbnail, each"
          " pair timed in the same run on the same file)")
    w = max([14, *map(len, groups)])
    print("  (through RGB: ImgStream without its YCbCr JPEG library, and its ratio to libvips'"
          " thumbnail)")
    print(f"  {'input':<{w}} {'files':>5} {'ImgStream':>10} {'libvips':>8} {'ratio':>6} "
          f"{'spread':>11} {'libvips same work':>18} {'ratio':>6} {'naive Pillow':>13} "
          f"{'through RGB':>12} {'ratio':>6}")
    for label, paths in groups.items():
        timings: dict[str, list[float]] = {
            "ours": [], "vips": [], "same": [], "naive": [], "rgb": []}
        contenders = {"ours": ours, "vips": vips, "same": vips_same_work, "naive": naive}
        if label.startswith("JPEG"):
            contenders["rgb"] = ours_through_rgb
        for path in paths:
            ours(path), vips(path), vips_same_work(path)  # warm the file and the libraries
            for run in range(runs):
                # Each run starts with a different contender, so none always follows the
                # full-size decode of the naive one (cold caches, memory handed back).
                order = list(contenders)
                order = order[run % len(order):] + order[:run % len(order)]
                for key in order:
                    timings[key].append(contenders[key](path))
        m = {k: statistics.median(v) * 1000 if v else math.nan for k, v in timings.items()}
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
        rgb = (f"{'':>12} {'':>6}" if math.isnan(m["rgb"])
               else f"{m['rgb']:>10.0f}ms {m['rgb'] / m['vips']:>6.2f}")
        print(f"  {label:<{w}} {len(paths):>5} {m['ours']:>8.0f}ms {' '.join(columns)} "
              f"{m['naive']:>11.0f}ms {rgb}")
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return groups


STAGES = (
    "YCbCr planes", "decode", "preview resample", "colour, upright", "preview encode",
    "thumbnail resample", "thumbnail encode", "placeholder", "metadata",
)
"""The stages of a JPEG's analysis, in the order they run."""


@contextlib.contextmanager
def stage_timer() -> Iterator[list[tuple[str, float]]]:
    """Time the stages of `imaging.analyse` while the block runs.

    The functions that do each stage are wrapped in place and restored afterwards; a call made
    inside another timed one (the placeholder's own resample, the preview encoder's) counts
    towards the outer one. Yields the list that collects (stage, seconds) as they finish.
    """
    events: list[tuple[str, float]] = []
    depth = 0

    def timed(fn: Callable, stage: Callable[..., str]) -> Callable:
        def wrapper(*args, **kwargs):
            nonlocal depth
            depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                depth -= 1
                if depth == 0:
                    events.append((stage(*args, **kwargs), elapsed))
        return wrapper

    def resample(im: Image.Image, size: tuple[int, int], kernel: object) -> str:
        return "thumbnail resample" if max(size) <= THUMBNAIL else "preview resample"

    decoder = types.SimpleNamespace(
        decode_jpeg=timed(imaging.simplejpeg.decode_jpeg, lambda *a, **k: "decode")
    )
    wrapped = {
        "simplejpeg": decoder,
        "_ycbcr_derivatives": timed(imaging._ycbcr_derivatives, lambda *a, **k: "YCbCr planes"),
        "_resize": timed(imaging._resize, resample),
        "_upright_srgb": timed(imaging._upright_srgb, lambda *a, **k: "colour, upright"),
        "_encode_preview": timed(imaging._encode_preview, lambda *a, **k: "preview encode"),
        "_encode": timed(imaging._encode, lambda *a, **k: "thumbnail encode"),
        "_thumbhash": timed(imaging._thumbhash, lambda *a, **k: "placeholder"),
        "read_metadata": timed(imaging.read_metadata, lambda *a, **k: "metadata"),
    }
    originals = {name: getattr(imaging, name) for name in wrapped}
    try:
        for name, fn in wrapped.items():
            setattr(imaging, name, fn)
        yield events
    finally:
        for name, fn in originals.items():
            setattr(imaging, name, fn)


def bench_stages(groups: dict[str, list[Path]], runs: int) -> dict[str, dict[str, float]]:
    """Print, for each JPEG size, the median ms of each stage and of the whole analysis."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"\nWhere a JPEG's time goes, one core, median ms per image over {runs} runs of each "
          "file (each stage timed inside the pipeline; other: sniffing, parsing, buffers):")
    print("  (YCbCr planes: the native call that decodes the planes and makes the preview JPEG and"
          " the thumbnail's pixels; the stages after it are those of files it does not take)")
    widths = [max(len(name), 6) for name in (*STAGES, "other", "total")]
    w = max([14, *(len(label) for label in groups if label.startswith("JPEG"))])
    print(f"  {'input':<{w}} " + " ".join(
        f"{name:>{w}}" for name, w in zip((*STAGES, "other", "total"), widths, strict=True)))
    table: dict[str, dict[str, float]] = {}
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
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return table


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


def bench_memory(path: Path, runs: int) -> None:
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
          f"max {max(growths):.1f} MiB (goal < 40 MiB)")


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
    if args.rss_probe:
        rss_probe(args.rss_probe)
        return
    webp = imaging._webp_decoder()
    print(f"Pillow {Image.__version__ if hasattr(Image, '__version__') else ''}, libvips "
          f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, libwebp "
          f"{webp.version if webp else 'not callable'}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp)
            print("Generating a photo-like corpus…", file=sys.stderr)
            generate_corpus(corpus, camera_weight=args.camera_weight)
        files = [p for p in corpus.iterdir() if p.is_file()]
        groups = bench_formats(files, args.runs)
        bench_stages(groups, args.runs)
        jpegs = sorted(
            (p for label, paths in groups.items() if label.startswith("JPEG") for p in paths),
            key=lambda p: Image.open(p).width * Image.open(p).height,
        )
        if jpegs:
            bench_memory(jpegs[-1], 3)
            twelve = [p for p in jpegs if 10e6 < Image.open(p).width * Image.open(p).height < 14e6]
            bench_throughput(twelve or jpegs, args.batch)


if __name__ == "__main__":
    main()
