"""The Little CMS binding: the same sRGB values as Pillow's ImageCms, every failure a ValueError."""

import concurrent.futures
import io

import pytest
from PIL import Image, ImageCms, _imagingcms, _imagingmath

from imgstream.services.littlecms import LittleCMS
from tests import images

SWAPPED = images.rgb_icc_profile([images.SRGB_D50_PRIMARIES[1], images.SRGB_D50_PRIMARIES[0],
                                  images.SRGB_D50_PRIMARIES[2]])


@pytest.fixture(scope="module")
def cms():
    return LittleCMS(_imagingcms.__file__)


def convert(cms, icc: bytes, im: Image.Image) -> Image.Image:
    return Image.frombytes("RGB", im.size, cms.rgb_to_srgb(icc).apply(im.tobytes()))


def imagecms(icc: bytes, im: Image.Image) -> Image.Image:
    transform = ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        "RGB", "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL,
    )
    return ImageCms.applyTransform(im, transform)


def test_reports_the_library_version(cms):
    major, minor = (int(part) for part in cms.version.split("."))
    assert (major, minor) >= (2, 0)


@pytest.mark.parametrize("icc", [images.display_p3_profile(), SWAPPED], ids=["p3", "swapped"])
def test_converts_to_the_same_values_as_imagecms(cms, icc):
    im = images.photo_like((317, 211))  # odd sizes: no row padding to hide behind
    im.paste((255, 0, 0), (0, 0, 40, 40))  # saturated red: out of sRGB's gamut in P3
    ours = convert(cms, icc, im)
    assert ours.tobytes() == imagecms(icc, im).tobytes()
    assert ours.tobytes() != im.tobytes()


def test_swapped_primaries_swap_red_and_green(cms):
    r, g, b = convert(cms, SWAPPED, Image.new("RGB", (4, 4), (255, 0, 0))).getpixel((1, 1))
    assert g > 200 and r < 60 and b < 60


def test_threads_share_a_transform(cms):
    transform = cms.rgb_to_srgb(images.display_p3_profile())
    sources = [images.photo_like((640, 480)).rotate(angle) for angle in range(0, 360, 45)]
    expected = [imagecms(images.display_p3_profile(), im).tobytes() for im in sources]

    def one(im: Image.Image) -> bytes:
        return bytes(transform.apply(im.tobytes()))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(one, sources)) == expected


@pytest.mark.parametrize(
    "icc",
    [b"", b"\0" * 200, SWAPPED[:100]],
    ids=["empty", "zeros", "truncated"],
)
def test_unreadable_profile_is_a_value_error(cms, icc):
    with pytest.raises(ValueError, match="cannot read"):
        cms.rgb_to_srgb(icc)


def test_profile_that_is_not_rgb_is_a_value_error(cms):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    with pytest.raises(ValueError, match="cannot convert RGB"):
        cms.rgb_to_srgb(lab)


def test_data_that_is_not_whole_pixels_is_refused(cms):
    transform = cms.rgb_to_srgb(SWAPPED)
    assert transform.apply(b"") == b""
    with pytest.raises(ValueError, match="not whole RGB pixels"):
        transform.apply(bytes(3 * 10 + 2))


def test_a_library_without_little_cms_is_refused():
    with pytest.raises(OSError):
        LittleCMS("/nonexistent/liblcms2.so")
    with pytest.raises(AttributeError):
        LittleCMS(_imagingmath.__file__)  # a shared object that has nothing of Little CMS
