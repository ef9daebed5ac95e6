"""JPEG previews and thumbnails made from YCbCr planes: the same pictures as through RGB."""

import concurrent.futures
import io
import math
import random

import pytest
from cykooz_resizer import FilterType, ResizeAlg, ResizeOptions, Resizer
from PIL import Image, ImageChops, ImageStat

from imgstream.services import imaging
from imgstream.services.jpeg_derivatives import (
    BILINEAR,
    CATMULL_ROM,
    JpegDerivatives,
    UnsuitedJpeg,
)
from tests import images

SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


@pytest.fixture(scope="module")
def native():
    maker = imaging._jpeg_derivatives()
    if maker is None:
        pytest.skip("the YCbCr JPEG library is not built (`make setup` with libjpeg's headers)")
    return maker


def analyse(tmp_path, data: bytes, **kwargs) -> imaging.ImageAnalysis:
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    kwargs = {"thumbnail_size": 400, "preview_size": 1440, "max_pixels": 100_000_000} | kwargs
    return imaging.analyse(path, **kwargs)


def through_rgb(tmp_path, monkeypatch, data: bytes, **kwargs) -> imaging.ImageAnalysis:
    with monkeypatch.context() as patch:
        patch.setattr(imaging, "_jpeg_derivatives", lambda: None)
        return analyse(tmp_path, data, **kwargs)


def picture(derivative: imaging.Derivative) -> Image.Image:
    im = Image.open(io.BytesIO(derivative.data))
    assert im.size == (derivative.width, derivative.height)
    return im.convert("RGB")


def psnr(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (3 * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def fir(plane: bytes, size, to, kernel: FilterType) -> bytes:
    out = Image.new("L", to)
    Resizer().resize_pil(Image.frombytes("L", size, plane), out,
                         ResizeOptions(resize_alg=ResizeAlg.convolution(kernel)))
    return out.tobytes()


# Resampling


@pytest.mark.parametrize(
    ("kernel", "size", "to", "tolerance"),
    [(BILINEAR, (2000, 1500), (1440, 1080), 1), (BILINEAR, (1001, 757), (720, 540), 1),
     (BILINEAR, (37, 23), (17, 9), 1), (BILINEAR, (640, 480), (640, 300), 1),
     (BILINEAR, (300, 200), (450, 300), 1), (CATMULL_ROM, (1440, 1080), (400, 300), 2),
     (CATMULL_ROM, (721, 539), (199, 151), 2)],
)
def test_resampling_gives_the_python_resampler_values(native, kernel, size, to, tolerance):
    """Noise, the hardest case: every value within rounding, almost all the same."""
    rng = random.Random(size[0])
    plane = bytes(rng.randrange(256) for _ in range(size[0] * size[1]))
    ours = native.resample(plane, size, to, kernel)
    theirs = fir(plane, size, to,
                 FilterType.bilinear if kernel == BILINEAR else FilterType.catmull_rom)
    differences = [abs(a - b) for a, b in zip(ours, theirs, strict=True)]
    assert max(differences) <= tolerance
    assert sum(map(bool, differences)) < 0.05 * len(differences)


@pytest.mark.parametrize("kernel", [BILINEAR, CATMULL_ROM])
def test_the_plain_resampler_gives_the_simd_values(native, kernel):
    """A CPU without AVX2 gets the same pixels."""
    size, to = (1001, 757), (400, 303)
    rng = random.Random(3)
    plane = bytes(rng.randrange(256) for _ in range(size[0] * size[1]))
    simd = native.resample(plane, size, to, kernel)
    native.allow_simd(False)
    try:
        plain = native.resample(plane, size, to, kernel)
    finally:
        native.allow_simd(True)
    assert plain == simd


def test_a_plane_of_the_wrong_length_is_refused(native):
    with pytest.raises(ValueError, match="size"):
        native.resample(b"\0" * 10, (4, 4), (2, 2), BILINEAR)


# The derivatives


@pytest.mark.parametrize("subsampling", SUBSAMPLING)
@pytest.mark.parametrize("size", [(4000, 3000), (2048, 1536), (3001, 1999)])
def test_derivatives_match_those_made_through_rgb(tmp_path, monkeypatch, native, subsampling,
                                                  size):
    data = images.encode(images.photo_like(size), "JPEG", quality=90,
                         subsampling=SUBSAMPLING[subsampling])
    ours = analyse(tmp_path, data)
    reference = through_rgb(tmp_path, monkeypatch, data)
    for derivative, expected in ((ours.preview, reference.preview),
                                 (ours.thumbnail, reference.thumbnail)):
        assert (derivative.format, derivative.width, derivative.height) == (
            expected.format, expected.width, expected.height)
        assert psnr(picture(derivative), picture(expected)) > 40
    preview = Image.open(io.BytesIO(ours.preview.data))
    assert preview.layer[0][1:3] == (2, 2), "previews are 4:2:0"
    assert "exif" not in preview.info and "icc_profile" not in preview.info
    assert ours.thumbhash


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_turned_as_through_rgb(tmp_path, monkeypatch, native, orientation):
    stored = images.marked((2001, 999))
    inverse = images.INVERSE_ORIENTATION[orientation]
    if inverse is not None:
        stored = stored.transpose(inverse)
    data = images.encode(stored, "JPEG", quality=92,
                         exif=images.exif_bytes(orientation=orientation))
    ours = analyse(tmp_path, data)
    reference = through_rgb(tmp_path, monkeypatch, data)
    assert (ours.width, ours.height) == (2001, 999)
    for derivative, expected in ((ours.preview, reference.preview),
                                 (ours.thumbnail, reference.thumbnail)):
        assert (derivative.width, derivative.height) == (expected.width, expected.height)
        assert derivative.width > derivative.height
        assert psnr(picture(derivative), picture(expected)) > 35


def test_the_photo_colours_are_kept(tmp_path, native):
    im = Image.new("RGB", (3000, 2000), (30, 80, 200))
    im.paste((240, 200, 30), (1500, 0, 3000, 2000))
    result = analyse(tmp_path, images.encode(im, "JPEG", quality=95))
    for derivative in (result.preview, result.thumbnail):
        out = picture(derivative)
        for at, colour in (((0.25, 0.5), (30, 80, 200)), ((0.75, 0.5), (240, 200, 30))):
            got = out.getpixel((int(out.width * at[0]), int(out.height * at[1])))
            assert all(abs(g - c) <= 4 for g, c in zip(got, colour, strict=True)), (got, colour)


def test_a_jpeg_stored_as_rgb_is_made_through_rgb(tmp_path, native):
    im = Image.new("RGB", (2000, 1000), (200, 30, 30))
    data = images.encode(im, "JPEG", quality=95, keep_rgb=True)
    path = tmp_path / "rgb.jpg"
    path.write_bytes(data)
    with pytest.raises(UnsuitedJpeg):
        native.make(path, size=(2000, 1000), denominator=1, preview_size=(1440, 720),
                    orientation=1, quality=85, thumbnail_size=(400, 200))
    result = analyse(tmp_path, data)
    r, g, b = picture(result.preview).getpixel((700, 300))
    assert r > 180 and g < 60 and b < 60


def test_damaged_and_truncated_jpegs_are_refused(tmp_path, native):
    data = images.encode(images.photo_like((3000, 2000)), "JPEG", quality=90)
    with pytest.raises(imaging.UnsupportedImage, match="truncated"):
        analyse(tmp_path, data[: len(data) * 2 // 3])
    damaged = bytearray(data)
    scan = damaged.index(b"\xff\xda")
    for at in range(scan + 400, len(damaged) - 400, 997):
        damaged[at] = 0xFF
        damaged[at + 1] = 0xD3  # restart markers where none belong
    with pytest.raises(imaging.UnsupportedImage, match="damaged"):
        analyse(tmp_path, bytes(damaged))


def test_a_frame_header_that_disagrees_with_the_checked_size_is_refused(tmp_path, native):
    path = tmp_path / "photo.jpg"
    path.write_bytes(images.encode(images.photo_like((640, 480)), "JPEG"))
    with pytest.raises(ValueError, match="size"):
        native.make(path, size=(6400, 4800), denominator=8, preview_size=(800, 600),
                    orientation=1, quality=85, thumbnail_size=(400, 300))


def test_threads_make_the_same_derivatives_at_once(tmp_path, native):
    paths = []
    for i, size in enumerate([(4000, 3000), (3000, 4000), (2048, 1536), (6000, 4000)]):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(images.encode(images.photo_like(size), "JPEG", quality=88))
        paths.append(path)

    def make(path):
        result = imaging.analyse(path, thumbnail_size=400, preview_size=1440,
                                 max_pixels=100_000_000)
        return result.preview.data, result.thumbnail.data

    alone = [make(path) for path in paths]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(make, paths * 3))
    assert together == alone * 3


def test_the_library_is_loaded_where_it_is_built(tmp_path):
    with pytest.raises(OSError):
        JpegDerivatives(tmp_path / "missing.so")
