"""libwebp's advanced decoder through ctypes: a WebP decoded straight to a smaller size.

libwebp can rescale each row as it leaves the decoder, so a 12 MP WebP never exists at full
size. Pillow has no way to ask for that, and libvips' loader, which does, takes half as long
again for the same output. This binding calls `WebPDecode` with a scaled output written into a
buffer the caller owns, and nothing else; `imaging` is its only user.

The structs below are those of `webp/decode.h` at decoder ABI 0x0209 (libwebp 1.x):
libwebp refuses a config whose ABI major version differs from its own, and the binding then
reports the library as unusable rather than guessing.
"""

from __future__ import annotations

import ctypes

DECODER_ABI_VERSION = 0x0209
MODE_RGBA = 1
"""WEBP_CSP_MODE for 8-bit R, G, B, A: alpha is 255 where the image has none."""

_STATUS = {
    1: "libwebp ran out of memory",
    2: "invalid decoding parameters",
    3: "the WebP data is damaged",
    4: "the WebP uses a feature this decoder does not support",
    5: "the WebP decode was suspended",
    6: "the WebP decode was aborted",
    7: "the WebP data is truncated",
}


class _BitstreamFeatures(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("has_alpha", ctypes.c_int),
        ("has_animation", ctypes.c_int),
        ("format", ctypes.c_int),
        ("pad", ctypes.c_uint32 * 5),
    ]


class _RGBABuffer(ctypes.Structure):
    _fields_ = [("rgba", ctypes.c_void_p), ("stride", ctypes.c_int), ("size", ctypes.c_size_t)]


class _YUVABuffer(ctypes.Structure):
    _fields_ = [
        *[(plane, ctypes.c_void_p) for plane in ("y", "u", "v", "a")],
        *[(f"{plane}_stride", ctypes.c_int) for plane in ("y", "u", "v", "a")],
        *[(f"{plane}_size", ctypes.c_size_t) for plane in ("y", "u", "v", "a")],
    ]


class _Buffers(ctypes.Union):
    _fields_ = [("RGBA", _RGBABuffer), ("YUVA", _YUVABuffer)]


class _DecBuffer(ctypes.Structure):
    _fields_ = [
        ("colorspace", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("is_external_memory", ctypes.c_int),
        ("u", _Buffers),
        ("pad", ctypes.c_uint32 * 4),
        ("private_memory", ctypes.c_void_p),
    ]


class _DecoderOptions(ctypes.Structure):
    _fields_ = [
        *[
            (name, ctypes.c_int)
            for name in (
                "bypass_filtering", "no_fancy_upsampling", "use_cropping", "crop_left",
                "crop_top", "crop_width", "crop_height", "use_scaling", "scaled_width",
                "scaled_height", "use_threads", "dithering_strength", "flip",
                "alpha_dithering_strength",
            )
        ],
        ("pad", ctypes.c_uint32 * 5),
    ]


class _DecoderConfig(ctypes.Structure):
    _fields_ = [
        ("input", _BitstreamFeatures),
        ("output", _DecBuffer),
        ("options", _DecoderOptions),
    ]


class WebPDecoder:
    """libwebp's decoder, as found in a loaded shared library.

    Args:
        library: A shared object that is libwebp or links it (its symbols are looked up in the
            object and then in the libraries it depends on).

    Raises:
        OSError: The object cannot be loaded.
        AttributeError: It does not export libwebp's decoder.
    """

    def __init__(self, library: str) -> None:
        lib = ctypes.CDLL(library)
        self._init_config = lib.WebPInitDecoderConfigInternal
        self._init_config.argtypes = [ctypes.POINTER(_DecoderConfig), ctypes.c_int]
        self._init_config.restype = ctypes.c_int
        self._decode = lib.WebPDecode
        self._decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_DecoderConfig)]
        self._decode.restype = ctypes.c_int
        version = lib.WebPGetDecoderVersion()
        self.version = f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"
        if not self._init_config(ctypes.byref(_DecoderConfig()), DECODER_ABI_VERSION):
            raise AttributeError(f"libwebp {self.version} has another decoder ABI")

    def decode_rgba(self, data: bytes, size: tuple[int, int], out: memoryview) -> None:
        """Decode a single-image WebP as 8-bit RGBA at `size`, rescaled while it is decoded.

        The rescaler averages the source pixels under each output pixel, with alpha
        premultiplied while it does; the GIL is released meanwhile.

        Args:
            data: The whole file.
            size: Output width and height; the image's own size for no rescaling.
            out: Writable memory of exactly width * height * 4 bytes, filled row after row.

        Raises:
            ValueError: The data is not a complete WebP this decoder reads (the message says
                why, "truncated" among the reasons).
        """
        width, height = size
        if len(out) != width * height * 4 or out.readonly:
            raise ValueError("the output buffer does not match the output size")
        config = _DecoderConfig()
        if not self._init_config(ctypes.byref(config), DECODER_ABI_VERSION):
            raise ValueError("libwebp refused the decoder configuration")
        config.options.use_scaling = 1
        config.options.scaled_width = width
        config.options.scaled_height = height
        target = (ctypes.c_char * len(out)).from_buffer(out)
        config.output.colorspace = MODE_RGBA
        config.output.is_external_memory = 1
        config.output.u.RGBA.rgba = ctypes.addressof(target)
        config.output.u.RGBA.stride = width * 4
        config.output.u.RGBA.size = len(out)
        status = self._decode(data, len(data), ctypes.byref(config))
        del target  # the buffer is the caller's again
        if status:
            raise ValueError(_STATUS.get(status, f"libwebp failed (status {status})"))
