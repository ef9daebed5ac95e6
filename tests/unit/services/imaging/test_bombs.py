"""A decompression bomb in every format the app accepts is refused before anything is decoded.

Each bomb is a small file whose header declares a huge canvas: the refusal must come from the
declared size, quickly and without allocating a pixel buffer. TIFF is not accepted at all, so a
TIFF bomb is refused as an unsupported format.
"""

from __future__ import annotations

import resource
import struct
import time

import pytest

from imgstream.services import imaging
from tests import images
from tests.unit.services.imaging.samples import analyse_bytes

SMALL = images.photo_like((64, 48))
MAX_PIXELS = 50_000_000


def _patch_ispe(data: bytes, width: int, height: int) -> bytes:
    """A HEIF/AVIF whose every `ispe` (image spatial extents) box declares another size."""
    out = bytearray(data)
    start, patched = 0, 0
    while (at := out.find(b"ispe", start)) != -1:
        out[at + 8:at + 16] = struct.pack(">II", width, height)
        start, patched = at + 4, patched + 1
    assert patched, "the encoder wrote no ispe box"
    return bytes(out)


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A real, complete JPEG whose frame header (SOF0) declares another size."""
    out = bytearray(images.encode(SMALL, "JPEG", quality=80))
    sof = out.find(b"\xff\xc0")
    out[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(out)


def _tiff_declaring(width: int, height: int) -> bytes:
    """A little-endian TIFF whose one IFD declares a huge single-strip image."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (279, 4, 1, width * height)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", *entry) for entry in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd


PIXEL_CAP = "megapixels"
# libheif checks the declared extents of a HEIC against its coded picture (and its own security
# limits) before decoding and refuses the file as damaged: refused all the same, as early.
HEIF_REFUSAL = "megapixels|damaged"

BOMBS = {
    "jpeg-header-only": (images.jpeg_header_only(60000, 60000), PIXEL_CAP),
    "jpeg-whole-file-lying": (_jpeg_declaring(40000, 40000), PIXEL_CAP),
    "png": (images.png_header_only(20000, 20000), PIXEL_CAP),
    "webp": (images.webp_header_only(16000, 16000), PIXEL_CAP),
    "gif": (images.gif_header_only(65535, 65535), PIXEL_CAP),
    "heic-144MP": (_patch_ispe(images.heic(SMALL), 12000, 12000), HEIF_REFUSAL),
    "heic-900MP": (_patch_ispe(images.heic(SMALL), 30000, 30000), HEIF_REFUSAL),
    "avif-144MP": (_patch_ispe(images.avif(SMALL), 12000, 12000), PIXEL_CAP),
    "avif-900MP": (_patch_ispe(images.avif(SMALL), 30000, 30000), HEIF_REFUSAL),
}


@pytest.mark.parametrize(("bomb", "refusal"), BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_in_every_accepted_format_is_refused_before_decoding(tmp_path, bomb, refusal):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(imaging.UnsupportedImage, match=refusal):
        analyse_bytes(tmp_path, bomb, max_pixels=MAX_PIXELS)
    assert time.perf_counter() - start < 1
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024, "no pixel buffer was allocated"


def test_a_tiff_bomb_is_refused_as_a_format_the_app_does_not_accept(tmp_path):
    with pytest.raises(imaging.UnsupportedImage, match="not a JPEG"):
        analyse_bytes(tmp_path, _tiff_declaring(30000, 30000), max_pixels=MAX_PIXELS)
