"""Originals handed out by a share link without location: GPS and serials gone, pixels as stored."""

import io
import struct

import pytest
from PIL import Image

from imgstream.services import shared_originals
from tests import images

XMP = (b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>48,6N"
       b"</exif:GPSLatitude></x:xmpmeta>")


def segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of every segment before the scan, then the scan and the rest as one."""
    out, pos = [], 2
    while jpeg[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", jpeg[pos + 2:pos + 4])
        out.append((jpeg[pos + 1], jpeg[pos + 4:pos + 2 + length]))
        pos += 2 + length
    out.append((0xDA, jpeg[pos:]))
    return out


def camera_jpeg() -> bytes:
    exif = Image.Exif()
    exif.load(images.exif_bytes(make="Canon", model="EOS R5", orientation=6,
                                date_original="2024:05:01 10:00:00", gps=(48.1, 11.5)))
    exif.get_ifd(0x8769)[0xA431] = "0123456789"  # body serial number
    exif.get_ifd(0x8769)[0xA435] = "LENS-42"  # lens serial number
    data = images.encode(images.photo_like((320, 240)), "JPEG", exif=exif.tobytes(), quality=85)
    xmp = b"\xff\xe1" + struct.pack(">H", len(XMP) + 2) + XMP
    return data[:2] + xmp + data[2:]


def test_jpeg_loses_gps_serials_and_xmp_and_keeps_every_image_byte():
    original = camera_jpeg()
    shared = shared_originals.without_location(original, "JPEG")

    exif = Image.open(io.BytesIO(shared)).getexif()
    assert exif.get_ifd(0x8825) == {} and 0x8825 not in exif
    sub = exif.get_ifd(0x8769)
    assert 0xA431 not in sub and 0xA435 not in sub
    assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Canon", "EOS R5", 6)
    assert sub[0x9003] == "2024:05:01 10:00:00"
    assert b"GPSLatitude" not in shared and b"0123456789" not in shared

    before = [(m, body) for m, body in segments(original) if m != 0xE1]
    after = [(m, body) for m, body in segments(shared) if m != 0xE1]
    assert before == after, "every segment but APP1 (tables, frame, scan) is byte-identical"
    assert [m for m, _ in segments(shared)].count(0xE1) == 1
    assert Image.open(io.BytesIO(shared)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_jpeg_without_exif_is_unchanged():
    data = images.encode(images.photo_like((64, 48)), "JPEG")
    assert shared_originals.without_location(data, "JPEG") == data


def test_broken_exif_keeps_only_the_orientation():
    data = images.jpeg(orientation=8, gps=(1.0, 2.0))
    app1 = data.index(b"Exif\x00\x00")
    broken = bytearray(data)
    broken[app1 + 6:app1 + 10] = b"XXXX"  # no longer a TIFF header
    shared = shared_originals.without_location(bytes(broken), "JPEG")
    assert Image.open(io.BytesIO(shared)).getexif().get(0x0112) in (None, 8)
    assert Image.open(io.BytesIO(shared)).getexif().get_ifd(0x8825) == {}


def test_png_and_webp_lose_their_exif_chunks():
    exif = images.exif_bytes(make="Canon", gps=(48.1, 11.5))
    for fmt in ("PNG", "WEBP"):
        data = images.encode(images.photo_like((64, 48)), fmt, exif=exif,
                             **({"lossless": True} if fmt == "WEBP" else {}))
        assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
        shared = shared_originals.without_location(data, fmt)
        im = Image.open(io.BytesIO(shared))
        assert im.getexif().get_ifd(0x8825) == {}
        assert im.tobytes() == Image.open(io.BytesIO(data)).tobytes()


@pytest.mark.parametrize("fmt", ["HEIC", "AVIF"])
def test_heic_and_avif_lose_gps_and_serials_in_place_and_keep_every_image_byte(fmt):
    exif = Image.Exif()
    exif.load(images.exif_bytes(make="Apple", model="iPhone 15", gps=(48.1, 11.5),
                                date_original="2024:05:01 10:00:00"))
    exif.get_ifd(0x8769)[0xA431] = "0123456789"
    encode = images.heic if fmt == "HEIC" else images.avif
    original = encode(images.photo_like((64, 48)), exif=exif.tobytes())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the sample has GPS"

    shared = shared_originals.without_location(original, fmt)
    assert len(shared) == len(original), "no box moved"
    changed = [i for i, (a, b) in enumerate(zip(original, shared, strict=True)) if a != b]
    assert changed and original.find(exif.tobytes()[6:16]) <= changed[0], "only the Exif item"
    with Image.open(io.BytesIO(shared)) as im:
        assert im.getexif().get_ifd(0x8825) == {}
        assert 0xA431 not in im.getexif().get_ifd(0x8769)
        assert im.getexif()[0x010F] == "Apple"
        assert im.tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_malformed_heif_cannot_be_rewritten():
    with pytest.raises(shared_originals.NotRewritable):
        shared_originals.without_location(b"\x00\x00\x00\x40ftypheic", "HEIC")
