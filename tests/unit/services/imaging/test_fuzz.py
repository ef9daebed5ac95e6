"""Mutated images: whatever the bytes, only the domain error escapes, in bounded time and memory."""

import io
import time

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imgstream.services import imaging
from tests import images

SEEDS = {
    "JPEG": images.encode(images.photo_like((96, 64)), "JPEG", quality=80,
                          exif=images.exif_bytes(date_original="2021:05:01 10:30:00",
                                                 make="Canon", gps=(48.85, 2.29))),
    # A phone's JPEG: a wide-gamut profile converted to sRGB, and turned.
    "JPEG-P3": images.encode(images.photo_like((96, 64)), "JPEG", quality=80,
                             icc_profile=images.display_p3_profile(),
                             exif=images.exif_bytes(orientation=6)),
    # Decoded at half scale (DCT scaling), progressive, turned.
    "JPEG-planes": images.encode(images.photo_like((300, 200)), "JPEG", quality=80,
                                 progressive=True, exif=images.exif_bytes(orientation=8)),
    "JPEG-422": images.encode(images.photo_like((150, 100)), "JPEG", quality=80,
                              subsampling=1, exif=images.exif_bytes(orientation=3)),
    "PNG": images.encode(images.photo_like((64, 48)), "PNG"),
    "WEBP": images.encode(images.photo_like((64, 48)), "WEBP"),
    "GIF": images.encode(images.photo_like((64, 48)), "GIF"),
    "HEIC": images.heic(images.photo_like((64, 48))),
    "AVIF": images.avif(images.photo_like((64, 48))),
    # Larger than the preview size below: decoded scaled by libwebp, streamed by libvips.
    "WEBP-scaled": images.encode(images.photo_like((200, 150)), "WEBP"),
    "WEBP-alpha-scaled": images.encode(images.translucent((200, 150)), "WEBP", lossless=True),
    "PNG-streamed": images.encode(images.photo_like((200, 150)), "PNG"),
}
MAX_PIXELS = 4_000_000
SECONDS_PER_FILE = 2.0
RSS_GROWTH_LIMIT = 200 * 2**20


@st.composite
def mutated(draw):
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "int"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif action == "int" and len(data) > at + 4:
            # Large values in size and offset fields are where parsers go wrong.
            data[at:at + 4] = draw(st.sampled_from(
                [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x01\x00\x00"]
            ))
    return bytes(data)


@pytest.fixture(scope="module")
def rss_baseline():
    return psutil.Process().memory_info().rss


@pytest.mark.timeout(300)
@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_images_only_raise_the_domain_error(tmp_path, rss_baseline, data):
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        result = imaging.analyse(path, thumbnail_size=64, preview_size=128, max_pixels=MAX_PIXELS)
    except imaging.UnsupportedImage as exc:
        assert str(exc)
    else:
        assert Image.open(io.BytesIO(result.thumbnail.data)).format == "WEBP"
    assert time.perf_counter() - start < SECONDS_PER_FILE
    assert psutil.Process().memory_info().rss - rss_baseline < RSS_GROWTH_LIMIT


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exif=st.binary(max_size=600))
def test_random_exif_never_refuses_a_good_image(tmp_path, exif):
    path = tmp_path / "exif.jpg"
    path.write_bytes(images.encode(Image.new("RGB", (32, 24), (9, 9, 9)), "JPEG",
                                   exif=b"Exif\x00\x00" + exif))
    result = imaging.analyse(path, thumbnail_size=64, preview_size=128, max_pixels=MAX_PIXELS)
    assert (result.width, result.height) in ((32, 24), (24, 32))
