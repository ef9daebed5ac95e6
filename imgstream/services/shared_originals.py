"""Originals as a share link hands them out: without location or serial numbers when asked.

The image data is never decoded or encoded again: only metadata segments (JPEG) or chunks
(PNG, WebP) are rewritten or dropped, and every other byte is copied as it is. HEIC and AVIF
keep their metadata as items of the file's boxes: their Exif and XMP items are overwritten in
place with cleaned ones of the same length, so no offset in the file moves.
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
    """A file whose metadata cannot be removed without re-encoding (unknown or malformed)."""


REWRITABLE = frozenset({"JPEG", "PNG", "WEBP", "GIF", "HEIC", "HEIF", "AVIF"})


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
    if name in ("HEIC", "HEIF", "AVIF"):
        return _isobmff(data)
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


_BLANK_XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
              b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>')


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, content start, end) of the boxes between start and end."""
    found, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8:pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise NotRewritable("malformed box")
        found.append((kind, pos + header, pos + size))
        pos += size
    return found


def _child(data: bytes, boxes: list[tuple[bytes, int, int]], kind: bytes) -> tuple[int, int]:
    for name, start, end in boxes:
        if name == kind:
            return start, end
    raise NotRewritable(f"no {kind.decode()} box")


def _item_kinds(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """Item id -> "Exif" or "XMP" for the metadata items an iinf box lists."""
    version = data[start]
    pos = start + 4 + (2 if version == 0 else 4)
    kinds = {}
    for kind, body, box_end in _boxes(data, pos, end):
        if kind != b"infe" or data[body] < 2:
            continue
        wide = data[body] == 3
        item_id = struct.unpack(">I" if wide else ">H", data[body + 4:body + (8 if wide else 6)])[0]
        at = body + (8 if wide else 6) + 2
        item_type = data[at:at + 4]
        if item_type == b"Exif":
            kinds[item_id] = b"Exif"
        elif item_type == b"mime":
            name_end = data.index(b"\x00", at + 4, box_end)
            content_type = data[name_end + 1:data.index(b"\x00", name_end + 1, box_end)]
            if content_type.strip() == b"application/rdf+xml":
                kinds[item_id] = b"XMP"
    return kinds


def _uint(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos:pos + size], "big") if size else 0


def _item_spans(
    data: bytes, start: int, end: int, wanted: set[int], idat: int | None
) -> dict[int, tuple[int, int]]:
    """Item id -> (start, end) in the file of the wanted items an iloc box places."""
    version = data[start]
    offset_size, length_size = data[start + 4] >> 4, data[start + 4] & 15
    base_size, index_size = data[start + 5] >> 4, data[start + 5] & 15
    pos = start + 6
    count = _uint(data, pos, 2 if version < 2 else 4)
    pos += 2 if version < 2 else 4
    spans = {}
    for _ in range(count):
        item_id = _uint(data, pos, 2 if version < 2 else 4)
        pos += 2 if version < 2 else 4
        method = 0
        if version in (1, 2):
            method = _uint(data, pos, 2) & 15
            pos += 2
        reference = _uint(data, pos, 2)
        base = _uint(data, pos + 2, base_size)
        extents = _uint(data, pos + 2 + base_size, 2)
        pos += 4 + base_size
        places = []
        for _ in range(extents):
            if version in (1, 2):
                pos += index_size
            places.append((_uint(data, pos, offset_size),
                           _uint(data, pos + offset_size, length_size)))
            pos += offset_size + length_size
        if pos > end:
            raise NotRewritable("malformed iloc box")
        if item_id not in wanted:
            continue
        if reference != 0 or len(places) != 1 or method not in (0, 1) or (
                method == 1 and idat is None):
            raise NotRewritable("metadata item stored in a way not rewritten in place")
        offset, length = places[0]
        first = base + offset + (idat if method == 1 else 0)
        last = first + (length or len(data) - first)
        if last > len(data):
            raise NotRewritable("metadata item past the end of the file")
        spans[item_id] = (first, last)
    return spans


def _clean_exif_item(item: bytes) -> bytes:
    """An Exif item (4-byte offset to the TIFF header, then the block), cleaned, same length."""
    if len(item) < 4:
        return bytes(len(item))
    tiff = 4 + int.from_bytes(item[:4], "big")
    if tiff > len(item):
        return bytes(len(item))
    cleaned = exif_without_location(item[tiff:])
    if len(cleaned) > len(item) - tiff:
        cleaned = exif_without_location(b"")  # no room: an empty block, the pixels are upright
    if len(cleaned) > len(item) - tiff:
        return bytes(len(item))
    return item[:tiff] + cleaned + bytes(len(item) - tiff - len(cleaned))


def _isobmff(data: bytes) -> bytes:
    top = _boxes(data, 0, len(data))
    meta_start, meta_end = _child(data, top, b"meta")
    inside = _boxes(data, meta_start + 4, meta_end)
    kinds = _item_kinds(data, *_child(data, inside, b"iinf"))
    if not kinds:
        return data
    idat = next((start for name, start, _end in inside if name == b"idat"), None)
    spans = _item_spans(data, *_child(data, inside, b"iloc"), set(kinds), idat)
    out = bytearray(data)
    for item_id, (first, last) in spans.items():
        if kinds[item_id] == b"Exif":
            out[first:last] = _clean_exif_item(data[first:last])
        else:
            blank = _BLANK_XMP if len(_BLANK_XMP) <= last - first else b""
            out[first:last] = blank + b" " * (last - first - len(blank))
    return bytes(out)
