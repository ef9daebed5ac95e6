"""Everything that looks inside an image: format sniffing, validation, metadata, derivatives.

This is the only module that uses image libraries: Pillow (and its HEIF plugin), libjpeg-turbo
(through simplejpeg), libwebp and Little CMS (the ones Pillow loads, through the `libwebp` and
`littlecms` bindings), libvips and a SIMD resampler (fast_image_resize, through
cykooz.resizer). One decode of an upload, at the smallest size that still serves the largest
derivative, yields the preview, the thumbnail and the thumbhash placeholder; metadata comes from
the EXIF IFDs where the standard puts it.

Pillow parses every header, checks the pixel caps, reads the metadata, converts colour (RGB
through Little CMS directly, read packed, in 40% less time) and encodes. Pixels are
decoded by whatever does it fastest for the format: libjpeg-turbo for JPEG (DCT-scaled, with
its newest SIMD code), libwebp for large WebP (rescaled while it is decoded), libvips for large
PNG (rows streamed straight into the reduction), Pillow for the rest. Resampling is done by the
SIMD resampler whatever decoded; colour management, orientation and encoding stay in one place.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import importlib
import io
import logging
import math
import mmap
import struct
import threading
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, TypeVar

import pillow_heif
import pyvips
import simplejpeg
import thumbhash
from cykooz_resizer import FilterType, ResizeAlg, ResizeOptions, Resizer
from cykooz_resizer.alpha import set_image_mode
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from imgstream.services.jpeg_derivatives import JpegDerivatives, UnsuitedJpeg
from imgstream.services.libwebp import WebPDecoder
from imgstream.services.littlecms import LittleCMS, SRGBTransform

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# A truncated file is an error, never a half-grey thumbnail.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Over the pixel cap is an error everywhere in the process, never only a warning.
warnings.simplefilter("error", Image.DecompressionBombWarning)
# HEIC/HEIF through libheif. Embedded thumbnails stay visible to `draft()`, which picks one when
# it is large enough; depth maps and auxiliary images are never decoded.
pillow_heif.register_heif_opener(thumbnails=True, depth_images=False, aux_images=False)
# libvips: every upload is decoded once, so its operation cache would only hold memory; one
# thread per operation, as uploads are already spread over the cores by the worker pool; no
# loader that libvips marks as unsafe for untrusted input (only named loaders are called anyway).
pyvips.cache_set_max(0)
pyvips.concurrency_set(1)
pyvips.block_untrusted_set(True)

MALLOC_KEEP_BYTES = 64 * 2**20
"""Freed memory the C allocator keeps for reuse instead of handing it back to the kernel."""


def _keep_freed_memory() -> None:
    """Let glibc keep freed image buffers for the next upload.

    By default it hands the top of a heap back once more than about twice the last large
    buffer is free, so each upload's preview and resampling buffers come back as fresh pages:
    a page fault per 4 KiB, several milliseconds per photo. Up to `MALLOC_KEEP_BYTES` per heap
    stay mapped instead, and buffers up to 32 MiB come from the heap. Uploads are decoded on
    one thread per ingest slot, so few heaps ever hold image buffers. Elsewhere than glibc
    nothing changes.
    """
    libc = ctypes.CDLL(None)  # the C library the process already runs on
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 2**20)
    libc.mallopt(m_trim_threshold, MALLOC_KEEP_BYTES)


_keep_freed_memory()

TAG_ORIENTATION = 0x0112
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_DATETIME = 0x0132
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_EXPOSURE_TIME = 0x829A
TAG_F_NUMBER = 0x829D
TAG_ISO = 0x8827
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME_DIGITIZED = 0x9012
TAG_FOCAL_LENGTH = 0x920A
TAG_LENS_MODEL = 0xA434
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4

MAX_TEXT_LENGTH = 128
"""Longest EXIF text kept (make, model, lens), in characters."""
MAX_FRAMES = 500
"""Animated images with more frames are refused; only the first frame is ever decoded."""
MAX_ANIMATION_PIXELS = 1_000_000_000
"""Refused above this many pixels over all frames: a browser plays the original."""
THUMBHASH_EDGE = 32
"""Longest edge of the image a thumbhash is computed from. The format allows up to 100 px but
keeps at most 7 cosine terms an axis, which 32 px still sample well above their Nyquist rate: the
placeholders differ from those of 100 px by at most 7/255, at a ninth of the cost."""
PREVIEW_JPEG_QUALITY = 85
"""JPEG quality of previews (chroma 4:2:0)."""
WEBP_METHOD = 2
"""libwebp effort for WebP derivatives: 2-3x faster than the default 4, files about 5% larger."""
MAX_PNG_CHUNKS = 100_000
"""Most PNG chunk headers walked looking for EXIF stored after the image data."""
MAX_PNG_EXIF_BYTES = 4 * 2**20
"""Larger eXIf chunks in a PNG are ignored."""
VIPS_MIN_EDGE = 4
"""Images with a shorter edge than this are never decoded by libvips (it needs filter room)."""
JPEG_DCT_SCALES = (8, 4, 2, 1)
"""JPEG DCT scaling denominators used: libjpeg-turbo has SIMD code for these. The other M/8
scales it offers run in plain C and decode slower than the next power of two up."""


class UnsupportedImage(Exception):  # noqa: N818 - the domain name for "not a supported image"
    """The bytes are not an image ImgStream accepts; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    """An image format ImgStream reads or writes."""

    name: str
    mime: str
    extension: str
    pillow: str
    """The name of Pillow's plugin for it."""
    browser: bool
    """Whether every current browser shows it in an <img>."""


JPEG = ImageFormat("JPEG", "image/jpeg", "jpg", "JPEG", True)
PNG = ImageFormat("PNG", "image/png", "png", "PNG", True)
WEBP = ImageFormat("WEBP", "image/webp", "webp", "WEBP", True)
GIF = ImageFormat("GIF", "image/gif", "gif", "GIF", True)
HEIC = ImageFormat("HEIC", "image/heic", "heic", "HEIF", False)
HEIF = ImageFormat("HEIF", "image/heif", "heif", "HEIF", False)
AVIF = ImageFormat("AVIF", "image/avif", "avif", "AVIF", True)
ACCEPTED_FORMATS = (JPEG, PNG, WEBP, GIF, HEIC, HEIF, AVIF)
ACCEPTED_DESCRIPTION = "a JPEG, PNG, WebP, GIF, HEIC or AVIF image"
MIME_BY_EXTENSION = {fmt.extension: fmt.mime for fmt in ACCEPTED_FORMATS}
# An original in one of these, within the preview size, upright and single-frame, is shown as is.
SELF_PREVIEW_FORMATS = (JPEG, PNG, WEBP)

# ISO base media file brands (ftyp box): HEVC-coded HEIF, AV1-coded AVIF, generic HEIF.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}

# Every exception class Pillow or libheif raise for bad input. A test walks Pillow's modules and
# checks each class it defines is covered here.
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

_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def format_named(name: str) -> ImageFormat:
    """The accepted format with this name (as stored on a photo)."""
    return next(fmt for fmt in ACCEPTED_FORMATS if fmt.name == name)


@dataclass(frozen=True, slots=True)
class TakenAt:
    """When a photo was taken, and where that date came from."""

    utc: datetime
    offset_minutes: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Camera:
    """What took the photo and how; every field is optional."""

    make: str | None = None
    model: str | None = None
    lens: str | None = None
    focal_length_mm: float | None = None
    f_number: float | None = None
    exposure_time_s: float | None = None
    iso: int | None = None


@dataclass(frozen=True, slots=True)
class GpsPosition:
    """Where the photo was taken, in decimal degrees (north and east positive)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    """What the EXIF of an image says, sanitised."""

    orientation: int = 1
    taken_at: TakenAt | None = None
    camera: Camera = field(default_factory=Camera)
    gps: GpsPosition | None = None


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


def sniff_format(head: bytes) -> ImageFormat | None:
    """Tell the real format from the first bytes of a file, ignoring names and headers.

    Args:
        head: The first bytes of the file (64 are enough for every accepted format).

    Returns:
        The accepted format the bytes are in, or None.
    """
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[4:8] == b"ftyp" and len(head) >= 12:
        box_size = int.from_bytes(head[:4], "big")
        major = head[8:12]
        compatible = {head[i:i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
        brands = {major} | compatible
        if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
            return HEIC
        if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
            return AVIF
        if major in _HEIF_BRANDS:
            return HEIF
    return None


def analyse(
    path: Path, *, thumbnail_size: int, preview_size: int, max_pixels: int
) -> ImageAnalysis:
    """Validate an image file; read its metadata and make its derivatives from one decode.

    Args:
        path: The uploaded file.
        thumbnail_size: Longest edge of the thumbnail, in pixels.
        preview_size: Longest edge of the preview, in pixels.
        max_pixels: Images with more pixels than this are refused before decoding.

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
        # Pillow's own bomb check runs inside Image.open, before any pixel is decoded; the
        # warning it gives between 1x and 2x the limit is made an error below.
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            frames = _count_gif_frames(fh, max_pixels=max_pixels) if fmt is GIF else None
            return _analyse_open(
                fh, fmt, path=path, thumbnail_size=thumbnail_size, preview_size=preview_size,
                max_pixels=max_pixels, frames=frames,
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
            raise UnsupportedImage(_reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    # libjpeg: "Premature end of JPEG file" is a truncation; "Corrupt JPEG data: premature end
    # of data segment" is damage inside the file.
    cut = "truncated" in text or ("premature end" in text and "corrupt" not in text)
    if cut or isinstance(exc, EOFError):
        return "the file is incomplete (truncated)"
    return "the image data is damaged or unreadable"


def _analyse_open(
    fh: BinaryIO,
    fmt: ImageFormat,
    *,
    path: Path,
    thumbnail_size: int,
    preview_size: int,
    max_pixels: int,
    frames: int | None,
) -> ImageAnalysis:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fh, formats=[fmt.pillow]) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise Image.DecompressionBombError(f"{width}x{height}")
            if frames is None:
                frames = getattr(im, "n_frames", 1)
                _check_frames(frames, width * height)
            icc = im.info.get("icc_profile") or None
            streamed = None
            if (
                fmt is PNG
                and frames == 1
                and im.mode in ("RGB", "L")
                and max(width, height) > preview_size
            ):
                # Too large to be its own preview whatever its metadata says, so the size to
                # decode to is known before the metadata is read.
                streamed = _vips_load(path, (width, height), _fit(im.size, preview_size))
                if streamed is not None and "exif" not in im.info:
                    # Without an eXIf chunk before the pixels, Pillow would decode the whole
                    # PNG looking for one after them.
                    im.info["exif"] = _png_exif_after_pixels(fh)
            metadata = read_metadata(im)
            self_preview = (
                fmt in SELF_PREVIEW_FORMATS
                and max(width, height) <= preview_size
                and metadata.orientation == 1
                and frames == 1
                and im.mode in ("RGB", "RGBA", "L", "LA", "P")
                and metadata.gps is None
            )
            target = _fit((width, height), thumbnail_size if self_preview else preview_size)
            made = (
                _ycbcr_derivatives(path, im.size, target, metadata.orientation, thumbnail_size)
                if fmt is JPEG and im.mode == "RGB" and not self_preview and _is_srgb(icc)
                else None
            )
            if made is None:
                made = _derivatives_from_pixels(
                    im, fh, fmt, streamed=streamed, target=target, self_preview=self_preview,
                    frames=frames, icc=icc, orientation=metadata.orientation,
                    thumbnail_size=thumbnail_size,
                )
            preview, thumb_image = made
            if metadata.orientation >= 5:
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


def _derivatives_from_pixels(
    im: Image.Image,
    fh: BinaryIO,
    fmt: ImageFormat,
    *,
    streamed: pyvips.Image | None,
    target: tuple[int, int],
    self_preview: bool,
    frames: int,
    icc: bytes | None,
    orientation: int,
    thumbnail_size: int,
) -> tuple[Derivative | None, Image.Image]:
    """The preview (None for a photo that is its own) and the thumbnail's pixels, through RGB.

    The image is decoded once, at the size closest above `target` that its format allows,
    resampled to `target`, converted to sRGB and turned upright; both derivatives come from that.
    """
    width, height = im.size
    # Bilinear widens with the scale factor: for the factor of at most 2 left after a
    # reduced decode it is as sharp as Lanczos at about half the cost. A thumbnail
    # made straight from the decode gets the thumbnail filter.
    kernel = THUMBNAIL_FILTER if self_preview else PREVIEW_FILTER
    converted = False
    if streamed is not None:
        pixels = _from_vips(streamed, "L" if streamed.bands == 1 else "RGB")
    elif fmt is JPEG and im.mode in ("RGB", "L"):
        pixels = _decode_jpeg(fh, im.mode, im.size, target, kernel)
    elif (
        fmt is WEBP
        and not self_preview
        and frames == 1
        and im.mode in ("RGB", "RGBA")
        and (webp := _webp_decoder()) is not None
    ):
        pixels = _decode_webp(webp, fh, im.mode, target)
    else:
        if target != (width, height):
            # HEIF: an embedded thumbnail at least as large as the target, if any.
            # JPEG (CMYK): DCT scaling.
            im.draft(im.mode, target)
        im.load()
        # CMYK is converted to sRGB with its profile before resizing; other modes
        # after, on fewer pixels.
        converted = im.mode == "CMYK"
        pixels = _normalise_mode(im, icc)
    base = _resize(pixels, target, kernel)
    base = _upright_srgb(base, None if converted else icc, orientation)
    preview = None if self_preview else _encode_preview(base)
    return preview, _resize(base, _fit(base.size, thumbnail_size), THUMBNAIL_FILTER)


def _ycbcr_derivatives(
    path: Path,
    size: tuple[int, int],
    target: tuple[int, int],
    orientation: int,
    thumbnail_size: int,
) -> tuple[Derivative, Image.Image] | None:
    """A YCbCr JPEG's preview and thumbnail pixels made from its planes, without RGB between.

    None when the library is not built or the JPEG is not stored that way; the derivatives
    are then made through RGB. Both are upright; the preview is `target` before turning.
    Damaged data raises ValueError, as the RGB decode does.
    """
    maker = _jpeg_derivatives()
    if maker is None:
        return None
    upright = target[::-1] if orientation >= 5 else target
    thumbnail = _fit(upright, thumbnail_size)
    try:
        preview, rgb = maker.make(
            path, size=size, denominator=_dct_denominator(size, target), preview_size=target,
            orientation=orientation, quality=PREVIEW_JPEG_QUALITY, thumbnail_size=thumbnail,
        )
    except UnsuitedJpeg:
        return None
    return (
        Derivative(preview, JPEG, *upright),
        Image.frombuffer("RGB", thumbnail, rgb, "raw", "RGB", 0, 1),
    )


@functools.cache
def _jpeg_derivatives() -> JpegDerivatives | None:
    """The native YCbCr JPEG path, or None when it is not built (JPEGs go through RGB then)."""
    try:
        return JpegDerivatives()
    except (OSError, AttributeError) as exc:
        log.warning("JPEG derivatives are made through RGB, more slowly: %s", exc)
        return None


def _is_srgb(icc: bytes | None) -> bool:
    """Whether pixels under `icc` (None: no profile) need no conversion to be sRGB."""
    if icc is None:
        return True
    try:
        return _srgb_transform(icc, "RGB", "RGB") is None
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False  # the RGB path says why it ignores the profile


def _dct_denominator(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest DCT scaling denominator whose decode still covers `target`."""
    width, height = size
    return next(
        d for d in JPEG_DCT_SCALES
        if d == 1 or (-(-width // d) >= target[0] and -(-height // d) >= target[1])
    )


def _decode_jpeg(
    fh: BinaryIO, mode: str, size: tuple[int, int], target: tuple[int, int], kernel: FilterType
) -> Image.Image:
    """Decode an 8-bit RGB or grey JPEG with libjpeg-turbo and resample it to `target`.

    The DCT scale is the smallest power of two whose output still covers `target`, so at most
    a factor of 2 is left to resample. The file is mapped, not read, and the pixels are decoded
    into a buffer this thread keeps, which the resampler reads in place: no page of the decode
    is new or copied. Recoverable decoder warnings (a truncated file among them) are errors.

    Args:
        fh: The open file, already parsed by Pillow.
        mode: "RGB" or "L", as Pillow reads the header.
        size: The image's size.
        target: The size to resample to.
        kernel: The resampling filter.

    Returns:
        The pixels at `target`, in memory of their own.
    """
    width, height = size
    denominator = _dct_denominator(size, target)
    decoded = (-(-width // denominator), -(-height // denominator))
    # RGB as RGBX: four bytes a pixel, the layout of a Pillow RGB image, so Pillow can map it.
    raw = "L" if mode == "L" else "RGBX"
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pixels = simplejpeg.decode_jpeg(
            data,
            colorspace="GRAY" if mode == "L" else raw,
            min_width=decoded[0],
            min_height=decoded[1],
            # Chroma doubled by repeating samples rather than interpolating: what reaches a
            # derivative is resampled down and subsampled to 4:2:0 again, which leaves no
            # visible difference (preview PSNR against a full-size Lanczos rendering of a
            # 3 MP photo 61.6 dB, 62.2 with interpolation), and a full-size decode is 15%
            # faster. A DCT-scaled decode has nothing to upsample either way.
            fastupsample=True,
            buffer=_decode_buffer(decoded[0] * decoded[1] * len(raw)),
            strict=True,
        )
    view = Image.frombuffer(raw, (pixels.shape[1], pixels.shape[0]), pixels, "raw", raw, 0, 1)
    if view.size == target:
        return view.convert(mode)
    set_image_mode(view, mode)  # the same memory layout, read as what it is
    return _resize(view, target, kernel)


_decode_buffers = threading.local()


def _decode_buffer(size: int) -> memoryview:
    """This thread's decode buffer, at least `size` bytes, kept from one upload to the next.

    A fresh one per decode would be new pages from the kernel every time: megabytes of page
    faults, up to half the decode's own time. Uploads are decoded on one thread per ingest
    slot (`ingest_slots`), so there are as many buffers as slots; each is at most four times
    the preview's pixels.
    """
    buffer = getattr(_decode_buffers, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _decode_buffers.buffer = bytearray(size)
    return memoryview(buffer)[:size]


def _decode_webp(
    decoder: WebPDecoder, fh: BinaryIO, mode: str, target: tuple[int, int]
) -> Image.Image:
    """Decode a single-image WebP straight to `target` with libwebp's own rescaler.

    Each output pixel averages the source pixels under it (alpha premultiplied meanwhile), so
    the full-size image never exists. libwebp writes RGBA into this thread's decode buffer.

    Args:
        decoder: libwebp.
        fh: The open file, already parsed by Pillow.
        mode: "RGB" or "RGBA", as Pillow reads the header.
        target: The size to decode to.

    Returns:
        The pixels at `target`, in memory of their own.
    """
    fh.seek(0)
    data = fh.read()
    buffer = _decode_buffer(target[0] * target[1] * 4)
    decoder.decode_rgba(data, target, buffer)
    view = Image.frombuffer("RGBA", target, buffer, "raw", "RGBA", 0, 1)
    return view.convert("RGB") if mode == "RGB" else view.copy()


@functools.cache
def _webp_decoder() -> WebPDecoder | None:
    """The libwebp Pillow loaded, or None when it cannot be called (Pillow decodes then)."""
    return _through_pillow(WebPDecoder, "_webp", "WebP uploads are decoded at full size")


def _through_pillow(binding: Callable[[str], _T], extension: str, otherwise: str) -> _T | None:
    """`binding` over the library that Pillow's `extension` module links, or None.

    The library's symbols are found through the extension. When the binding cannot be made,
    `otherwise` (what happens instead) is logged with the reason.
    """
    try:
        return binding(importlib.import_module(f"PIL.{extension}").__file__)
    except (ImportError, OSError, AttributeError) as exc:
        log.warning("%s: %s", otherwise, exc)
        return None


def _upright_srgb(im: Image.Image, icc: bytes | None, orientation: int) -> Image.Image:
    """The image in sRGB (from its ICC profile, if any) and turned upright, with no info."""
    if icc:
        im = _to_srgb(im, icc)
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        im = im.transpose(transpose)
    im.info = {}
    return im


def _vips_load(
    path: Path, size: tuple[int, int], target: tuple[int, int]
) -> pyvips.Image | None:
    """Open a large PNG with libvips, to be decoded at reduced size as it is read.

    Its rows stream straight into an integer box reduction, so the full-size image never
    exists, and at most a factor of 2 is left to resample. Nothing is decoded yet: only the
    header is read here.

    Args:
        path: The file, already opened by Pillow (so its header and pixel cap are checked).
        size: The image's size.
        target: The size the pixels are going to be reduced to.

    Returns:
        The lazy image, or None when libvips does not read the file as 8-bit grey or RGB of
        the expected size (then Pillow decodes it, like any other format).
    """
    vi = pyvips.Image.pngload(str(path), access="sequential", fail_on="error")
    if (
        vi.format != "uchar"
        or vi.bands not in (1, 3)
        or (vi.width, vi.height) != size
        or min(*size, *target) < VIPS_MIN_EDGE
    ):
        return None
    box = min(size[0] // target[0], size[1] // target[1])
    return vi.shrink(box, box) if box >= 2 else vi


def _png_exif_after_pixels(fh: BinaryIO) -> bytes | None:
    """The eXIf chunk of a PNG that has it after the image data, found from chunk headers only.

    Gives up (no EXIF) past `MAX_PNG_CHUNKS` chunks or an eXIf over `MAX_PNG_EXIF_BYTES`.
    """
    fh.seek(8)
    for _ in range(MAX_PNG_CHUNKS):
        header = fh.read(8)
        if len(header) < 8:
            return None
        length, kind = struct.unpack(">I4s", header)
        if kind == b"eXIf":
            data = fh.read(length) if length <= MAX_PNG_EXIF_BYTES else b""
            return data if data and len(data) == length else None
        if kind == b"IEND":
            return None
        fh.seek(length + 4, io.SEEK_CUR)
    return None


def _from_vips(vi: pyvips.Image, mode: str) -> Image.Image:
    """Run a libvips pipeline into a Pillow image (one copy, no conversion)."""
    return Image.frombuffer(mode, (vi.width, vi.height), vi.write_to_memory(), "raw", mode, 0, 1)


def _check_frames(frames: int, frame_pixels: int) -> None:
    if frames > MAX_FRAMES:
        raise UnsupportedImage(f"the image has more than {MAX_FRAMES} frames")
    if frames * frame_pixels > MAX_ANIMATION_PIXELS:
        raise UnsupportedImage(
            f"the animation has more than {MAX_ANIMATION_PIXELS / 1e6:.0f} megapixels in all"
        )


def _count_gif_frames(fh: BinaryIO, *, max_pixels: int) -> int:
    """Count a GIF's frames from its block structure, refusing it past the caps.

    Pillow's `n_frames` walks every frame of a file first; this reads block headers only and
    stops as soon as the cap is passed, so a file of millions of empty frames costs little.
    """
    header = fh.read(13)
    if len(header) < 13:
        raise UnsupportedImage("the file is incomplete (truncated)")
    width, height, flags = struct.unpack("<HHB", header[6:11])
    if width * height > max_pixels:
        raise Image.DecompressionBombError(f"{width}x{height}")
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
    _check_frames(frames, width * height)
    fh.seek(0)
    return frames


def _skip_gif_sub_blocks(fh: BinaryIO) -> None:
    while (length := fh.read(1)) and length[0]:
        fh.seek(length[0], io.SEEK_CUR)


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size with its long edge at most `longest`, aspect kept, never larger than it was."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


PREVIEW_FILTER = FilterType.bilinear
"""Resampling filter from a reduced decode to the preview (at most a factor of 2 left)."""
THUMBNAIL_FILTER = FilterType.catmull_rom
"""Resampling filter for thumbnails: sharp in a grid at 2x density."""
_resizers = threading.local()


def _resize(im: Image.Image, size: tuple[int, int], kernel: FilterType) -> Image.Image:
    """The image at `size`, resampled by convolution with `kernel` (widened to antialias).

    The SIMD resampler (AVX2 or SSE4.1 where the CPU has them) is several times faster than
    Pillow's and libvips' horizontal pass; alpha is premultiplied while it works. It releases
    the GIL, so uploads resample in parallel.
    """
    if im.size == size:
        return im
    resizer = getattr(_resizers, "resizer", None)
    if resizer is None:
        resizer = _resizers.resizer = Resizer()
    out = Image.new(im.mode, size, None)  # every pixel is written: no fill
    resizer.resize_pil(im, out, ResizeOptions(resize_alg=ResizeAlg.convolution(kernel)))
    return out


def _normalise_mode(im: Image.Image, icc: bytes | None) -> Image.Image:
    """An 8-bit RGB, RGBA or L image; 16-bit values are scaled, never clipped."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L"):
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit samples fill 0..65535; a plain convert would clip everything above 255.
        return im.point(lambda v: v / 257).convert("L")
    if mode == "CMYK":
        return _to_srgb(im, icc) if icc else im.convert("RGB")
    if mode in ("P", "PA") and (im.has_transparency_data or mode == "PA"):
        return im.convert("RGBA")
    if mode in ("LA", "La", "RGBa", "RGBX", "RGBA;16B"):
        return im.convert("RGBA") if "A" in mode or "a" in mode else im.convert("RGB")
    return im.convert("RGB")


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Pixels converted from the embedded ICC profile to sRGB; unchanged if it is unusable."""
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    try:
        transform = _srgb_transform(icc, im.mode, out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        log.info("ignoring an unusable ICC profile")
        return im.convert(out_mode)
    if transform is None:
        return im if im.mode == out_mode else im.convert(out_mode)
    if isinstance(transform, SRGBTransform):
        return _apply_packed(im, transform)
    return ImageCms.applyTransform(im, transform)


def _apply_packed(im: Image.Image, transform: SRGBTransform) -> Image.Image:
    """An RGB image converted by Little CMS from its packed bytes."""
    return Image.frombytes("RGB", im.size, transform.apply(im.tobytes()))


@functools.lru_cache(maxsize=16)
def _srgb_transform(
    icc: bytes, in_mode: str, out_mode: str
) -> ImageCms.ImageCmsTransform | SRGBTransform | None:
    """The conversion from `icc` to sRGB, or None when the profile already is sRGB.

    RGB goes through Little CMS directly, read packed (40% less time, the same values);
    other modes, and RGB when that binding is unavailable, through Pillow's ImageCms.
    """
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if in_mode != "CMYK" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
        return None
    if in_mode == out_mode == "RGB" and (cms := _littlecms()) is not None:
        try:
            return cms.rgb_to_srgb(icc, ImageCms.Intent.PERCEPTUAL)
        except ValueError:
            pass  # ImageCms says why below
    return ImageCms.buildTransform(
        source, _srgb_profile(), in_mode, out_mode,
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
    )


@functools.cache
def _littlecms() -> LittleCMS | None:
    """The Little CMS Pillow loaded, or None when it cannot be called (ImageCms converts then)."""
    return _through_pillow(LittleCMS, "_imagingcms", "colour profiles are converted by ImageCms")


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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
        im.save(out, "WEBP", quality=82, method=WEBP_METHOD)
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
        raise UnsupportedImage(_reason(exc)) from exc


def read_metadata(im: Image.Image) -> PhotoMetadata:
    """Orientation, date taken, camera and GPS from an opened image's EXIF.

    EXIF is untrusted input: a part that cannot be read is left out, never an error, and text
    is sanitised with `clean_text`.

    Args:
        im: An opened (not necessarily loaded) image.

    Returns:
        The metadata; empty when there is no readable EXIF.
    """
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - bad EXIF means no EXIF, not a failed upload
        return PhotoMetadata()
    orientation = _orientation(exif)
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001
        sub = {}
    try:
        gps_ifd = exif.get_ifd(GPS_IFD)
    except Exception:  # noqa: BLE001
        gps_ifd = {}
    return PhotoMetadata(
        orientation=orientation,
        taken_at=_guard(lambda: _taken_at(exif, sub)),
        camera=_guard(lambda: _camera(exif, sub)) or Camera(),
        gps=_guard(lambda: gps_position(gps_ifd)),
    )


def _guard(read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except Exception:  # noqa: BLE001 - one unreadable EXIF field never spoils the others
        log.debug("unreadable EXIF field", exc_info=True)
        return None


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(TAG_ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _taken_at(exif: Image.Exif, sub: dict) -> TakenAt | None:
    return (
        parse_exif_datetime(
            sub.get(TAG_DATETIME_ORIGINAL), sub.get(TAG_OFFSET_TIME_ORIGINAL), "exif_original"
        )
        or parse_exif_datetime(
            sub.get(TAG_DATETIME_DIGITIZED), sub.get(TAG_OFFSET_TIME_DIGITIZED), "exif_digitized"
        )
        or parse_exif_datetime(exif.get(TAG_DATETIME), sub.get(TAG_OFFSET_TIME), "exif_datetime")
    )


def _camera(exif: Image.Exif, sub: dict) -> Camera:
    return Camera(
        make=clean_text(exif.get(TAG_MAKE)),
        model=clean_text(exif.get(TAG_MODEL)),
        lens=clean_text(sub.get(TAG_LENS_MODEL)),
        focal_length_mm=_number(sub.get(TAG_FOCAL_LENGTH), 0.1, 10_000),
        f_number=_number(sub.get(TAG_F_NUMBER), 0.3, 1_000),
        exposure_time_s=_number(sub.get(TAG_EXPOSURE_TIME), 1e-7, 100_000),
        iso=_iso(sub.get(TAG_ISO)),
    )


def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _iso(value: object) -> int | None:
    number = _number(value, 1, 10_000_000)
    return round(number) if number is not None else None


def gps_position(gps: dict) -> GpsPosition | None:
    """Decimal degrees from a GPS IFD's degree/minute/second rationals and N/S/E/W refs.

    Args:
        gps: The GPS IFD, tag number to value.

    Returns:
        The position, or None when it is missing or out of range.
    """
    latitude = _degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF), b"S", 90)
    longitude = _degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF), b"W", 180)
    if latitude is None or longitude is None:
        return None
    return GpsPosition(latitude, longitude)


def _degrees(value: object, ref: object, negative: bytes, limit: float) -> float | None:
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(part, 0, 100_000) for part in value]
    if any(part is None for part in parts):
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts))  # type: ignore[operator]
    if isinstance(ref, str):
        ref = ref.encode("ascii", "ignore")
    if isinstance(ref, bytes) and ref.strip(b"\x00 ").upper() == negative:
        degrees = -degrees
    return round(degrees, 7) if -limit <= degrees <= limit else None


def clean_text(value: object, *, limit: int = MAX_TEXT_LENGTH) -> str | None:
    """EXIF text made safe to store and show.

    Decoded leniently, NFC-normalised, stripped of control, format (bidi overrides, zero-width)
    and other invisible characters, whitespace collapsed and capped at `limit` characters.

    Args:
        value: A raw EXIF value (str or bytes; anything else gives None).
        limit: Most characters kept.

    Returns:
        The text, or None when nothing printable is left.
    """
    if isinstance(value, str):
        # Pillow decodes EXIF ASCII as Latin-1; cameras and phones write UTF-8 there.
        try:
            value = value[: limit * 4].encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = unicodedata.normalize("NFC", value[: limit * 4])
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch.isspace()
    )
    text = " ".join(kept.split())[:limit].strip()
    return text or None


def parse_exif_datetime(value: object, offset: object, source: str) -> TakenAt | None:
    """An EXIF `YYYY:MM:DD HH:MM:SS` with its optional `+HH:MM` offset, as UTC.

    Args:
        value: The date tag's value.
        offset: The matching OffsetTime* tag's value, or None.
        source: Recorded as where the date came from.

    Returns:
        The moment, or None for an empty, malformed or implausible date.
    """
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    try:
        local = datetime.strptime(value[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if local.year < 1826:  # before the first photograph: a camera with an unset clock
        return None
    minutes = _parse_offset(offset)
    if minutes is None:
        # No offset recorded: keep the wall-clock time as it was shown on the camera.
        return TakenAt(utc=local.replace(tzinfo=UTC), offset_minutes=None, source=source)
    aware = local.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    return TakenAt(utc=aware.astimezone(UTC), offset_minutes=minutes, source=source)


def _parse_offset(value: object) -> int | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    if len(value) != 6 or value[0] not in "+-" or value[3] != ":":
        return None
    try:
        hours, minutes = int(value[1:3]), int(value[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if value[0] == "-" else 1
    return sign * (hours * 60 + minutes)


# Tags that say where a photo was taken or which device took it: the GPS IFD, the body and
# lens serial numbers (Exif IFD, and IFD0 as DNG writes it), and the maker note, an opaque
# vendor block that often repeats both.
_GPS_IFD_TAG = 0x8825
_EXIF_IFD_TAG = 0x8769
_PRIVATE_EXIF_TAGS = (0xA431, 0xA435, 0x927C)
_PRIVATE_IFD0_TAGS = (0xC62F, _GPS_IFD_TAG)
_ORIENTATION_TAG = 0x0112


def exif_without_location(payload: bytes) -> bytes:
    """An EXIF block (TIFF bytes, with or without the Exif header) without GPS or serials.

    Everything else is kept (dates, camera, exposure, orientation). When the block cannot be
    parsed and written again, only its orientation survives, so the photo still shows upright.

    Args:
        payload: The EXIF block as stored in a JPEG APP1 segment.

    Returns:
        The cleaned EXIF block as TIFF bytes (without the Exif header).
    """
    exif = Image.Exif()
    try:
        exif.load(payload)
        sub = exif.get_ifd(_EXIF_IFD_TAG)
        for tag in _PRIVATE_EXIF_TAGS:
            sub.pop(tag, None)
        for tag in _PRIVATE_IFD0_TAGS:
            exif.pop(tag, None)
        exif._ifds.pop(_GPS_IFD_TAG, None)  # noqa: SLF001 - keeps tobytes from writing it back
        return exif.tobytes()[6:]
    except Exception:  # noqa: BLE001 - any malformed block is replaced by a minimal one
        minimal = Image.Exif()
        orientation = exif.get(_ORIENTATION_TAG) if len(exif) else None
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            minimal[_ORIENTATION_TAG] = orientation
        return minimal.tobytes()[6:]
