"""What is refused, and how."""

import inspect
import resource
import time

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from imgstream.services import imaging
from tests import images
from tests.unit.services.imaging.samples import (
    analyse_bytes,
    truncated,
)

# Refusals


def png_text_bomb() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * (8 * 1024 * 1024), zip=True)
    return images.encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)


NOT_ACCEPTED = "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image"
PHOTO = images.photo_like((400, 300))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff", NOT_ACCEPTED),
        (b"\xff\xd8\xff", "damaged"),
        (b"just some text that ends in .jpg", NOT_ACCEPTED),
        (truncated(images.encode(PHOTO, "JPEG")), "truncated"),
        (truncated(images.encode(PHOTO, "PNG")), "truncated|damaged"),
        (truncated(images.encode(PHOTO, "WEBP")), "truncated|damaged"),
        (truncated(images.encode(PHOTO, "GIF")), "truncated|damaged"),
        (truncated(images.heic(PHOTO)), "truncated|damaged"),
        (truncated(images.avif(PHOTO)), "truncated|damaged"),
        (images.encode(PHOTO, "TIFF"), NOT_ACCEPTED),
        (images.encode(PHOTO, "BMP"), NOT_ACCEPTED),
        (images.encode(PHOTO, "PDF"), NOT_ACCEPTED),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", NOT_ACCEPTED),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", NOT_ACCEPTED),
        (png_text_bomb(), "damaged"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 40, "damaged"),
    ],
)
def test_bad_input_is_one_domain_error(tmp_path, data, reason):
    with pytest.raises(imaging.UnsupportedImage, match=reason):
        analyse_bytes(tmp_path, data)


def test_formats_not_allowed_never_reach_pillow(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a))
    for data in (images.encode(PHOTO, "TIFF"), b"%!PS-Adobe-3.0 EPSF-3.0\n",
                 images.encode(PHOTO, "BMP")):
        with pytest.raises(imaging.UnsupportedImage):
            analyse_bytes(tmp_path, data)
    assert opened == []


@pytest.mark.parametrize(
    "bomb",
    [
        images.png_header_only(20000, 20000),  # over 2x Pillow's own limit
        images.png_header_only(10000, 10000),  # between 1x and 2x: Pillow only warns
        images.png_header_only(7100, 7100),  # under Pillow's limit, over the app's cap
        images.jpeg_header_only(60000, 60000),
        images.gif_header_only(65535, 65535),
        images.webp_header_only(16000, 16000),
    ],
    ids=["png-400MP", "png-100MP", "png-50MP", "jpeg-3600MP", "gif-4300MP", "webp-256MP"],
)
def test_decompression_bombs_are_refused_before_decoding(tmp_path, bomb):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(imaging.UnsupportedImage, match="megapixels"):
        analyse_bytes(tmp_path, bomb, max_pixels=50_000_000)
    assert time.perf_counter() - start < 1
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024, "no pixel buffer was allocated"


def test_pixel_cap_counts_exactly(tmp_path):
    ok = images.encode(Image.new("L", (1000, 1000)), "PNG")
    analyse_bytes(tmp_path, ok, max_pixels=1_000_000)
    with pytest.raises(imaging.UnsupportedImage, match="megapixels"):
        analyse_bytes(tmp_path, ok, max_pixels=999_999)


def test_absurd_gif_frame_count_is_refused_quickly(tmp_path):
    start = time.perf_counter()
    with pytest.raises(imaging.UnsupportedImage, match="frames"):
        analyse_bytes(tmp_path, images.gif_header_only(10, 10, frames=200_000))
    assert time.perf_counter() - start < 1


def test_gif_total_pixels_over_all_frames_are_capped(tmp_path):
    # 40 frames of 5000x5000: each frame is under the cap, together 1 gigapixel.
    with pytest.raises(imaging.UnsupportedImage, match="in all"):
        analyse_bytes(tmp_path, images.gif_header_only(5000, 5000, frames=41))


def test_animated_webp_frame_count_is_capped(tmp_path):
    frames = [Image.new("RGB", (2, 2), (i % 256, 0, 0)) for i in range(imaging.MAX_FRAMES + 1)]
    data = images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                         lossless=True, duration=1)
    with pytest.raises(imaging.UnsupportedImage, match="frames"):
        analyse_bytes(tmp_path, data)


def pillow_exception_classes() -> set[type[BaseException]]:
    found = set()
    modules = [m for name, m in list(__import__("sys").modules.items())
               if name.startswith(("PIL", "pillow_heif")) and m is not None]
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith(
                    ("PIL", "pillow_heif")):
                found.add(value)
    return found


def test_every_pillow_exception_class_becomes_the_domain_error():
    import PIL.Image  # noqa: F401
    from PIL import features

    for plugin in ("JpegImagePlugin", "PngImagePlugin", "WebPImagePlugin", "GifImagePlugin",
                   "AvifImagePlugin", "ImageCms", "ImageFile", "TiffImagePlugin"):
        __import__(f"PIL.{plugin}")
    classes = pillow_exception_classes()
    assert PIL.UnidentifiedImageError in classes and ImageCms.PyCMSError in classes
    assert features.check("avif")
    missing = [cls for cls in classes if not issubclass(cls, imaging.DECODE_ERRORS)]
    assert missing == []

