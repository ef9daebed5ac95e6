"""Images generated for tests: Pillow and pillow-heif write EXIF dates, orientations, GPS."""

from __future__ import annotations

import io
import os
import struct
import zlib
from fractions import Fraction

import pillow_heif
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

EXIF_IFD = 0x8769
GPS_IFD = 0x8825

pillow_heif.register_heif_opener()

# What each orientation's reader must do to the stored pixels to show them upright, inverted:
# storing `displayed.transpose(INVERSE[o])` with Orientation=o must display `displayed`.
INVERSE_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
MARKER = (0, 255, 0)
BODY = (200, 40, 40)


def exif_bytes(
    *,
    date_original: str | None = None,
    offset_original: str | None = None,
    date_digitized: str | None = None,
    offset_digitized: str | None = None,
    date_time: str | None = None,
    offset_time: str | None = None,
    orientation: int | None = None,
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
    focal_length: float | None = None,
    f_number: float | None = None,
    exposure: Fraction | None = None,
    iso: int | None = None,
    gps: tuple[float, float] | None = None,
) -> bytes:
    """EXIF with the given tags in the IFDs where cameras write them."""
    exif = Image.Exif()
    sub = exif.get_ifd(EXIF_IFD)
    if exposure is not None:
        exposure = IFDRational(exposure.numerator, exposure.denominator)
    for tag, value in [
        (0x9003, date_original), (0x9011, offset_original), (0x9004, date_digitized),
        (0x9012, offset_digitized), (0x9010, offset_time), (0xA434, lens),
        (0x920A, focal_length), (0x829D, f_number), (0x829A, exposure), (0x8827, iso),
    ]:
        if value is not None:
            sub[tag] = value
    for tag, value in [(0x0132, date_time), (0x0112, orientation), (0x010F, make),
                       (0x0110, model)]:
        if value is not None:
            exif[tag] = value
    if gps is not None:
        exif.get_ifd(GPS_IFD).update(gps_ifd(*gps))
    return exif.tobytes()


def gps_ifd(latitude: float, longitude: float) -> dict:
    """A GPS IFD as cameras write it: refs plus degree/minute/second rationals."""

    def dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 10000), 10000)
        return Fraction(degrees), Fraction(minutes), seconds

    return {
        1: "N" if latitude >= 0 else "S",
        2: dms(latitude),
        3: "E" if longitude >= 0 else "W",
        4: dms(longitude),
    }


def marked(size: tuple[int, int] = (80, 40)) -> Image.Image:
    """A red image whose top-left quarter is green: where the marker ends up shows rotation."""
    im = Image.new("RGB", size, BODY)
    im.paste(MARKER, (0, 0, size[0] // 2, size[1] // 2))
    return im


def photo_like(size: tuple[int, int]) -> Image.Image:
    """Smooth gradients with some structure: compresses like a photo, not like noise."""
    gradient = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    fractal = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60)
    return Image.merge("RGB", (gradient, Image.blend(radial, fractal, 0.4), fractal))


def translucent(size: tuple[int, int]) -> Image.Image:
    """A photo-like RGBA image fading from transparent at the top to opaque at the bottom."""
    im = photo_like(size).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize(size))
    return im


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    """Bytes of an image in a format (HEIF via pillow-heif)."""
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


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
    **exif,
) -> bytes:
    """A JPEG with the given EXIF fields; `marker` paints the top-left quarter green."""
    im = Image.new("RGB", size, color)
    if marker:
        im.paste((0, 255, 0), (0, 0, size[0] // 2, size[1] // 2))
    data = exif_bytes(date_original=date_original, offset_original=offset_original,
                      date_time=date_time, orientation=orientation, **exif)
    return encode(im, "JPEG", exif=data, quality=quality)


def png(*, size: tuple[int, int] = (64, 48), mode: str = "RGBA") -> bytes:
    """A PNG in the given mode."""
    return encode(Image.new(mode, size), "PNG")


def png_of_size(approx_bytes: int) -> bytes:
    """An RGB PNG of noise (it does not compress) of about `approx_bytes` bytes."""
    side = int((approx_bytes / 3) ** 0.5)
    im = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    return encode(im, "PNG", compress_level=1)


def webp(*, size: tuple[int, int] = (64, 48)) -> bytes:
    """A WebP."""
    return encode(Image.new("RGB", size, (10, 120, 200)), "WEBP")


def noisy_jpeg(
    *, size: tuple[int, int] = (1600, 1200), quality: int = 95, date_original: str = ""
) -> bytes:
    """A JPEG of noise: large for its size, so it arrives in many chunks."""
    im = Image.merge("RGB", [Image.effect_noise(size, 60).convert("L") for _ in range(3)])
    exif = Image.Exif()
    if date_original:
        exif.get_ifd(EXIF_IFD)[0x9003] = date_original
    return encode(im, "JPEG", quality=quality, exif=exif.tobytes())


def heic(im: Image.Image, **params) -> bytes:
    """A HEIC made by libheif (x265)."""
    return encode(im, "HEIF", quality=90, **params)


def avif(im: Image.Image, **params) -> bytes:
    """An AVIF made by Pillow's libavif plugin."""
    return encode(im, "AVIF", quality=90, **params)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but holds almost no data (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def jpeg_header_only(width: int, height: int) -> bytes:
    """A JPEG whose SOF0 declares a size, with no scan data."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9")


def gif_header_only(width: int, height: int, frames: int = 1) -> bytes:
    """A GIF with a logical screen of the given size and `frames` 1x1 images."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0))
    out += b"\x00\x00\x00\xff\xff\xff"
    for _ in range(frames):
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    out += b"\x3b"
    return bytes(out)


def webp_header_only(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) whose canvas declares a size, with no image chunk."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(
        3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def rgb_icc_profile(
    primaries: list[tuple[float, float, float]],
    gamma: float = 2.2,
    description: str = "Swapped test primaries",
) -> bytes:
    """A minimal ICC v2 RGB display profile with the given D50 primaries (X, Y, Z per channel).

    Swapping primaries gives a profile whose "red" is another colour, so a conversion to sRGB
    that really happened is plain to see.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    def text_desc(text: str) -> bytes:
        raw = text.encode("ascii") + b"\0"
        return (b"desc" + b"\0" * 4 + struct.pack(">I", len(raw)) + raw + b"\0" * 4
                + b"\0" * 4 + b"\0" * 3 + b"\0" * 67)

    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", round(gamma * 256))
    tags = [
        (b"desc", text_desc(description)),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*primaries[0])),
        (b"gXYZ", xyz(*primaries[1])),
        (b"bXYZ", xyz(*primaries[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"none\0"),
    ]
    table = bytearray()
    data = bytearray()
    offset = 128 + 4 + 12 * len(tags)
    for sig, body in tags:
        while len(body) % 4:
            body += b"\0"
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + b"\x02\x10\x00\x00" + b"mntr" + b"RGB "
              + b"XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4
              + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 48)
    assert len(header) == 128, len(header)
    return bytes(header + struct.pack(">I", len(tags)) + table + data)


DISPLAY_P3_D50_PRIMARIES = [
    (0.5151, 0.2412, -0.0011),
    (0.2920, 0.6922, 0.0419),
    (0.1571, 0.0666, 0.7841),
]
"""Display P3's primaries as its profiles state them: the wide gamut phones shoot in."""


def display_p3_profile() -> bytes:
    """A Display P3 profile as phones embed it (with a 2.2 tone curve for the sRGB one)."""
    return rgb_icc_profile(DISPLAY_P3_D50_PRIMARIES, description="Display P3")


SRGB_D50_PRIMARIES = [
    (0.4361, 0.2225, 0.0139),
    (0.3851, 0.7169, 0.0971),
    (0.1431, 0.0606, 0.7141),
]
