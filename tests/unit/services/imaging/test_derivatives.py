"""One reduced decode makes the preview, the thumbnail and the placeholder."""

import base64
import io
from datetime import UTC, datetime

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat

from imgstream.services import imaging
from imgstream.services.imaging import derivatives
from tests import images
from tests.unit.services.imaging.samples import (
    FORMAT_SAMPLES,
    MARKED,
    analyse_bytes,
    analyse_without_pillow_decoding,
    assert_upright,
    decoded,
    draw_quadrants,
    png_with_exif_after_pixels,
    truncated,
)


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
def test_every_orientation_ends_upright(tmp_path, fmt, orientation):
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
    tmp_path, monkeypatch, size, decoded_size, preview
):
    decodes = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        if self.tile:  # pixels still to decode
            decodes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    result = analyse_bytes(tmp_path, images.encode(images.photo_like(size), "JPEG"))
    assert decodes == [decoded_size]
    assert (result.preview.width, result.preview.height) == preview
    assert decoded(result.preview).size == preview


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_derivatives_match_a_full_size_pillow_rendering(tmp_path, progressive):
    """The DCT-scaled decode, resampled, has the colours of a full-size decode."""
    im = images.photo_like((3000, 2000))
    draw_quadrants(im)
    data = images.encode(im, "JPEG", quality=95, progressive=progressive)
    result = analyse_bytes(tmp_path, data)
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


def test_results_never_depend_on_what_was_decoded_before_or_beside(tmp_path):
    """Threads keep their resamplers; a result is the same alone, after others and in parallel."""
    import concurrent.futures

    files = []
    for i, size in enumerate([(4000, 3000), (2048, 1536), (6000, 4000), (1600, 1200)]):
        im = images.photo_like(size)
        draw_quadrants(im)
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(images.encode(im, "JPEG"))
        files.append(path)
    # Large WebPs, decoded by libvips (RGBA, opaque or not), among them.
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


# Large WebP (libwebp's scaled decode) and large PNG (streamed into a reduction) through
# libvips: pixels decoded without Pillow, everything else as for other formats. Large JPEGs are
# here too, decoded by Pillow at reduced size.


def analyse_large(tmp_path, monkeypatch, fmt: str, data: bytes, **kwargs):
    """Analyse; for PNG and WebP, failing if Pillow decodes any pixels of the upload."""
    if fmt == "JPEG":
        return analyse_bytes(tmp_path, data, **kwargs)
    return analyse_without_pillow_decoding(tmp_path, monkeypatch, data, **kwargs)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_large_formats_end_upright_from_a_reduced_decode(tmp_path, monkeypatch, fmt, orientation):
    inverse = images.INVERSE_ORIENTATION[orientation]
    marked = images.marked((800, 400))
    stored = marked if inverse is None else marked.transpose(inverse)
    data = FORMAT_SAMPLES[fmt](stored, exif=images.exif_bytes(orientation=orientation))

    result = analyse_large(tmp_path, monkeypatch, fmt, data, preview_size=600, thumbnail_size=200)

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
def test_large_formats_convert_icc_to_srgb(tmp_path, monkeypatch, fmt):
    swapped = images.rgb_icc_profile([images.SRGB_D50_PRIMARIES[1], images.SRGB_D50_PRIMARIES[0],
                                      images.SRGB_D50_PRIMARIES[2]])
    im = Image.new("RGB", (2000, 1000), (255, 0, 0))
    data = images.encode(im, fmt, icc_profile=swapped, quality=95)
    result = analyse_large(tmp_path, monkeypatch, fmt, data)
    for derivative in (result.thumbnail, result.preview):
        r, g, b = decoded(derivative).convert("RGB").getpixel((50, 50))
        assert g > 200 and r < 60, (derivative.format, (r, g, b))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_grey_stays_grey(tmp_path, monkeypatch, fmt):
    im = Image.linear_gradient("L").resize((2000, 1000))
    result = analyse_large(tmp_path, monkeypatch, fmt, images.encode(im, fmt))
    for derivative in (result.thumbnail, result.preview):
        out = decoded(derivative).convert("RGB")
        r, g, b = out.getpixel((out.width // 2, out.height // 2))
        assert abs(r - g) <= 2 and abs(g - b) <= 2 and 100 < g < 160


def test_large_webp_is_decoded_once_straight_to_the_preview_size(tmp_path, monkeypatch):
    sizes = []
    from_vips = derivatives._from_vips

    def recording(vi):
        sizes.append((vi.width, vi.height))
        return from_vips(vi)

    monkeypatch.setattr(derivatives, "_from_vips", recording)
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


def test_webp_is_decoded_by_pillow_when_libvips_does_not_take_it(tmp_path, monkeypatch):
    monkeypatch.setattr(derivatives, "_libvips_reduced", lambda *args: None)
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


