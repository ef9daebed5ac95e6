"""Images generated for tests: Pillow writes EXIF dates and orientations."""

from __future__ import annotations

import io

from PIL import Image

EXIF_IFD = 0x8769


def jpeg(
    *,
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 40, 40),
    date_original: str | None = None,
    offset_original: str | None = None,
    date_time: str | None = None,
    orientation: int | None = None,
    marker: bool = False,
    quality: int = 90,
) -> bytes:
    """A JPEG with the given EXIF fields; `marker` paints the top-left quarter green."""
    im = Image.new("RGB", size, color)
    if marker:
        im.paste((0, 255, 0), (0, 0, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    if date_original:
        exif.get_ifd(EXIF_IFD)[0x9003] = date_original
    if offset_original:
        exif.get_ifd(EXIF_IFD)[0x9011] = offset_original
    if date_time:
        exif[0x0132] = date_time
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), quality=quality)
    return out.getvalue()


def png(*, size: tuple[int, int] = (64, 48), mode: str = "RGBA") -> bytes:
    """A PNG in the given mode."""
    im = Image.new(mode, size)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def webp(*, size: tuple[int, int] = (64, 48)) -> bytes:
    """A WebP."""
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "WEBP")
    return out.getvalue()


def noisy_jpeg(*, size: tuple[int, int] = (1600, 1200), quality: int = 95) -> bytes:
    """A JPEG of noise: large for its size, so it arrives in many chunks."""
    im = Image.merge("RGB", [Image.effect_noise(size, 60).convert("L") for _ in range(3)])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()
