"""Pixels made ready to show: 8-bit, sRGB (from the embedded ICC profile) and upright."""

from __future__ import annotations

import functools
import io
import logging

import pyvips
from PIL import Image, ImageCms

log = logging.getLogger(__name__)

_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_PROFILE_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)


def normalise_mode(im: Image.Image, icc: bytes | None) -> Image.Image:
    """An 8-bit RGB, RGBA or L image; 16-bit values are scaled, never clipped."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L"):
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit samples fill 0..65535; a plain convert would clip everything above 255.
        return im.point(lambda v: v / 257).convert("L")
    if mode == "CMYK":
        return to_srgb(im, icc) if icc else im.convert("RGB")
    if mode in ("P", "PA") and (im.has_transparency_data or mode == "PA"):
        return im.convert("RGBA")
    if mode in ("LA", "La", "RGBa", "RGBX", "RGBA;16B"):
        return im.convert("RGBA") if "A" in mode or "a" in mode else im.convert("RGB")
    return im.convert("RGB")


def is_srgb(icc: bytes | None) -> bool:
    """Whether RGB pixels under `icc` (None: no profile) need no conversion to be sRGB."""
    if icc is None:
        return True
    try:
        return _srgb_transform(icc, "RGB", "RGB") is None
    except _PROFILE_ERRORS:
        return False  # `to_srgb` says why it ignores the profile


def to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Pixels converted from the embedded ICC profile to sRGB; unchanged if it is unusable.

    An RGB or RGBA image is converted in place: callers pass pixels no one else reads.
    """
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    try:
        transform = _srgb_transform(icc, im.mode, out_mode)
    except _PROFILE_ERRORS:
        log.info("ignoring an unusable ICC profile")
        return im.convert(out_mode)
    if transform is None:
        return im if im.mode == out_mode else im.convert(out_mode)
    if im.mode == "RGB" and _libvips_to_srgb(im, icc):
        return im
    if im.mode == out_mode:
        # The pixels are this pipeline's own copy: converted where they lie, no new image.
        ImageCms.applyTransform(im, transform, inPlace=True)
        return im
    return ImageCms.applyTransform(im, transform)


def _libvips_to_srgb(im: Image.Image, icc: bytes) -> bool:
    """Convert RGB pixels to sRGB in place with libvips; False when it cannot.

    Both run Little CMS, to within 1/255 of each other, but libvips hands it packed 3-byte
    pixels: Pillow's 4-byte ones, with a padding byte carried through as if it were alpha, make
    the same conversion about a quarter slower, more than the copy to libvips and back.
    """
    vi = pyvips.Image.new_from_memory(im.tobytes(), im.width, im.height, 3, "uchar").copy()
    vi.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    try:
        srgb = vi.icc_transform("srgb", embedded=True, intent="perceptual")
        if srgb.bands != 3 or srgb.format != "uchar":
            return False
        im.frombytes(srgb.write_to_memory())
    except pyvips.Error:
        return False
    return True


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """The conversion from `icc` to sRGB, or None when the profile already is sRGB.

    Little CMS's one-pixel cache is off: neighbouring pixels of a photo rarely repeat exactly,
    so it only costs a comparison a pixel (the values are the same either way).
    """
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if in_mode != "CMYK" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
        return None
    return ImageCms.buildTransform(
        source, _srgb_profile(), in_mode, out_mode,
        renderingIntent=ImageCms.Intent.PERCEPTUAL, flags=ImageCms.Flags.NOCACHE,
    )


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def upright_srgb(im: Image.Image, icc: bytes | None, orientation: int) -> Image.Image:
    """The image in sRGB (from its ICC profile, if any) and turned upright, with no info."""
    if icc:
        im = to_srgb(im, icc)
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        im = im.transpose(transpose)
    im.info = {}
    return im
