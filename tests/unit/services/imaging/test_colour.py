"""8-bit, sRGB, upright."""

import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from imgstream.services import imaging
from tests import images
from tests.unit.services.imaging.samples import (
    analyse_bytes,
    decoded,
)

# Colour


def test_icc_profile_is_converted_to_srgb(tmp_path):
    swapped = images.rgb_icc_profile([images.SRGB_D50_PRIMARIES[1], images.SRGB_D50_PRIMARIES[0],
                                      images.SRGB_D50_PRIMARIES[2]])
    im = Image.new("RGB", (2000, 1000), (255, 0, 0))
    for fmt in ("JPEG", "PNG"):
        result = analyse_bytes(tmp_path, images.encode(im, fmt, icc_profile=swapped))
        for derivative in (result.thumbnail, result.preview):
            r, g, b = decoded(derivative).convert("RGB").getpixel((50, 50))
            assert g > 200 and r < 60, (fmt, derivative.format, (r, g, b))


@pytest.mark.parametrize(("fmt", "orientation"), [("JPEG", 1), ("JPEG", 6), ("PNG", 1)])
def test_wide_gamut_photo_converts_as_imagecms_does(tmp_path, fmt, orientation):
    im = images.photo_like((1800, 1200))
    im.paste((255, 0, 0), (0, 0, 300, 300))  # P3 red: beyond sRGB, clipped to sRGB red
    icc = images.display_p3_profile()
    data = images.encode(im, fmt, icc_profile=icc, quality=95,
                         exif=images.exif_bytes(orientation=orientation))

    result = analyse_bytes(tmp_path, data)

    preview = decoded(result.preview).convert("RGB")
    assert preview.size == ((960, 1440) if orientation == 6 else (1440, 960))
    corner = (preview.width - 20, 20) if orientation == 6 else (20, 20)  # turned upright
    r, g, b = preview.getpixel(corner)
    assert r > 240 and g < 40 and b < 40
    # The same values as Pillow's own conversion of the whole photo, resized to the preview.
    with Image.open(io.BytesIO(data)) as original:
        reference = ImageCms.profileToProfile(
            original.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"), renderingIntent=ImageCms.Intent.PERCEPTUAL,
        ).resize((1440, 960), Image.Resampling.LANCZOS)
    if orientation == 6:
        reference = reference.transpose(Image.Transpose.ROTATE_270)
    difference = ImageStat.Stat(ImageChops.difference(preview, reference)).mean
    assert max(difference) < 4, difference


def test_threads_share_a_conversion_and_get_the_same_colours(tmp_path):
    import concurrent.futures

    data = images.encode(images.photo_like((1800, 1200)), "JPEG",
                         icc_profile=images.display_p3_profile())
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"{i}.jpg")
        paths[-1].write_bytes(data)

    def run(path):
        result = imaging.analyse(path, thumbnail_size=400, preview_size=1440,
                                 max_pixels=100_000_000)
        return result.preview.data, result.thumbnail.data

    alone = run(paths[0])
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        assert list(pool.map(run, paths)) == [alone] * len(paths)


def test_a_profile_that_is_not_rgb_is_ignored(tmp_path):
    grey = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    im = Image.new("RGB", (2000, 1000), (200, 120, 40))
    result = analyse_bytes(tmp_path, images.encode(im, "JPEG", icc_profile=grey, quality=95))
    r, g, b = decoded(result.preview).convert("RGB").getpixel((50, 50))
    assert abs(r - 200) < 8 and abs(g - 120) < 8 and abs(b - 40) < 8


def test_srgb_profile_leaves_colours_alone(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im = Image.new("RGB", (2000, 1000), (200, 120, 40))
    result = analyse_bytes(tmp_path, images.encode(im, "PNG", icc_profile=srgb))
    r, g, b = decoded(result.preview).convert("RGB").getpixel((50, 50))
    assert abs(r - 200) < 6 and abs(g - 120) < 6 and abs(b - 40) < 6


def test_broken_icc_profile_is_ignored(tmp_path):
    im = Image.new("RGB", (200, 100), (200, 120, 40))
    result = analyse_bytes(tmp_path, images.encode(im, "PNG", icc_profile=b"\0" * 200))
    r, g, b = decoded(result.thumbnail).convert("RGB").getpixel((50, 50))
    assert abs(r - 200) < 8 and abs(g - 120) < 8


@pytest.mark.parametrize("mode", ["RGBA", "P", "LA", "L", "I;16", "1"])
def test_colour_modes_make_thumbnails(tmp_path, mode):
    result = analyse_bytes(tmp_path, images.png(mode=mode))
    assert Image.open(io.BytesIO(result.thumbnail_webp)).size == (64, 48)


def test_16_bit_is_scaled_not_clipped(tmp_path):
    im = Image.new("I;16", (32, 32), 32768)
    thumb = Image.open(io.BytesIO(analyse_bytes(tmp_path, images.encode(im, "PNG")).thumbnail_webp))
    value = thumb.convert("L").getpixel((10, 10))
    assert 120 <= value <= 136


def test_cmyk_jpeg_renders_in_rgb(tmp_path):
    im = Image.new("CMYK", (2000, 1000), (0, 255, 255, 0))  # no cyan, full magenta+yellow: red
    result = analyse_bytes(tmp_path, images.encode(im, "JPEG", quality=95))
    for derivative in (result.thumbnail, result.preview):
        out = decoded(derivative)
        assert out.mode == "RGB"
        r, g, b = out.getpixel((20, 20))
        assert r > 200 and g < 60 and b < 60, (r, g, b)


def test_palette_with_transparency_keeps_it(tmp_path):
    im = Image.new("P", (2000, 1000), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 1000, 1000))
    result = analyse_bytes(tmp_path, images.encode(im, "PNG", transparency=0))
    thumb = decoded(result.thumbnail)
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((10, 10))[3] == 0
    assert thumb.getpixel((390, 190))[:3] == pytest.approx((255, 0, 0), abs=4)
    assert result.preview.format is imaging.WEBP


