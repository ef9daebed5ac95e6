import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from imgstream.services import imaging
from tests import images


def analyse_bytes(tmp_path, data: bytes, **kwargs) -> imaging.ImageAnalysis:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    kwargs.setdefault("thumbnail_size", 400)
    kwargs.setdefault("max_pixels", 100_000_000)
    return imaging.analyse(path, **kwargs)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (images.jpeg(), imaging.JPEG),
        (images.png(), imaging.PNG),
        (images.webp(), imaging.WEBP),
        (b"GIF89a" + b"\0" * 20, None),
        (b"hello world, not an image", None),
    ],
)
def test_sniff_format_reads_the_bytes(data, expected):
    assert imaging.sniff_format(data[:16]) is expected


def test_png_bytes_named_jpg_are_stored_as_png(tmp_path):
    result = analyse_bytes(tmp_path, images.png())
    assert result.format is imaging.PNG


def test_date_original_from_exif_sub_ifd(tmp_path):
    result = analyse_bytes(
        tmp_path, images.jpeg(date_original="2021:05:01 10:30:00", date_time="2024:01:01 00:00:00")
    )
    assert result.taken_at == imaging.TakenAt(
        datetime(2021, 5, 1, 10, 30, tzinfo=UTC), None, "exif_original"
    )


def test_date_original_with_offset_is_stored_as_utc(tmp_path):
    result = analyse_bytes(
        tmp_path, images.jpeg(date_original="2021:05:01 10:30:00", offset_original="+02:00")
    )
    assert result.taken_at.utc == datetime(2021, 5, 1, 8, 30, tzinfo=UTC)
    assert result.taken_at.offset_minutes == 120


def test_falls_back_to_datetime(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(date_time="2018:12:24 20:00:00"))
    assert result.taken_at.utc == datetime(2018, 12, 24, 20, 0, tzinfo=UTC)
    assert result.taken_at.source == "exif_datetime"


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "garbage", "    :  :     :  :  "])
def test_unusable_dates_are_ignored(tmp_path, value):
    assert analyse_bytes(tmp_path, images.jpeg(date_original=value)).taken_at is None


def test_no_exif_means_no_date(tmp_path):
    assert analyse_bytes(tmp_path, images.png()).taken_at is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_before_sizing(tmp_path, orientation):
    # The marker is painted top-left of the *displayed* image: write the stored pixels so that
    # applying the orientation brings it back there.
    displayed = Image.new("RGB", (80, 40), (200, 40, 40))
    displayed.paste((0, 255, 0), (0, 0, 40, 20))
    inverse = {
        1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = displayed if inverse is None else displayed.transpose(inverse)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", exif=exif.tobytes(), quality=95)

    result = analyse_bytes(tmp_path, buf.getvalue())

    assert (result.width, result.height) == (80, 40)
    thumb = Image.open(io.BytesIO(result.thumbnail_webp))
    assert thumb.size == (80, 40)
    r, g, b = thumb.convert("RGB").getpixel((5, 5))
    assert g > 200 and r < 60, (orientation, (r, g, b))
    r, g, b = thumb.convert("RGB").getpixel((75, 35))
    assert r > 150 and g < 90


def test_thumbnail_is_webp_bounded_and_never_upscaled(tmp_path):
    big = analyse_bytes(tmp_path, images.jpeg(size=(3000, 2000)))
    small = analyse_bytes(tmp_path, images.jpeg(size=(120, 90)))
    assert Image.open(io.BytesIO(big.thumbnail_webp)).format == "WEBP"
    assert (big.thumbnail_width, big.thumbnail_height) == (400, 267)
    assert (big.width, big.height) == (3000, 2000)
    assert (small.thumbnail_width, small.thumbnail_height) == (120, 90)


def test_thumbnail_carries_no_metadata(tmp_path):
    data = images.jpeg(size=(800, 600), date_original="2021:05:01 10:30:00")
    thumb = Image.open(io.BytesIO(analyse_bytes(tmp_path, data).thumbnail_webp))
    assert not thumb.info.get("exif")
    assert len(thumb.getexif()) == 0


@pytest.mark.parametrize("mode", ["RGBA", "P", "LA", "L", "I;16", "1"])
def test_colour_modes_make_thumbnails(tmp_path, mode):
    result = analyse_bytes(tmp_path, images.png(mode=mode))
    assert Image.open(io.BytesIO(result.thumbnail_webp)).size == (64, 48)


def test_16_bit_is_scaled_not_clipped(tmp_path):
    im = Image.new("I;16", (32, 32), 32768)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    thumb = Image.open(io.BytesIO(analyse_bytes(tmp_path, buf.getvalue()).thumbnail_webp))
    value = thumb.convert("L").getpixel((10, 10))
    assert 120 <= value <= 136


def truncated_jpeg() -> bytes:
    data = images.jpeg(size=(400, 300))
    return data[: len(data) // 2]


def decompression_bomb_png() -> bytes:
    im = Image.new("1", (12000, 12000))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def png_text_bomb() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * (8 * 1024 * 1024), zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def tiff_named_jpg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "TIFF")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff", "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff", "damaged"),
        (b"just some text that ends in .jpg", "not a JPEG, PNG or WebP"),
        (truncated_jpeg(), "truncated"),
        (tiff_named_jpg(), "not a JPEG, PNG or WebP"),
        (png_text_bomb(), "damaged"),
    ],
)
def test_bad_input_is_one_domain_error(tmp_path, data, reason):
    with pytest.raises(imaging.UnsupportedImage, match=reason):
        analyse_bytes(tmp_path, data)


def test_pixel_cap_is_checked_before_decoding(tmp_path):
    with pytest.raises(imaging.UnsupportedImage, match="megapixels"):
        analyse_bytes(tmp_path, decompression_bomb_png(), max_pixels=50_000_000)
