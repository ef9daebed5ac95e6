"""A JPEG photo's preview and thumbnail made in its own YCbCr, through ctypes.

A JPEG stores luma and chroma, chroma usually at a quarter of the pixels (4:2:0). Decoding it to
RGB converts every pixel and doubles the chroma, and the preview's encoder then converts back
and halves it again. `native/jpeg_derivatives.c` keeps the planes instead: libjpeg decodes them
at the DCT scale the preview needs, each plane is resampled at its own resolution (chroma on a
quarter of the pixels), turned upright, and encoded as the 4:2:0 preview without a conversion.
The thumbnail is resampled from the preview's planes, and only its 400 px are converted to RGB.
A 12 MP photo takes a quarter less time to analyse than through RGB.

The library is built from that C file by `make setup` where a C compiler and libjpeg's headers
are present; elsewhere `imaging` makes the same derivatives through RGB. `imaging` is the only
user of this module.
"""

from __future__ import annotations

import ctypes
import mmap
from pathlib import Path

LIBRARY = Path(__file__).parent / "native" / "libjpeg_derivatives.so"
"""Where `make setup` builds the library."""

_OK, _ERROR, _UNSUITED, _NO_MEMORY = 0, -1, -2, -3
_MESSAGE_SIZE = 200
BILINEAR, CATMULL_ROM = 0, 1
"""Resampling filters of `resample`."""


class UnsuitedJpeg(Exception):
    """The JPEG is not stored as YCbCr with 4:4:4, 4:2:2 or 4:2:0 chroma: make it through RGB."""


class JpegDerivatives:
    """The native preview and thumbnail maker.

    Args:
        library: The shared object built from `native/jpeg_derivatives.c`.

    Raises:
        OSError: It cannot be loaded (not built, or libjpeg missing).
        AttributeError: It is not that library.
    """

    def __init__(self, library: str | Path = LIBRARY) -> None:
        lib = ctypes.CDLL(str(library))
        self._make = lib.jd_make
        self._make.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, *[ctypes.c_int] * 9,
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ulong), ctypes.c_void_p,
            ctypes.c_char_p,
        ]
        self._make.restype = ctypes.c_int
        self._resample = lib.jd_resample
        self._resample.argtypes = [
            ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
            ctypes.c_int, ctypes.c_int,
        ]
        self._resample.restype = ctypes.c_int
        self._allow_simd = lib.jd_allow_simd
        self._allow_simd.argtypes = [ctypes.c_int]
        self._allow_simd.restype = None
        self._free = lib.jd_free
        self._free.argtypes = [ctypes.c_void_p]
        self._free.restype = None

    def make(
        self,
        path: Path,
        *,
        size: tuple[int, int],
        denominator: int,
        preview_size: tuple[int, int],
        orientation: int,
        quality: int,
        thumbnail_size: tuple[int, int],
    ) -> tuple[bytes, bytearray]:
        """The preview JPEG and the thumbnail's RGB pixels of a JPEG file.

        The GIL is released while they are made.

        Args:
            path: The JPEG file (mapped, not read).
            size: The image's width and height, as checked against the pixel limit: a file
                whose frame header says otherwise is refused.
            denominator: DCT scale of the decode, 1, 2, 4 or 8; the decode must still cover
                `preview_size`.
            preview_size: The preview's width and height as the pixels are stored, before
                the orientation turns them.
            orientation: EXIF orientation, 1-8; both derivatives come out upright.
            quality: The preview's JPEG quality.
            thumbnail_size: The upright thumbnail's width and height.

        Returns:
            The preview (a 4:2:0 JPEG, upright) and the thumbnail, 8-bit R, G, B packed row
            after row.

        Raises:
            UnsuitedJpeg: The JPEG is not YCbCr with 4:4:4, 4:2:2 or 4:2:0 chroma.
            ValueError: The data is damaged or truncated; libjpeg's own message says how.
            MemoryError: There is no memory for the planes.
        """
        thumbnail = bytearray(thumbnail_size[0] * thumbnail_size[1] * 3)
        preview, preview_bytes = ctypes.c_void_p(), ctypes.c_ulong()
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) as data:
            source = (ctypes.c_char * len(data)).from_buffer(data)
            target = (ctypes.c_char * len(thumbnail)).from_buffer(thumbnail)
            try:
                status = self._make(
                    ctypes.addressof(source), len(data), *size, denominator, *preview_size,
                    orientation, quality, *thumbnail_size, ctypes.byref(preview),
                    ctypes.byref(preview_bytes), ctypes.addressof(target), message,
                )
            finally:
                del source, target  # no export of the map or the thumbnail outlives the call
        try:
            if status == _OK:
                return ctypes.string_at(preview.value, preview_bytes.value), thumbnail
        finally:
            self._free(preview)
        reason = message.value.decode("utf-8", "replace")
        if status == _UNSUITED:
            raise UnsuitedJpeg(reason)
        if status == _NO_MEMORY:
            raise MemoryError(reason)
        raise ValueError(reason or "libjpeg refused the data")

    def allow_simd(self, allowed: bool) -> None:
        """Let the resampler use AVX2 where the CPU has it (the default), or not.

        The results are the same either way; the tests check that with it.
        """
        self._allow_simd(int(allowed))

    def resample(
        self, plane: bytes, size: tuple[int, int], to: tuple[int, int], kernel: int
    ) -> bytearray:
        """One 8-bit plane resampled to `to`, as `make` resamples each plane.

        Args:
            plane: The samples, row after row.
            size: Its width and height.
            to: The output's width and height.
            kernel: BILINEAR or CATMULL_ROM, widened to antialias as the reduction grows.

        Returns:
            The resampled plane, row after row.
        """
        if len(plane) != size[0] * size[1]:
            raise ValueError("the plane does not match its size")
        out = bytearray(to[0] * to[1])
        target = (ctypes.c_char * len(out)).from_buffer(out)
        try:
            status = self._resample(plane, *size, ctypes.addressof(target), *to, kernel)
        finally:
            del target
        if status != _OK:
            raise MemoryError("no memory to resample")
        return out
