"""Everything that looks inside an image: format sniffing, validation, metadata, derivatives.

This package is the only user of image libraries: Pillow (with the pillow-heif plugin), libvips
(pyvips), a SIMD resampler (cykooz.resizer) and ThumbHash (thumbhash-rs), each through its public
API. `configure()` applies their process-wide settings once, at start-up.

- `formats`: the accepted formats and sniffing (no image library imported);
- `metadata`: EXIF orientation, date taken, camera and GPS;
- `limits`: pixel and frame caps, and the decoder errors that become `UnsupportedImage`;
- `colour`: 8-bit, sRGB, upright;
- `derivatives`: one reduced decode to preview, thumbnail and placeholder;
- `likeness`: perceptual hash and dominant colours;
- `libraries`: `configure()`.
"""

from imgstream.services.imaging.derivatives import (
    Derivative,
    ImageAnalysis,
    analyse,
    derivative_size,
    placeholder_data_url,
)
from imgstream.services.imaging.formats import (
    ACCEPTED_FORMATS,
    ACCEPTED_NAMES,
    AVIF,
    GIF,
    HEIC,
    HEIF,
    JPEG,
    MIME_BY_EXTENSION,
    PNG,
    WEBP,
    ImageFormat,
    UnsupportedImage,
    format_named,
    sniff_format,
)
from imgstream.services.imaging.libraries import configure
from imgstream.services.imaging.likeness import (
    HASH_BITS,
    Colour,
    dominant_colours,
    hash_distance,
    perceptual_hash,
)
from imgstream.services.imaging.limits import DECODE_ERRORS, MAX_ANIMATION_PIXELS, MAX_FRAMES
from imgstream.services.imaging.metadata import (
    MAX_TEXT_LENGTH,
    Camera,
    GpsPosition,
    PhotoMetadata,
    TakenAt,
    clean_text,
    exif_without_location,
    gps_position,
    parse_exif_datetime,
    read_metadata,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "ACCEPTED_NAMES",
    "AVIF",
    "DECODE_ERRORS",
    "GIF",
    "HASH_BITS",
    "HEIC",
    "HEIF",
    "JPEG",
    "MAX_ANIMATION_PIXELS",
    "MAX_FRAMES",
    "MAX_TEXT_LENGTH",
    "MIME_BY_EXTENSION",
    "PNG",
    "WEBP",
    "Camera",
    "Colour",
    "Derivative",
    "GpsPosition",
    "ImageAnalysis",
    "ImageFormat",
    "PhotoMetadata",
    "TakenAt",
    "UnsupportedImage",
    "analyse",
    "clean_text",
    "configure",
    "derivative_size",
    "dominant_colours",
    "exif_without_location",
    "format_named",
    "gps_position",
    "hash_distance",
    "parse_exif_datetime",
    "perceptual_hash",
    "placeholder_data_url",
    "read_metadata",
    "sniff_format",
]
