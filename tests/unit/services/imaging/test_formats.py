"""Formats are told by their bytes."""


import pytest

from imgstream.services import imaging
from tests import images
from tests.unit.services.imaging.samples import (
    FORMAT_SAMPLES,
    MARKED,
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (images.jpeg(), imaging.JPEG),
        (images.png(), imaging.PNG),
        (images.webp(), imaging.WEBP),
        (FORMAT_SAMPLES["GIF"](MARKED), imaging.GIF),
        (images.heic(MARKED), imaging.HEIC),
        (images.avif(MARKED), imaging.AVIF),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf", imaging.HEIF),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", imaging.AVIF),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", None),  # an MP4 video
        (images.encode(MARKED, "TIFF"), None),
        (images.encode(MARKED, "BMP"), None),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', None),
        (b"\x7fELF\x02\x01\x01\x00" + b"\0" * 24, None),
        (b"8BPS\x00\x01" + b"\0" * 30, None),
        (b"hello world, not an image", None),
    ],
)
def test_sniff_format_reads_the_bytes(data, expected):
    assert imaging.sniff_format(data[:64]) is expected




def test_storage_gives_each_extension_the_content_type_imaging_does():
    from imgstream.services import storage

    assert storage.MIME_BY_EXTENSION == imaging.MIME_BY_EXTENSION
    for fmt in imaging.ACCEPTED_FORMATS:
        assert storage.content_type_for(f"photos/x/y.{fmt.extension}") == fmt.mime
