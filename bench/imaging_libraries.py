"""What each image library saves the pipeline, and what the thumbnails' WebP effort trades."""

from __future__ import annotations

import contextlib
import io
import math
import statistics
import types
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image

from bench.imaging_common import (
    CLOCK,
    MAX_PIXELS,
    PREVIEW,
    THUMBNAIL,
    interleaved,
    median_ms,
    ours,
    pinned_to_one_core,
)
from imgstream.services import imaging
from imgstream.services.imaging import derivatives

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
