"""The imaging bench's corpus: photo-like images generated as cameras and phones write them,
and any directory of images grouped by format, size, colour profile and orientation."""

from __future__ import annotations

import io
import random
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw, ImageFilter

from imgstream.services import imaging
from tests import images

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



def group_files(files: list[Path]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {}
    for path in sorted(files):
        label = label_of(path)
        if label:
            groups.setdefault(label, []).append(path)
    return groups
