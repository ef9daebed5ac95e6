"""The libwebp binding: scaled decodes into the caller's memory, every failure a ValueError."""

import pytest
from PIL import Image, _imagingmath, _webp

from imgstream.services.libwebp import WebPDecoder
from tests import images


@pytest.fixture(scope="module")
def decoder():
    return WebPDecoder(_webp.__file__)


def halves(size=(400, 200)) -> Image.Image:
    """Left half blue, right half yellow."""
    im = Image.new("RGB", size, (20, 40, 230))
    im.paste((240, 220, 10), (size[0] // 2, 0, size[0], size[1]))
    return im


def decode(decoder, data: bytes, size: tuple[int, int]) -> Image.Image:
    out = bytearray(size[0] * size[1] * 4)
    decoder.decode_rgba(data, size, memoryview(out))
    return Image.frombytes("RGBA", size, bytes(out))


def test_reports_the_library_version(decoder):
    major, minor, _ = (int(part) for part in decoder.version.split("."))
    assert (major, minor) >= (0, 5)


@pytest.mark.parametrize("lossless", [False, True], ids=["lossy", "lossless"])
@pytest.mark.parametrize("size", [(400, 200), (100, 50), (37, 19)])
def test_decodes_rescaled_to_the_requested_size(decoder, lossless, size):
    data = images.encode(halves(), "WEBP", quality=95, lossless=lossless)
    out = decode(decoder, data, size)
    left = out.getpixel((size[0] // 8, size[1] // 2))
    right = out.getpixel((size[0] - 1 - size[0] // 8, size[1] // 2))
    assert left[2] > 200 and left[0] < 60 and left[3] == 255, left
    assert right[0] > 200 and right[2] < 60 and right[3] == 255, right


def test_keeps_alpha(decoder):
    im = halves().convert("RGBA")
    im.putalpha(0)
    im.paste((20, 40, 230, 255), (0, 0, 200, 200))  # only the left half is visible
    out = decode(decoder, images.encode(im, "WEBP", lossless=True), (100, 50))
    assert out.getpixel((10, 25))[3] == 255 and out.getpixel((90, 25))[3] == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(64), "damaged|truncated"),
        (b"not a webp at all" * 8, "damaged"),
        (None, "truncated"),
    ],
    ids=["bad-bitstream", "not-webp", "truncated"],
)
def test_bad_data_is_a_value_error_that_says_why(decoder, data, reason):
    if data is None:
        whole = images.encode(images.photo_like((400, 200)), "WEBP")
        data = whole[: len(whole) // 2]
    with pytest.raises(ValueError, match=reason):
        decode(decoder, data, (100, 50))


def test_animations_are_refused(decoder):
    frames = [Image.new("RGB", (64, 48), color) for color in ("red", "blue")]
    data = images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="not support"):
        decode(decoder, data, (32, 24))


def test_the_output_memory_must_match_the_size_and_be_writable(decoder):
    data = images.encode(halves(), "WEBP")
    with pytest.raises(ValueError, match="buffer"):
        decoder.decode_rgba(data, (100, 50), memoryview(bytearray(100 * 50 * 4 - 1)))
    with pytest.raises(ValueError, match="buffer"):
        decoder.decode_rgba(data, (100, 50), memoryview(bytes(100 * 50 * 4)))


def test_a_library_without_libwebp_is_refused():
    with pytest.raises(OSError):
        WebPDecoder("/nonexistent/libwebp.so")
    with pytest.raises(AttributeError):
        WebPDecoder(_imagingmath.__file__)  # a shared object that has nothing of libwebp
