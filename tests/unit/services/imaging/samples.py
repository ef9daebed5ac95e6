"""Images and helpers the imaging tests share."""

import io
import struct

from PIL import Image, ImageDraw, ImageFile

from imgstream.services import imaging
from tests import images


def analyse_bytes(tmp_path, data: bytes, **kwargs) -> imaging.ImageAnalysis:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    kwargs.setdefault("thumbnail_size", 400)
    kwargs.setdefault("preview_size", 1440)
    kwargs.setdefault("max_pixels", 100_000_000)
    return imaging.analyse(path, **kwargs)


def decoded(derivative: imaging.Derivative) -> Image.Image:
    im = Image.open(io.BytesIO(derivative.data))
    assert im.format == derivative.format.pillow
    assert im.size == (derivative.width, derivative.height)
    return im


def assert_upright(im: Image.Image) -> None:
    """The marker is top-left and the body bottom-right: the image is shown upright."""
    rgb = im.convert("RGB")
    w, h = rgb.size
    r, g, b = rgb.getpixel((w // 8, h // 8))
    assert g > 180 and r < 90, ("marker not top-left", (r, g, b))
    r, g, b = rgb.getpixel((w - 1 - w // 8, h - 1 - h // 8))
    assert r > 140 and g < 100, ("body not bottom-right", (r, g, b))
    r, g, b = rgb.getpixel((w - 1 - w // 8, h // 8))
    assert r > 140 and g < 100, ("body not top-right", (r, g, b))


MARKED = images.marked((80, 40))
FORMAT_SAMPLES = {
    "JPEG": lambda im, **kw: images.encode(im, "JPEG", quality=95, **kw),
    "PNG": lambda im, **kw: images.encode(im, "PNG", **kw),
    "WEBP": lambda im, **kw: images.encode(im, "WEBP", quality=95, **kw),
    "GIF": lambda im, **kw: images.encode(im, "GIF", **kw),
    "HEIC": lambda im, **kw: images.heic(im, **kw),
    "AVIF": lambda im, **kw: images.avif(im, **kw),
}


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def draw_quadrants(im: Image.Image) -> None:
    w, h = im.size
    draw = ImageDraw.Draw(im)
    for (x, y), colour in zip(
        ((0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)),
        ((220, 30, 30), (30, 200, 40), (40, 60, 210), (240, 220, 40)),
        strict=True,
    ):
        draw.rectangle((x + w // 8, y + h // 8, x + w // 2 - w // 8, y + h // 2 - h // 8),
                       fill=colour)


def analyse_without_pillow_decoding(tmp_path, monkeypatch, data: bytes, **kwargs):
    """Analyse, failing if Pillow decodes any pixels of the upload."""

    def load(self):
        raise AssertionError(f"Pillow decoded the {self.format} pixels")

    with monkeypatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", load)
        return analyse_bytes(tmp_path, data, **kwargs)


def png_with_exif_after_pixels(im: Image.Image, exif: bytes) -> bytes:
    data = images.encode(im, "PNG", exif=exif)
    chunks, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        chunks.append(data[at:at + 12 + length])
        at += 12 + length
    late = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] not in (b"eXIf", b"IEND")]
    assert late and chunks[-1][4:8] == b"IEND"
    return data[:8] + b"".join(rest + late + chunks[-1:])
