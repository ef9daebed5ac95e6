"""What an image looks like, in small numbers: a perceptual hash and its dominant colours.

The hash is a 64-bit difference hash (the `dhash` of the imagehash package, bit for bit: is each
pixel of a 9x8 grey copy brighter than its right neighbour) of the image's thumbnail: copies
that were resized, recompressed or lightly edited land a few bits apart, unlike the SHA-256 of
the file. On the test images the DCT hash (`phash`) moved up to 20 bits for a mere resize of
smooth images, where the difference hash moved 0 to 3.
Both are computed from the derivative thumbnail, so a photo's stored hash and the hash of an
image analysed later are made the same way.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

HASH_BITS = 64
_HASH_SIZE = 8
PALETTE_SIZE = 5


@dataclass(frozen=True, slots=True)
class Colour:
    """A dominant colour and the share of the image it covers (0 to 1)."""

    hex: str
    share: float


def _open(image: bytes | Image.Image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    im = Image.open(io.BytesIO(image))
    im.load()
    return im


def perceptual_hash(image: bytes | Image.Image) -> str:
    """The image's 64-bit perceptual hash, as 16 hex digits.

    Args:
        image: A decoded image, or the bytes of a small one (a thumbnail).

    Returns:
        The hash.
    """
    # Pillow alone: the grey copy is 72 pixels, so the comparisons need no array library
    # (which would load at import, with process-wide warning filters of its own).
    side = _HASH_SIZE
    grey = _open(image).convert("L").resize((side + 1, side), Image.Resampling.LANCZOS).tobytes()
    bits = 0
    for y in range(side):
        row = grey[y * (side + 1):(y + 1) * (side + 1)]
        for x in range(side):
            bits = bits << 1 | (row[x + 1] > row[x])
    return f"{bits:0{HASH_BITS // 4}x}"


def hash_distance(a: str, b: str) -> int:
    """How many of the 64 bits two perceptual hashes differ in (0: look the same)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def dominant_colours(image: bytes | Image.Image, *, count: int = PALETTE_SIZE) -> list[Colour]:
    """The image's main colours, most common first (median cut on a small copy).

    Args:
        image: A decoded image, or the bytes of a small one (a thumbnail).
        count: How many colours at most.

    Returns:
        The colours with their shares.
    """
    im = _open(image).convert("RGB")
    im.thumbnail((128, 128))
    quantised = im.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    pixels = im.width * im.height
    found = sorted(quantised.getcolors(maxcolors=count) or [], reverse=True)
    return [
        Colour(hex="#{:02x}{:02x}{:02x}".format(*palette[index * 3:index * 3 + 3]),
               share=round(used / pixels, 3))
        for used, index in found
    ]
