import base64
import inspect
import io
import resource
import struct
import time
from datetime import UTC, datetime
from fractions import Fraction

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat, PngImagePlugin

from imgstream.services import imaging
from tests import images


@pytest.fixture(params=["ycbcr", "rgb"])
def jpeg_route(request, monkeypatch):
    """Run a test once with JPEGs made from their YCbCr planes, once through RGB."""
    if request.param == "rgb":
        monkeypatch.setattr(imaging, "_jpeg_derivatives", lambda: None)
    elif imaging._jpeg_derivatives() is None:
        pytest.skip("the YCbCr JPEG library is not built (`make setup` with libjpeg's headers)")
    return request.param


def analyse_bytes(tmp_path, data: bytes, **kwargs) -> imaging.ImageAnalysis:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    kwargs.setdefault("thumbnail_size", 400)
    kwargs.setdefault("preview_size", 1440)
    kwargs.setdefault("max_pixels", 100_000_000)
    return imaging.analyse(path, **kwargs)


def decoded(derivative: imaging.Derivative) -> Image.Image:
    im = Image.open(io.BytesIO(derivative.data))
    assert im.format == derivative.format.pillow
    assert im.size == (derivative.width, derivative.height)
    return im


def assert_upright(im: Image.Image) -> None:
    """The marker is top-left and the body bottom-right: the image is shown upright."""
    rgb = im.convert("RGB")
    w, h = rgb.size
    r, g, b = rgb.getpixel((w // 8, h // 8))
    assert g > 180 and r < 90, ("marker not top-left", (r, g, b))
    r, g, b = rgb.getpixel((w - 1 - w // 8, h - 1 - h // 8))
    assert r > 140 and g < 100, ("body not bottom-right", (r, g, b))
    r, g, b = rgb.getpixel((w - 1 - w // 8, h // 8))
    assert r > 140 and g < 100, ("body not top-right", (r, g, b))


# Formats


MARKED = images.marked((80, 40))
FORMAT_SAMPLES = {
    "JPEG": lambda im, **kw: images.encode(im, "JPEG", quality=95, **kw),
    "PNG": lambda im, **kw: images.encode(im, "PNG", **kw),
    "WEBP": lambda im, **kw: images.encode(im, "WEBP", quality=95, **kw),
    "GIF": lambda im, **kw: images.encode(im, "GIF", **kw),
    "HEIC": lambda im, **kw: images.heic(im, **kw),
    "AVIF": lambda im, **kw: images.avif(im, **kw),
}


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


@pytest.mark.parametrize("fmt", list(FORMAT_SAMPLES))
def test_each_format_is_accepted_with_upright_derivatives(tmp_path, fmt):
    result = analyse_bytes(tmp_path, FORMAT_SAMPLES[fmt](images.marked((800, 400))),
                           preview_size=600)
    assert result.format is imaging.format_named(fmt)
    assert (result.width, result.height) == (800, 400)
    thumb = decoded(result.thumbnail)
    assert thumb.format == "WEBP" and thumb.size == (400, 200)
    assert_upright(thumb)
    assert result.preview is not None, "800 px is over the 600 px preview size"
    preview = decoded(result.preview)
    assert preview.size == (600, 300)
    assert result.preview.format is imaging.JPEG
    assert_upright(preview)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIC", "AVIF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_ends_upright(tmp_path, fmt, orientation, jpeg_route):
    # Store the pixels so that applying the orientation brings the marker back top-left.
    inverse = images.INVERSE_ORIENTATION[orientation]
    stored = MARKED if inverse is None else MARKED.transpose(inverse)
    data = FORMAT_SAMPLES[fmt](stored, exif=images.exif_bytes(orientation=orientation))

    result = analyse_bytes(tmp_path, data)

    assert (result.width, result.height) == (80, 40), "dimensions are as displayed"
    assert_upright(decoded(result.thumbnail))
    if result.preview is None:
        assert fmt in ("JPEG", "PNG", "WEBP") and orientation == 1
    else:
        assert_upright(decoded(result.preview))
        assert len(Image.open(io.BytesIO(result.preview.data)).getexif()) == 0


def test_heic_with_exif_orientation_is_not_rotated_twice(tmp_path):
    # libheif applies the file's rotation itself; the EXIF orientation must not be applied again.
    data = images.heic(MARKED.transpose(Image.Transpose.ROTATE_90),
                       exif=images.exif_bytes(orientation=6))
    result = analyse_bytes(tmp_path, data)
    assert (result.width, result.height) == (80, 40)
    assert_upright(decoded(result.thumbnail))


def test_phone_jpeg_with_a_second_image_is_its_first_image_turned_upright(tmp_path):
    # Phones append a gain map or a depth map after the photo (MPF): Pillow reads it as MPO.
    inverse = images.INVERSE_ORIENTATION[6]
    stored = MARKED.resize((800, 400)).transpose(inverse)
    out = io.BytesIO()
    stored.save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (200, 400), "grey")],
                exif=images.exif_bytes(orientation=6, make="Apple"),
                icc_profile=images.display_p3_profile())
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"

    result = analyse_bytes(tmp_path, out.getvalue(), preview_size=600)

    assert result.format is imaging.JPEG
    assert (result.width, result.height) == (800, 400)
    assert result.metadata.camera.make == "Apple"
    for derivative in (result.thumbnail, result.preview):
        assert_upright(decoded(derivative))


def test_thumbnail_is_webp_bounded_and_never_upscaled(tmp_path):
    big = analyse_bytes(tmp_path, images.jpeg(size=(3000, 2000)))
    small = analyse_bytes(tmp_path, images.jpeg(size=(120, 90)))
    assert Image.open(io.BytesIO(big.thumbnail_webp)).format == "WEBP"
    assert (big.thumbnail_width, big.thumbnail_height) == (400, 267)
    assert (big.width, big.height) == (3000, 2000)
    assert (small.thumbnail_width, small.thumbnail_height) == (120, 90)


def test_preview_is_bounded_by_its_setting_and_never_upscaled(tmp_path):
    big = analyse_bytes(tmp_path, images.encode(images.photo_like((3000, 2000)), "PNG"))
    assert (big.preview.width, big.preview.height) == (1440, 960)
    small_heic = analyse_bytes(tmp_path, images.heic(images.marked((300, 200))))
    assert small_heic.preview is not None, "a browser cannot show HEIC: it needs a preview"
    assert (small_heic.preview.width, small_heic.preview.height) == (300, 200)


def test_small_upright_browser_original_is_its_own_preview(tmp_path):
    assert analyse_bytes(tmp_path, images.jpeg(size=(1440, 900))).preview is None
    assert analyse_bytes(tmp_path, images.jpeg(size=(1441, 900))).preview is not None
    rotated = analyse_bytes(tmp_path, images.jpeg(size=(640, 480), orientation=6))
    assert rotated.preview is not None
    located = analyse_bytes(tmp_path, images.jpeg(size=(640, 480), gps=(48.8584, 2.2945)))
    assert located.preview is not None, "a preview never carries the original's location"


def test_preview_keeps_transparency_as_webp(tmp_path):
    im = Image.new("RGBA", (2000, 1000), (0, 0, 255, 255))
    im.paste((0, 0, 0, 0), (0, 0, 1000, 1000))
    result = analyse_bytes(tmp_path, images.encode(im, "PNG"))
    assert result.preview.format is imaging.WEBP
    preview = decoded(result.preview)
    assert preview.mode == "RGBA"
    assert preview.getpixel((10, 10))[3] == 0
    assert preview.getpixel((1400, 600)) == (0, 0, 255, 255)


def test_gif_uses_the_first_frame_of_an_animation(tmp_path):
    frames = [Image.new("RGB", (60, 40), color) for color in [(255, 0, 0), (0, 0, 255)] * 5]
    data = images.encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    result = analyse_bytes(tmp_path, data)
    r, g, b = decoded(result.thumbnail).convert("RGB").getpixel((30, 20))
    assert r > 200 and b < 60


def test_animated_webp_uses_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (60, 40), color) for color in [(0, 200, 0), (255, 0, 0)]]
    data = images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                         lossless=True)
    r, g, b = decoded(analyse_bytes(tmp_path, data).thumbnail).convert("RGB").getpixel((5, 5))
    assert g > 150 and r < 60


# Decoding once, at reduced size


@pytest.mark.parametrize(
    ("size", "decoded_size", "preview"),
    [
        ((6000, 4000), (1500, 1000), (1440, 960)),  # 1/4: still >= the 1440 px preview
        ((4000, 3000), (2000, 1500), (1440, 1080)),  # 1/2 (3/8 would be 1500, but slower)
        ((2048, 1536), (2048, 1536), (1440, 1080)),  # 1/2 would be under 1440: full size
        ((20000, 3000), (2500, 375), (1440, 216)),  # a panorama: 1/8
    ],
)
def test_jpeg_is_decoded_once_at_a_power_of_two_dct_scale(
    tmp_path, monkeypatch, size, decoded_size, preview, jpeg_route
):
    decodes = []
    real_rgb = imaging.simplejpeg.decode_jpeg
    real_ycbcr = imaging.JpegDerivatives.make

    def spy_rgb(*args, **kwargs):
        pixels = real_rgb(*args, **kwargs)
        decodes.append((pixels.shape[1], pixels.shape[0]))
        return pixels

    def spy_ycbcr(self, path, *, size, denominator, **kwargs):
        decodes.append((-(-size[0] // denominator), -(-size[1] // denominator)))
        return real_ycbcr(self, path, size=size, denominator=denominator, **kwargs)

    monkeypatch.setattr(imaging.simplejpeg, "decode_jpeg", spy_rgb)
    monkeypatch.setattr(imaging.JpegDerivatives, "make", spy_ycbcr)
    result = analyse_without_pillow_decoding(
        tmp_path, monkeypatch, images.encode(images.photo_like(size), "JPEG")
    )
    assert decodes == [decoded_size]
    assert (result.preview.width, result.preview.height) == preview
    assert decoded(result.preview).size == preview


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_derivatives_match_a_full_size_pillow_rendering(
    tmp_path, monkeypatch, progressive, jpeg_route
):
    """The DCT-scaled decode read in place by the resampler has the colours Pillow decodes."""
    im = images.photo_like((3000, 2000))
    draw_quadrants(im)
    data = images.encode(im, "JPEG", quality=95, progressive=progressive)
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data)
    with Image.open(io.BytesIO(data)) as full:
        reference = full.convert("RGB")
    for derivative in (result.preview, result.thumbnail):
        out = decoded(derivative).convert("RGB")
        expected = reference.resize(out.size, Image.Resampling.LANCZOS)
        difference = ImageStat.Stat(ImageChops.difference(out, expected)).mean
        assert max(difference) < 4, (derivative.format, difference)
        for x, y in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
            at = (int(out.width * x), int(out.height * y))
            got, want = out.getpixel(at), expected.getpixel(at)
            assert all(abs(g - w) < 16 for g, w in zip(got, want, strict=True)), (at, got, want)


def draw_quadrants(im: Image.Image) -> None:
    from PIL import ImageDraw

    w, h = im.size
    draw = ImageDraw.Draw(im)
    for (x, y), colour in zip(
        ((0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)),
        ((220, 30, 30), (30, 200, 40), (40, 60, 210), (240, 220, 40)),
        strict=True,
    ):
        draw.rectangle((x + w // 8, y + h // 8, x + w // 2 - w // 8, y + h // 2 - h // 8),
                       fill=colour)


def test_reused_decode_buffers_never_leak_between_uploads(tmp_path):
    """Each thread keeps its decode buffer; a result never depends on what was decoded before."""
    import concurrent.futures

    files = []
    for i, size in enumerate([(4000, 3000), (2048, 1536), (6000, 4000), (1600, 1200)]):
        im = images.photo_like(size)
        draw_quadrants(im)
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(images.encode(im, "JPEG"))
        files.append(path)
    # Large WebPs are decoded into the same buffers (RGBA, opaque or not).
    for i, im in enumerate([images.photo_like((3000, 2000)), images.translucent((2400, 1800))]):
        draw_quadrants(im)
        path = tmp_path / f"{i}.webp"
        path.write_bytes(images.encode(im, "WEBP"))
        files.insert(2 * i + 1, path)

    def run(path):
        result = imaging.analyse(path, thumbnail_size=400, preview_size=1440,
                                 max_pixels=100_000_000)
        return result.preview.data, result.thumbnail.data, result.thumbhash

    alone = [run(path) for path in files]
    for path, expected in zip(reversed(files), reversed(alone), strict=True):
        assert run(path) == expected
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        assert list(pool.map(run, files * 3)) == alone * 3


def test_heic_embedded_thumbnail_is_used_when_large_enough(tmp_path, monkeypatch):
    drafts = []
    real = pillow_heif.HeifImageFile.draft

    def spy(self, mode, size):
        picked = real(self, mode, size)
        drafts.append(picked)
        return picked

    monkeypatch.setattr(pillow_heif.HeifImageFile, "draft", spy)
    data = images.heic(images.photo_like((3000, 2000)), thumbnails=[256, 1600])
    result = analyse_bytes(tmp_path, data)
    assert drafts and drafts[0] is not None, "the 1600 px embedded image serves a 1440 preview"
    assert drafts[0][1][2:] == (1600, 1066)
    assert (result.width, result.height) == (3000, 2000)
    assert (result.preview.width, result.preview.height) == (1440, 960)

    drafts.clear()
    analyse_bytes(tmp_path, images.heic(images.photo_like((3000, 2000)), thumbnails=[256]))
    assert drafts == [None], "a 256 px embedded thumbnail is too small for the preview"


# JPEG (libjpeg-turbo), large WebP (libwebp) and large PNG (libvips): pixels decoded without
# Pillow, everything else as for other formats


def analyse_without_pillow_decoding(tmp_path, monkeypatch, data: bytes, **kwargs):
    """Analyse, failing if Pillow decodes any pixels of the upload."""

    def load(self):
        raise AssertionError(f"Pillow decoded the {self.format} pixels")

    with monkeypatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", load)
        return analyse_bytes(tmp_path, data, **kwargs)


def png_with_exif_after_pixels(im: Image.Image, exif: bytes) -> bytes:
    data = images.encode(im, "PNG", exif=exif)
    chunks, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        chunks.append(data[at:at + 12 + length])
        at += 12 + length
    late = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] not in (b"eXIf", b"IEND")]
    assert late and chunks[-1][4:8] == b"IEND"
    return data[:8] + b"".join(rest + late + chunks[-1:])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_formats_decoded_without_pillow_end_upright_without_a_pillow_decode(
    tmp_path, monkeypatch, fmt, orientation, jpeg_route
):
    inverse = images.INVERSE_ORIENTATION[orientation]
    marked = images.marked((800, 400))
    stored = marked if inverse is None else marked.transpose(inverse)
    data = FORMAT_SAMPLES[fmt](stored, exif=images.exif_bytes(orientation=orientation))

    result = analyse_without_pillow_decoding(
        tmp_path, monkeypatch, data, preview_size=600, thumbnail_size=200
    )

    assert (result.width, result.height) == (800, 400)
    assert result.metadata.orientation == orientation
    preview, thumb = decoded(result.preview), decoded(result.thumbnail)
    assert preview.size == (600, 300) and thumb.size == (200, 100)
    assert_upright(preview)
    assert_upright(thumb)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_formats_decoded_without_pillow_keep_their_exif(tmp_path, monkeypatch, fmt):
    exif = images.exif_bytes(date_original="2022:08:09 07:06:05", offset_original="+09:00",
                             make="Apple", model="iPhone 15 Pro", gps=(48.8584, 2.2945))
    data = FORMAT_SAMPLES[fmt](images.photo_like((800, 400)), exif=exif)
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data, preview_size=600)
    assert result.taken_at == imaging.TakenAt(
        datetime(2022, 8, 8, 22, 6, 5, tzinfo=UTC), 540, "exif_original"
    )
    assert result.metadata.camera.model == "iPhone 15 Pro"
    assert result.metadata.gps == imaging.GpsPosition(48.8584, 2.2945)


def test_png_exif_after_the_pixels_is_found_without_decoding_twice(tmp_path, monkeypatch):
    data = png_with_exif_after_pixels(images.marked((800, 400)).transpose(
        Image.Transpose.ROTATE_90), images.exif_bytes(orientation=6, make="Canon"))
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data, preview_size=600)
    assert result.metadata.orientation == 6
    assert result.metadata.camera.make == "Canon"
    assert_upright(decoded(result.preview))


def test_png_without_exif_has_none(tmp_path, monkeypatch):
    data = images.encode(images.photo_like((800, 400)), "PNG")
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data, preview_size=600)
    assert result.metadata == imaging.PhotoMetadata()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_formats_decoded_without_pillow_convert_icc_to_srgb(tmp_path, monkeypatch, fmt):
    swapped = images.rgb_icc_profile([images.SRGB_D50_PRIMARIES[1], images.SRGB_D50_PRIMARIES[0],
                                      images.SRGB_D50_PRIMARIES[2]])
    im = Image.new("RGB", (2000, 1000), (255, 0, 0))
    data = images.encode(im, fmt, icc_profile=swapped, quality=95)
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data)
    for derivative in (result.thumbnail, result.preview):
        r, g, b = decoded(derivative).convert("RGB").getpixel((50, 50))
        assert g > 200 and r < 60, (derivative.format, (r, g, b))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_libvips_decoded_grey_stays_grey(tmp_path, monkeypatch, fmt):
    im = Image.linear_gradient("L").resize((2000, 1000))
    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, images.encode(im, fmt))
    for derivative in (result.thumbnail, result.preview):
        out = decoded(derivative).convert("RGB")
        r, g, b = out.getpixel((out.width // 2, out.height // 2))
        assert abs(r - g) <= 2 and abs(g - b) <= 2 and 100 < g < 160


def test_large_webp_is_decoded_once_straight_to_the_preview_size(tmp_path, monkeypatch):
    decoder = imaging._webp_decoder()
    assert decoder is not None, "the libwebp Pillow loads is callable"
    sizes = []
    decode_rgba = decoder.decode_rgba

    def recording(data, size, out):
        sizes.append(size)
        return decode_rgba(data, size, out)

    monkeypatch.setattr(decoder, "decode_rgba", recording)
    im = images.photo_like((3000, 2000))
    data = images.encode(im, "WEBP", quality=95)

    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data)

    assert sizes == [(1440, 960)]
    reference = im.resize((1440, 960), Image.Resampling.LANCZOS)
    diff = ImageChops.difference(reference, decoded(result.preview).convert("RGB")).convert("L")
    assert ImageStat.Stat(diff).mean[0] < 6, "the preview shows the photo, not a blur of it"
    assert decoded(result.thumbnail).size == (400, 267)


@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "lossy"])
def test_large_transparent_webp_has_clean_edges(tmp_path, monkeypatch, lossless):
    # Opaque red beside transparent green: rescaling without premultiplied alpha would smear
    # the invisible green into the visible edge.
    im = Image.new("RGBA", (2000, 1000), (0, 255, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 1001, 1000))
    data = images.encode(im, "WEBP", lossless=lossless, exact=True, quality=95)

    result = analyse_without_pillow_decoding(tmp_path, monkeypatch, data)

    for derivative in (result.preview, result.thumbnail):
        out = decoded(derivative).convert("RGBA")
        r, g, _, a = out.getpixel((5, 5))
        assert derivative.format is imaging.WEBP and r > 245 and g < 10 and a > 250
        assert out.getpixel((out.width - 5, 5))[3] == 0
        edge = [out.getpixel((x, out.height // 2)) for x in range(out.width)]
        blended = [pixel for pixel in edge if 16 < pixel[3] < 240]
        assert blended, "the edge is antialiased"
        assert all(r > 180 and g < 70 for r, g, _, _ in blended), blended


def test_webp_is_decoded_by_pillow_when_libwebp_cannot_be_called(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "_webp_decoder", lambda: None)
    orientation = 6
    stored = images.marked((2000, 1000)).transpose(images.INVERSE_ORIENTATION[orientation])
    data = FORMAT_SAMPLES["WEBP"](stored, exif=images.exif_bytes(orientation=orientation))
    result = analyse_bytes(tmp_path, data)
    assert (result.preview.width, result.preview.height) == (1440, 720)
    assert_upright(decoded(result.preview))
    assert_upright(decoded(result.thumbnail))


def test_large_16_bit_png_is_decoded_by_pillow_and_scaled_not_clipped(tmp_path):
    sixteen = Image.new("I;16", (2000, 1000), 32768)
    result = analyse_bytes(tmp_path, images.encode(sixteen, "PNG"))
    assert 120 <= decoded(result.preview).convert("L").getpixel((10, 10)) <= 136


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_large_images_are_refused(tmp_path, fmt):
    data = FORMAT_SAMPLES[fmt](images.photo_like((2000, 1000)))
    with pytest.raises(imaging.UnsupportedImage, match="truncated|damaged"):
        analyse_bytes(tmp_path, truncated(data))


def test_derivatives_of_a_large_photo_are_sharp_and_true_to_it(tmp_path):
    im = images.photo_like((4000, 3000))
    result = analyse_bytes(tmp_path, images.encode(im, "JPEG", quality=95))
    reference = im.resize((1440, 1080), Image.Resampling.LANCZOS)
    preview = decoded(result.preview).convert("RGB")
    diff = ImageChops.difference(reference, preview).convert("L")
    assert ImageStat.Stat(diff).mean[0] < 6, "the preview shows the photo, not a blur of it"


# Placeholder


def test_thumbhash_placeholder_has_the_photo_colours(tmp_path):
    result = analyse_bytes(tmp_path, images.jpeg(size=(300, 200), color=(220, 30, 30)))
    assert len(base64.b64decode(result.thumbhash)) <= 25
    url = imaging.placeholder_data_url(result.thumbhash)
    assert url.startswith("data:image/png;base64,")
    placeholder = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    w, h = placeholder.size
    assert abs(w / h - 1.5) < 0.2
    r, g, b, a = placeholder.getpixel((w // 2, h // 2))
    assert r > 150 and g < 90 and b < 90 and a == 255


@pytest.mark.parametrize("garbage", ["", "not base64!", "AAAA"])
def test_unusable_thumbhash_gives_no_placeholder(garbage):
    assert imaging.placeholder_data_url(garbage) == ""


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


# Derivatives carry nothing but pixels


def test_derivatives_carry_no_metadata_comments_or_trailing_bytes(tmp_path):
    im = images.photo_like((2000, 1500))
    exif = images.exif_bytes(date_original="2021:05:01 10:30:00", make="Canon",
                             gps=(48.8584, 2.2945))
    data = images.encode(im, "JPEG", exif=exif, comment=b"<script>alert(1)</script>",
                         icc_profile=ImageCms.ImageCmsProfile(
                             ImageCms.createProfile("sRGB")).tobytes())
    data += b"<script>alert(3)</script>PK\x03\x04"
    result = analyse_bytes(tmp_path, data)
    for derivative in (result.thumbnail, result.preview):
        out = Image.open(io.BytesIO(derivative.data))
        assert len(out.getexif()) == 0
        assert out.getexif().get_ifd(0x8825) == {}
        assert "icc_profile" not in out.info and "comment" not in out.info
        for needle in (b"<script", b"PK\x03\x04", b"Canon", b"Exif"):
            assert needle not in derivative.data


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
def test_wide_gamut_photo_converts_through_little_cms_as_imagecms_would(
    tmp_path, monkeypatch, fmt, orientation
):
    im = images.photo_like((1800, 1200))
    im.paste((255, 0, 0), (0, 0, 300, 300))  # P3 red: beyond sRGB, clipped the same way
    data = images.encode(im, fmt, icc_profile=images.display_p3_profile(), quality=95,
                         exif=images.exif_bytes(orientation=orientation))
    applied = []
    apply_packed = imaging._apply_packed

    def spy(im, transform):
        applied.append(transform)
        return apply_packed(im, transform)

    monkeypatch.setattr(imaging, "_apply_packed", spy)
    imaging._srgb_transform.cache_clear()
    packed = analyse_bytes(tmp_path, data)
    assert applied, "the RGB conversion did not go through Little CMS"
    monkeypatch.setattr(imaging, "_littlecms", lambda: None)
    imaging._srgb_transform.cache_clear()
    try:
        through_imagecms = analyse_bytes(tmp_path, data)
    finally:
        imaging._srgb_transform.cache_clear()
    assert len(applied) == 1
    assert packed.preview.data == through_imagecms.preview.data
    assert packed.thumbnail == through_imagecms.thumbnail
    preview = decoded(packed.preview).convert("RGB")
    assert preview.size == ((960, 1440) if orientation == 6 else (1440, 960))
    corner = (preview.width - 20, 20) if orientation == 6 else (20, 20)  # turned upright
    r, g, b = preview.getpixel(corner)
    assert r > 240 and g < 40 and b < 40


def test_binding_without_its_library_is_none_and_says_what_happens_instead(caplog):
    from imgstream.services.littlecms import LittleCMS

    assert imaging._through_pillow(LittleCMS, "_imagingcms", "x") is not None
    # An extension that links no Little CMS, and one that does not exist.
    assert imaging._through_pillow(LittleCMS, "_imagingmath", "converted by ImageCms") is None
    assert imaging._through_pillow(LittleCMS, "_no_such_module", "converted by ImageCms") is None
    assert caplog.text.count("converted by ImageCms") == 2


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


# Refusals


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def png_text_bomb() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * (8 * 1024 * 1024), zip=True)
    return images.encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)


NOT_ACCEPTED = "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image"
PHOTO = images.photo_like((400, 300))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\xff", NOT_ACCEPTED),
        (b"\xff\xd8\xff", "damaged"),
        (b"just some text that ends in .jpg", NOT_ACCEPTED),
        (truncated(images.encode(PHOTO, "JPEG")), "truncated"),
        (truncated(images.encode(PHOTO, "PNG")), "truncated|damaged"),
        (truncated(images.encode(PHOTO, "WEBP")), "truncated|damaged"),
        (truncated(images.encode(PHOTO, "GIF")), "truncated|damaged"),
        (truncated(images.heic(PHOTO)), "truncated|damaged"),
        (truncated(images.avif(PHOTO)), "truncated|damaged"),
        (images.encode(PHOTO, "TIFF"), NOT_ACCEPTED),
        (images.encode(PHOTO, "BMP"), NOT_ACCEPTED),
        (images.encode(PHOTO, "PDF"), NOT_ACCEPTED),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", NOT_ACCEPTED),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", NOT_ACCEPTED),
        (png_text_bomb(), "damaged"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 40, "damaged"),
    ],
)
def test_bad_input_is_one_domain_error(tmp_path, data, reason):
    with pytest.raises(imaging.UnsupportedImage, match=reason):
        analyse_bytes(tmp_path, data)


def test_formats_not_allowed_never_reach_pillow(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(imaging.Image, "open", lambda *a, **k: opened.append(a))
    for data in (images.encode(PHOTO, "TIFF"), b"%!PS-Adobe-3.0 EPSF-3.0\n",
                 images.encode(PHOTO, "BMP")):
        with pytest.raises(imaging.UnsupportedImage):
            analyse_bytes(tmp_path, data)
    assert opened == []


@pytest.mark.parametrize(
    "bomb",
    [
        images.png_header_only(20000, 20000),  # over 2x Pillow's own limit
        images.png_header_only(10000, 10000),  # between 1x and 2x: Pillow only warns
        images.png_header_only(7100, 7100),  # under Pillow's limit, over the app's cap
        images.jpeg_header_only(60000, 60000),
        images.gif_header_only(65535, 65535),
        images.webp_header_only(16000, 16000),
    ],
    ids=["png-400MP", "png-100MP", "png-50MP", "jpeg-3600MP", "gif-4300MP", "webp-256MP"],
)
def test_decompression_bombs_are_refused_before_decoding(tmp_path, bomb):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(imaging.UnsupportedImage, match="megapixels"):
        analyse_bytes(tmp_path, bomb, max_pixels=50_000_000)
    assert time.perf_counter() - start < 1
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024, "no pixel buffer was allocated"


def test_pixel_cap_counts_exactly(tmp_path):
    ok = images.encode(Image.new("L", (1000, 1000)), "PNG")
    analyse_bytes(tmp_path, ok, max_pixels=1_000_000)
    with pytest.raises(imaging.UnsupportedImage, match="megapixels"):
        analyse_bytes(tmp_path, ok, max_pixels=999_999)


def test_absurd_gif_frame_count_is_refused_quickly(tmp_path):
    start = time.perf_counter()
    with pytest.raises(imaging.UnsupportedImage, match="frames"):
        analyse_bytes(tmp_path, images.gif_header_only(10, 10, frames=200_000))
    assert time.perf_counter() - start < 1


def test_gif_total_pixels_over_all_frames_are_capped(tmp_path):
    # 40 frames of 5000x5000: each frame is under the cap, together 1 gigapixel.
    with pytest.raises(imaging.UnsupportedImage, match="in all"):
        analyse_bytes(tmp_path, images.gif_header_only(5000, 5000, frames=41))


def test_animated_webp_frame_count_is_capped(tmp_path):
    frames = [Image.new("RGB", (2, 2), (i % 256, 0, 0)) for i in range(imaging.MAX_FRAMES + 1)]
    data = images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                         lossless=True, duration=1)
    with pytest.raises(imaging.UnsupportedImage, match="frames"):
        analyse_bytes(tmp_path, data)


def pillow_exception_classes() -> set[type[BaseException]]:
    found = set()
    modules = [m for name, m in list(__import__("sys").modules.items())
               if name.startswith(("PIL", "pillow_heif")) and m is not None]
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith(
                    ("PIL", "pillow_heif")):
                found.add(value)
    return found


def test_every_pillow_exception_class_becomes_the_domain_error():
    import PIL.Image  # noqa: F401
    from PIL import features

    for plugin in ("JpegImagePlugin", "PngImagePlugin", "WebPImagePlugin", "GifImagePlugin",
                   "AvifImagePlugin", "ImageCms", "ImageFile", "TiffImagePlugin"):
        __import__(f"PIL.{plugin}")
    classes = pillow_exception_classes()
    assert PIL.UnidentifiedImageError in classes and ImageCms.PyCMSError in classes
    assert features.check("avif")
    missing = [cls for cls in classes if not issubclass(cls, imaging.DECODE_ERRORS)]
    assert missing == []
