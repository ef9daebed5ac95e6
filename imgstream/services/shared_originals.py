"""Originals as a share link hands them out: without location or serial numbers when asked.

The image data is never decoded or encoded again: only metadata segments (JPEG) or chunks
(PNG, WebP) are rewritten or dropped, and every other byte is copied as it is.
"""

from __future__ import annotations

import struct

from imgstream.services.imaging import exif_without_location

_EXIF_HEADER = b"Exif\x00\x00"
# XMP can repeat the GPS position and the serial numbers, IPTC (APP13) the place names.
_XMP_HEADERS = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp\x00"
_WEBP_EXIF_FLAG = 0x08
_WEBP_XMP_FLAG = 0x04


class NotRewritable(Exception):  # noqa: N818
    """A format whose metadata cannot be removed without re-encoding (HEIC, AVIF)."""


REWRITABLE = frozenset({"JPEG", "PNG", "WEBP", "GIF"})


def can_rewrite(image_format: str) -> bool:
    """Whether without_location can handle a format (else NotRewritable)."""
    return image_format.upper() in REWRITABLE


def without_location(data: bytes, image_format: str) -> bytes:
    """A stored original without GPS position, serial numbers or XMP, image data untouched.

    Args:
        data: The original's bytes.
        image_format: Its sniffed format name (JPEG, PNG, WEBP, GIF, HEIF, AVIF).

    Returns:
        The rewritten file.

    Raises:
        NotRewritable: For formats whose metadata sits inside the image container's boxes.
    """
    name = image_format.upper()
    if name == "JPEG":
        return _jpeg(data)
    if name == "PNG":
        return _png(data)
    if name == "WEBP":
        return _webp(data)
    if name == "GIF":
        return data
    raise NotRewritable(name)


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise NotRewritable("not a JPEG")
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise NotRewritable("malformed JPEG segment")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:  # start of scan: image data follows
            break
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        body = data[pos + 4:pos + 2 + length]
        segment = data[pos:pos + 2 + length]
        pos += 2 + length
        if marker == 0xE1 and body.startswith(_EXIF_HEADER):
            cleaned = _EXIF_HEADER + exif_without_location(body)
            out += b"\xff\xe1" + struct.pack(">H", len(cleaned) + 2) + cleaned
        elif (marker == 0xE1 and body.startswith(_XMP_HEADERS)) or marker == 0xED:
            continue
        else:
            out += segment
    out += data[pos:]
    return bytes(out)


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise NotRewritable("not a PNG")
    out = bytearray(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        body = data[pos + 8:pos + 8 + length]
        drop = kind == b"eXIf" or (kind in (b"iTXt", b"tEXt", b"zTXt")
                                   and body.startswith(_PNG_XMP_KEYWORD))
        if not drop:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            break
    return bytes(out)


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotRewritable("not a WebP")
    chunks = bytearray()
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        end = pos + 8 + length + (length & 1)
        chunk = bytearray(data[pos:end])
        if kind == b"VP8X":
            chunk[8] &= ~(_WEBP_EXIF_FLAG | _WEBP_XMP_FLAG) & 0xFF
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        pos = end
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)
