"""Previews, thumbnails and placeholders, all from one reduced decode of an upload.

The upload is decoded once, at the smallest size that still serves the largest derivative.

Pillow parses every header, checks the caps, reads the metadata, converts colour and encodes.
Pixels are decoded by whatever does it at reduced size: Pillow for JPEG (DCT-scaled, `draft()`),
HEIF (an embedded thumbnail when one is large enough) and the rest; libvips for large WebP
(rescaled by libwebp as it is decoded) and large PNG (rows streamed into a box reduction). The
SIMD resampler (fast_image_resize, through cykooz.resizer) takes what is left to the exact size.
"""

from __future__ import annotations

import base64
import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyvips
import thumbhash
from cykooz_resizer import FilterType, ResizeAlg, ResizeOptions, Resizer
from PIL import Image

from imgstream.services.imaging.colour import normalise_mode, upright_srgb
from imgstream.services.imaging.formats import (
    ACCEPTED_DESCRIPTION,
    GIF,
    JPEG,
    PNG,
    SELF_PREVIEW_FORMATS,
    WEBP,
    ImageFormat,
    UnsupportedImage,
    sniff_format,
)
from imgstream.services.imaging.limits import (
    DECODE_ERRORS,
    check_frames,
    check_pixels,
    count_gif_frames,
    reason,
)
from imgstream.services.imaging.metadata import (
    PhotoMetadata,
    TakenAt,
    png_exif_after_pixels,
    read_metadata,
)

THUMBHASH_EDGE = 32
"""Longest edge of the image a thumbhash is computed from. The format allows up to 100 px but
keeps at most 7 cosine terms an axis, which 32 px still sample well above their Nyquist rate: the
placeholders differ from those of 100 px by at most 7/255, at a ninth of the cost."""
PREVIEW_JPEG_QUALITY = 85
"""JPEG quality of previews (chroma 4:2:0)."""
WEBP_QUALITY = 82
"""WebP quality of thumbnails and of previews with transparency."""
WEBP_METHOD = 2
"""libwebp effort for WebP derivatives: 2-3x faster than the default 4, files about 5% larger."""
VIPS_MIN_EDGE = 4
"""Images with a shorter edge than this are never decoded by libvips (it needs filter room)."""
PREVIEW_FILTER = FilterType.bilinear
"""Resampling filter from a reduced decode to the preview (at most a factor of 2 left): as
sharp as Lanczos there, at about half the cost."""
THUMBNAIL_FILTER = FilterType.catmull_rom
"""Resampling filter for thumbnails: sharp in a grid at 2x density."""


_CLOCKWISE = {
    1: Image.Transpose.ROTATE_270,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_90,
}
"""Pillow's transposition for each number of quarter turns clockwise (Pillow turns
counter-clockwise)."""


@dataclass(frozen=True, slots=True)
class Derivative:
    """An image made from an original: no metadata, sRGB, 8-bit."""

    data: bytes
    format: ImageFormat
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    """What one decode of an uploaded image yields."""

    format: ImageFormat
    width: int
    height: int
    metadata: PhotoMetadata
    thumbnail: Derivative
    preview: Derivative | None
    """None when the original is shown as its own preview."""
    thumbhash: str
    """Base64 of the ThumbHash placeholder."""

    @property
    def taken_at(self) -> TakenAt | None:
        """When the photo was taken, if the EXIF says."""
        return self.metadata.taken_at

    @property
    def thumbnail_webp(self) -> bytes:
        """The thumbnail's bytes."""
        return self.thumbnail.data

    @property
    def thumbnail_width(self) -> int:
        """The thumbnail's width."""
        return self.thumbnail.width

    @property
    def thumbnail_height(self) -> int:
        """The thumbnail's height."""
        return self.thumbnail.height


def analyse(
    path: Path, *, thumbnail_size: int, preview_size: int, max_pixels: int,
    quarter_turns: int = 0,
) -> ImageAnalysis:
    """Validate an image file; read its metadata and make its derivatives from one decode.

    Args:
        path: The uploaded file.
        thumbnail_size: Longest edge of the thumbnail, in pixels.
        preview_size: Longest edge of the preview, in pixels.
        max_pixels: Images with more pixels than this are refused before decoding.
        quarter_turns: Quarter turns clockwise applied after the EXIF orientation (a
            person's rotation); the width and height returned include them.

    Returns:
        The analysis.

    Raises:
        UnsupportedImage: For anything that is not a complete, accepted image.
    """
    with path.open("rb") as fh:
        head = fh.read(64)
        if not head:
            raise UnsupportedImage("the file is empty")
        fmt = sniff_format(head)
        if fmt is None:
            raise UnsupportedImage(f"the file is not {ACCEPTED_DESCRIPTION}")
        fh.seek(0)
        try:
            frames = count_gif_frames(fh, max_pixels=max_pixels) if fmt is GIF else None
            return _analyse_open(
                fh, fmt, path=path, thumbnail_size=thumbnail_size, preview_size=preview_size,
                max_pixels=max_pixels, frames=frames, quarter_turns=quarter_turns % 4,
            )
        except UnsupportedImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UnsupportedImage(
                f"the image has more than {max_pixels / 1e6:.0f} megapixels"
            ) from exc
        except MemoryError as exc:
            raise UnsupportedImage("the image is too large to process") from exc
        except DECODE_ERRORS as exc:
            raise UnsupportedImage(reason(exc)) from exc


def _analyse_open(
    fh: BinaryIO,
    fmt: ImageFormat,
    *,
    path: Path,
    thumbnail_size: int,
    preview_size: int,
    max_pixels: int,
    frames: int | None,
    quarter_turns: int = 0,
) -> ImageAnalysis:
    # Opening reads the header only; Pillow checks its own pixel limit there, this the cap.
    with Image.open(fh, formats=[fmt.pillow]) as im:
        width, height = im.size
        check_pixels(im.size, max_pixels)
        if frames is None:
            frames = getattr(im, "n_frames", 1)
            check_frames(frames, width * height)
        icc = im.info.get("icc_profile") or None
        reduced = None
        if frames == 1 and max(width, height) > preview_size:
            # Too large to be its own preview whatever its metadata says, so the size to
            # decode to is known before the metadata is read.
            reduced = _libvips_reduced(path, fmt, im.mode, im.size, _fit(im.size, preview_size))
            if reduced is not None and fmt is PNG and "exif" not in im.info:
                # Without an eXIf chunk before the pixels, Pillow would decode the whole PNG
                # looking for one after them.
                im.info["exif"] = png_exif_after_pixels(fh)
        metadata = read_metadata(im)
        self_preview = (
            fmt in SELF_PREVIEW_FORMATS
            and max(width, height) <= preview_size
            and metadata.orientation == 1
            and frames == 1
            and im.mode in ("RGB", "RGBA", "L", "LA", "P")
            and metadata.gps is None
            and quarter_turns == 0
        )
        target = _fit((width, height), thumbnail_size if self_preview else preview_size)
        # Bilinear widens with the scale factor: for the factor of at most 2 left after a
        # reduced decode it is as sharp as Lanczos at about half the cost. A thumbnail made
        # straight from the decode gets the thumbnail filter.
        kernel = THUMBNAIL_FILTER if self_preview else PREVIEW_FILTER
        converted = False
        if reduced is not None:
            pixels = _from_vips(reduced)
        else:
            if target != (width, height):
                # JPEG: DCT scaling. HEIF: an embedded thumbnail at least as large as the
                # target, if it has one.
                im.draft(im.mode, target)
            im.load()
            # CMYK is converted to sRGB with its profile before resizing; other modes
            # after, on fewer pixels.
            converted = im.mode == "CMYK"
            pixels = normalise_mode(im, icc)
        base = upright_srgb(
            _resize(pixels, target, kernel), None if converted else icc, metadata.orientation
        )
        if quarter_turns:
            base = base.transpose(_CLOCKWISE[quarter_turns])
        preview = None if self_preview else _encode_preview(base)
        thumb_image = _resize(base, _fit(base.size, thumbnail_size), THUMBNAIL_FILTER)
        if (metadata.orientation >= 5) != (quarter_turns % 2 == 1):
            width, height = height, width
        return ImageAnalysis(
            format=fmt,
            width=width,
            height=height,
            metadata=metadata,
            thumbnail=_encode(thumb_image, WEBP),
            preview=preview,
            thumbhash=_thumbhash(thumb_image),
        )


def _libvips_reduced(
    path: Path, fmt: ImageFormat, mode: str, size: tuple[int, int], target: tuple[int, int]
) -> pyvips.Image | None:
    """A large single-image PNG or WebP, opened with libvips to be decoded at reduced size.

    A WebP is rescaled by libwebp as each row is decoded (alpha premultiplied meanwhile); a
    PNG's rows stream straight into an integer box reduction. Either way the full-size image
    never exists and at most a factor of 2 is left to resample. Nothing is decoded yet.

    Args:
        path: The file, already opened by Pillow (so its header and the caps are checked).
        fmt: Its format.
        mode: Its mode, as Pillow reads the header.
        size: Its size.
        target: The size the pixels are going to be resampled to.

    Returns:
        The lazy image, or None when libvips does not take this file (then Pillow decodes it,
        like any other format).
    """
    if min(*size, *target) < VIPS_MIN_EDGE:
        return None
    if fmt is WEBP and mode in ("RGB", "RGBA"):
        scale = max(target[0] / size[0], target[1] / size[1])
        vi = pyvips.Image.webpload(str(path), scale=scale, fail_on="error")
        bands, expected = (3, 4), (round(size[0] * scale), round(size[1] * scale))
    elif fmt is PNG and mode in ("RGB", "L"):
        vi = pyvips.Image.pngload(str(path), access="sequential", fail_on="error")
        bands, expected = (1, 3), size
    else:
        return None
    if vi.format != "uchar" or vi.bands not in bands or abs(vi.width - expected[0]) > 1 or abs(
        vi.height - expected[1]
    ) > 1:
        return None
    box = min(vi.width // target[0], vi.height // target[1])
    return vi.shrink(box, box) if box >= 2 else vi


def _from_vips(vi: pyvips.Image) -> Image.Image:
    """Run a libvips pipeline into a Pillow image (one copy, no conversion)."""
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[vi.bands]
    # Unpacked into an image left unfilled: `Image.frombuffer` cannot map 3-byte RGB rows, and
    # its fallback clears the whole image first.
    out = Image.new(mode, (vi.width, vi.height), None)
    out.frombytes(vi.write_to_memory())
    return out


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size with its long edge at most `longest`, aspect kept, never larger than it was."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


_resizers = threading.local()


def _resize(im: Image.Image, size: tuple[int, int], kernel: FilterType) -> Image.Image:
    """The image at `size`, resampled by convolution with `kernel` (widened to antialias).

    The SIMD resampler (AVX2 or SSE4.1 where the CPU has them) is several times faster than
    Pillow's; alpha is premultiplied while it works. It releases the GIL, so uploads resample
    in parallel.
    """
    if im.size == size:
        return im
    resizer = getattr(_resizers, "resizer", None)
    if resizer is None:
        resizer = _resizers.resizer = Resizer()
    out = Image.new(im.mode, size, None)  # every pixel is written: no fill
    resizer.resize_pil(im, out, ResizeOptions(resize_alg=ResizeAlg.convolution(kernel)))
    return out


def _has_alpha(im: Image.Image) -> bool:
    return im.mode == "RGBA" and im.getextrema()[3][0] < 255


def _encode_preview(im: Image.Image) -> Derivative:
    if _has_alpha(im):
        return _encode(im, WEBP)
    return _encode(im.convert("RGB") if im.mode != "RGB" else im, JPEG)


def _encode(im: Image.Image, fmt: ImageFormat) -> Derivative:
    """Encode without any metadata: no EXIF, GPS, ICC, XMP or comments reach a derivative."""
    im.info = {}
    out = io.BytesIO()
    if fmt is JPEG:
        im.save(out, "JPEG", quality=PREVIEW_JPEG_QUALITY, subsampling="4:2:0")
    else:
        im.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return Derivative(out.getvalue(), fmt, im.width, im.height)


def _thumbhash(im: Image.Image) -> str:
    rgba = _resize(im, _fit(im.size, THUMBHASH_EDGE), FilterType.bilinear).convert("RGBA")
    digest = thumbhash.rgba_to_thumb_hash(rgba.width, rgba.height, rgba.tobytes())
    return base64.b64encode(digest).decode("ascii")


@functools.lru_cache(maxsize=1024)
def placeholder_data_url(hash_b64: str) -> str:
    """The blurred placeholder a thumbhash stands for, as a PNG data URL.

    Args:
        hash_b64: Base64 of a ThumbHash.

    Returns:
        A `data:image/png;base64,...` URL, or "" when the hash is unusable.
    """
    try:
        width, height, rgba = thumbhash.thumb_hash_to_rgba(base64.b64decode(hash_b64))
        out = io.BytesIO()
        Image.frombytes("RGBA", (width, height), rgba).save(out, "PNG")
    except (ValueError, TypeError, OSError):
        return ""
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def derivative_size(data: bytes) -> tuple[ImageFormat, int, int]:
    """Format and size of a stored derivative, read from its header.

    Raises:
        UnsupportedImage: When the bytes are not an accepted image.
    """
    fmt = sniff_format(data[:64])
    if fmt is None:
        raise UnsupportedImage(f"the file is not {ACCEPTED_DESCRIPTION}")
    try:
        with Image.open(io.BytesIO(data), formats=[fmt.pillow]) as im:
            return fmt, im.width, im.height
    except DECODE_ERRORS as exc:
        raise UnsupportedImage(reason(exc)) from exc
