"""What an upload may not be: too many pixels or frames, or anything a decoder chokes on.

Every cap is checked from headers before a pixel is decoded, and every exception a decoder
raises for bad input is named here, to become one `UnsupportedImage` that says why.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

import pyvips
from PIL import Image, ImageCms, UnidentifiedImageError

from imgstream.services.imaging.formats import UnsupportedImage

MAX_FRAMES = 500
"""Animated images with more frames are refused; only the first frame is ever decoded."""
MAX_ANIMATION_PIXELS = 1_000_000_000
"""Refused above this many pixels over all frames: a browser plays the original."""

# Every exception class Pillow, libheif or libvips raise for bad input. A test walks Pillow's
# modules and checks each class it defines is covered here.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    ImageCms.PyCMSError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    NotImplementedError,
    MemoryError,
    AttributeError,
    pyvips.Error,
)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse an image over the pixel cap, from the size its header gives."""
    if size[0] * size[1] > max_pixels:
        raise Image.DecompressionBombError(f"{size[0]}x{size[1]}")


def reason(exc: BaseException) -> str:
    """What is wrong with the file, for a person, from a decoder's exception."""
    text = str(exc).lower()
    # libjpeg: "Premature end of JPEG file" is a truncation; "Corrupt JPEG data: premature end
    # of data segment" is damage inside the file.
    cut = "truncated" in text or ("premature end" in text and "corrupt" not in text)
    if cut or isinstance(exc, EOFError):
        return "the file is incomplete (truncated)"
    return "the image data is damaged or unreadable"


def check_frames(frames: int, frame_pixels: int) -> None:
    """Refuse an animation with too many frames, or too many pixels over all of them."""
    if frames > MAX_FRAMES:
        raise UnsupportedImage(f"the image has more than {MAX_FRAMES} frames")
    if frames * frame_pixels > MAX_ANIMATION_PIXELS:
        raise UnsupportedImage(
            f"the animation has more than {MAX_ANIMATION_PIXELS / 1e6:.0f} megapixels in all"
        )


def count_gif_frames(fh: BinaryIO, *, max_pixels: int) -> int:
    """Count a GIF's frames from its block structure, refusing it past the caps.

    Pillow's `n_frames` walks every frame of a file first; this reads block headers only and
    stops as soon as the cap is passed, so a file of millions of empty frames costs little.
    """
    header = fh.read(13)
    if len(header) < 13:
        raise UnsupportedImage("the file is incomplete (truncated)")
    width, height, flags = struct.unpack("<HHB", header[6:11])
    check_pixels((width, height), max_pixels)
    if flags & 0x80:
        fh.seek(3 << ((flags & 7) + 1), io.SEEK_CUR)
    frames = 0
    while block := fh.read(1):
        if block == b"!":
            fh.read(1)
            _skip_gif_sub_blocks(fh)
        elif block == b",":
            descriptor = fh.read(9)
            if len(descriptor) < 9:
                break
            if descriptor[8] & 0x80:
                fh.seek(3 << ((descriptor[8] & 7) + 1), io.SEEK_CUR)
            fh.read(1)
            _skip_gif_sub_blocks(fh)
            frames += 1
            if frames > MAX_FRAMES:
                break
        else:
            break
    check_frames(frames, width * height)
    fh.seek(0)
    return frames


def _skip_gif_sub_blocks(fh: BinaryIO) -> None:
    while (length := fh.read(1)) and length[0]:
        fh.seek(length[0], io.SEEK_CUR)
