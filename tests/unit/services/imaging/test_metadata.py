"""EXIF read as untrusted input."""

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from PIL import Image

from imgstream.services import imaging
from tests import images
from tests.unit.services.imaging.samples import (
    FORMAT_SAMPLES,
    MARKED,
    analyse_bytes,
)

# Metadata: date taken


def test_date_original_from_exif_sub_ifd(tmp_path):
    result = analyse_bytes(
        tmp_path, images.jpeg(date_original="2021:05:01 10:30:00", date_time="2024:01:01 00:00:00")
    )
    assert result.taken_at == imaging.TakenAt(
        datetime(2021, 5, 1, 10, 30, tzinfo=UTC), None, "exif_original"
    )


@pytest.mark.parametrize(
    ("offset", "utc", "minutes"),
    [
        ("+02:00", datetime(2021, 5, 1, 8, 30, tzinfo=UTC), 120),
        ("-07:00", datetime(2021, 5, 1, 17, 30, tzinfo=UTC), -420),
        ("+05:30", datetime(2021, 5, 1, 5, 0, tzinfo=UTC), 330),
        ("+00:00", datetime(2021, 5, 1, 10, 30, tzinfo=UTC), 0),
    ],
)
def test_date_original_with_offset_is_stored_as_utc(tmp_path, offset, utc, minutes):
    result = analyse_bytes(
        tmp_path, images.jpeg(date_original="2021:05:01 10:30:00", offset_original=offset)
    )
    assert result.taken_at == imaging.TakenAt(utc, minutes, "exif_original")


@pytest.mark.parametrize("offset", ["+25:00", "02:00", "+2:00", "garbage", "+02:75"])
def test_malformed_offset_is_ignored(tmp_path, offset):
    result = analyse_bytes(
        tmp_path, images.jpeg(date_original="2021:05:01 10:30:00", offset_original=offset)
    )
    assert result.taken_at == imaging.TakenAt(
        datetime(2021, 5, 1, 10, 30, tzinfo=UTC), None, "exif_original"
    )


def test_falls_back_to_date_digitized_with_its_own_offset(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(
        date_digitized="2020:02:02 12:00:00", offset_digitized="+01:00",
        date_time="2024:01:01 00:00:00",
    ))
    assert result.taken_at == imaging.TakenAt(
        datetime(2020, 2, 2, 11, 0, tzinfo=UTC), 60, "exif_digitized"
    )


def test_falls_back_to_datetime(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(date_time="2018:12:24 20:00:00",
                                                 offset_time="-03:00"))
    assert result.taken_at.utc == datetime(2018, 12, 24, 23, 0, tzinfo=UTC)
    assert result.taken_at.source == "exif_datetime"


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "garbage", "    :  :     :  :  "])
def test_unusable_dates_are_ignored(tmp_path, value):
    assert analyse_bytes(tmp_path, images.jpeg(date_original=value)).taken_at is None


def test_no_exif_means_no_date(tmp_path):
    assert analyse_bytes(tmp_path, images.png()).taken_at is None


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIC", "AVIF"])
def test_exif_is_read_from_every_format_that_carries_it(tmp_path, fmt):
    exif = images.exif_bytes(date_original="2022:08:09 07:06:05", offset_original="+09:00",
                             make="Apple", model="iPhone 15 Pro")
    result = analyse_bytes(tmp_path, FORMAT_SAMPLES[fmt](MARKED, exif=exif))
    assert result.taken_at == imaging.TakenAt(
        datetime(2022, 8, 8, 22, 6, 5, tzinfo=UTC), 540, "exif_original"
    )
    assert result.metadata.camera.model == "iPhone 15 Pro"


# Metadata: camera and GPS


def test_camera_lens_and_exposure(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(
        make="FUJIFILM", model="X-T5", lens="XF23mmF1.4 R LM WR", focal_length=23.0,
        f_number=1.4, exposure=Fraction(1, 250), iso=400,
    ))
    assert result.metadata.camera == imaging.Camera(
        make="FUJIFILM", model="X-T5", lens="XF23mmF1.4 R LM WR", focal_length_mm=23.0,
        f_number=1.4, exposure_time_s=0.004, iso=400,
    )


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ((48.858370, 2.294481), (48.85837, 2.294481)),
        ((-33.856784, 151.215297), (-33.856784, 151.215297)),
        ((40.689247, -74.044502), (40.689247, -74.044502)),
        ((-22.951916, -43.210487), (-22.951916, -43.210487)),
    ],
)
def test_gps_position_in_decimal_degrees(tmp_path, position, expected):
    result = analyse_bytes(tmp_path, images.jpeg(gps=position))
    gps = result.metadata.gps
    assert gps.latitude == pytest.approx(expected[0], abs=1e-5)
    assert gps.longitude == pytest.approx(expected[1], abs=1e-5)


@pytest.mark.parametrize(
    "ifd",
    [
        {},
        {1: "N", 2: (Fraction(91), Fraction(0), Fraction(0)), 3: "E",
         4: (Fraction(2), Fraction(0), Fraction(0))},
        {1: "N", 2: (Fraction(48), Fraction(0)), 3: "E", 4: "garbage"},
        {1: "N", 2: (float("nan"), 0.0, 0.0), 3: "E", 4: (1.0, 0.0, 0.0)},
        {2: (), 4: ()},
    ],
)
def test_missing_or_impossible_gps_is_no_position(ifd):
    assert imaging.gps_position(ifd) is None


def test_gps_without_refs_is_north_east():
    ifd = {2: (Fraction(10), Fraction(30), Fraction(0)), 4: (Fraction(20), Fraction(15), 0)}
    assert imaging.gps_position(ifd) == imaging.GpsPosition(10.5, 20.25)


# Metadata: hostile text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
        ('"><script>alert(2)</script>', '"><script>alert(2)</script>'),
        ("Canon\x00\x00\x00", "Canon"),
        ("gnp\u202eexe.Nikon", "gnpexe.Nikon"),
        ("Le\u2066ica\u2069 \u200bM11\ufeff", "Leica M11"),
        ("Sony\r\nX-Set-Cookie: a\tb\x1b[31m", "Sony X-Set-Cookie: a b[31m"),
        ("  ", None),
        ("\x00\x01\x02", None),
        (b"Nikon \xff\xfe Z9", "Nikon \ufffd\ufffd Z9"),
        (12345, None),
        ("é" * 1000, "é" * 128),
    ],
)
def test_exif_text_is_sanitised(raw, clean):
    assert imaging.clean_text(raw) == clean


def test_hostile_exif_strings_are_stripped_and_capped(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(
        # Raw UTF-8 in the ASCII field, as a hostile file carries it.
        make="\u202e<img src=x onerror=alert(1)>\x00".encode(),
        model='"><script>alert(2)</script>' + "A" * 5000,
        lens="\x07Lens\x1b",
    ))
    camera = result.metadata.camera
    assert camera.make == "<img src=x onerror=alert(1)>"
    assert camera.model.startswith('"><script>') and len(camera.model) == imaging.MAX_TEXT_LENGTH
    assert camera.lens == "Lens"


def test_damaged_exif_means_no_exif_not_a_refusal(tmp_path):
    im = Image.new("RGB", (64, 48), (1, 2, 3))
    garbage = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x01" * 200
    result = analyse_bytes(tmp_path, images.encode(im, "JPEG", exif=garbage))
    assert result.metadata.taken_at is None
    assert result.metadata.orientation == 1
    assert (result.width, result.height) == (64, 48)


