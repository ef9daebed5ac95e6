"""The image libraries' process-wide settings, applied once at start-up by `configure()`.

Nothing here runs on import: the app, the command line and the tests call `configure()` before
the first image is opened.
"""

from __future__ import annotations

import logging
import warnings

import pillow_heif
import pyvips
from PIL import Image, ImageFile

DEFAULT_MAX_PIXELS = 100_000_000
"""Pillow's own decompression-bomb limit when start-up does not give one."""


def configure(*, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Set up Pillow, its HEIF plugin and libvips for decoding strangers' files.

    Safe to call more than once. `analyse` checks its own pixel cap from each header as well:
    Pillow's limit set here is a second guard for every other opening of an image.

    Args:
        max_pixels: Images with more pixels are refused by Pillow as decompression bombs.
    """
    # A truncated file is an error, never a half-grey thumbnail.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    # Over the pixel cap is an error, never only a warning.
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    # HEIC/HEIF through libheif. Embedded thumbnails stay visible to `draft()`, which picks one
    # when it is large enough; depth maps and auxiliary images are never decoded.
    pillow_heif.register_heif_opener(thumbnails=True, depth_images=False, aux_images=False)
    # libvips: every upload is decoded once, so its operation cache would only hold memory; one
    # thread per operation, as uploads are already spread over the cores by the ingest slots;
    # no loader that libvips marks as unsafe for untrusted input (only named loaders are called
    # anyway); its informational messages are not the app's.
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    pyvips.block_untrusted_set(True)
    logging.getLogger("pyvips").setLevel(logging.WARNING)
