"""The imaging bench runs end to end on a tiny corpus and prints every column it promises."""

import math
import re

import pytest
import thumbhash
from PIL import ImageFile

from bench import imaging as bench
from imgstream.services.imaging import derivatives
from tests import images


def test_per_format_table_has_ratio_and_spread(tmp_path, capsys):
    for i in range(2):
        im = images.photo_like((640, 480))
        (tmp_path / f"photo_{i}.jpeg").write_bytes(images.encode(im, "JPEG", quality=90))
    (tmp_path / "notes.txt").write_text("not an image")

    table = bench.bench_formats(sorted(tmp_path.iterdir()), runs=2)

    assert list(table) == ["JPEG 0 MP"]
    assert table["JPEG 0 MP"]["ours"] > 0 and table["JPEG 0 MP"]["files"] == 2
    row = next(line for line in capsys.readouterr().out.splitlines() if "JPEG 0 MP" in line)
    # files, ImgStream ms, libvips ms, ratio, spread (low-high), same work ms, ratio, naive ms
    assert re.search(r"\s2\s+\d+ms\s+\d+ms\s+\d+\.\d\d\s+\d+\.\d\d-\d+\.\d\d\s+\d+ms\s+\d+\.\d\d\s+"
                     r"\d+ms$", row), row


def test_camera_weight_grain_makes_files_as_heavy_as_a_phones():
    smooth = images.encode(bench.landscape((800, 600), 7), "JPEG", quality=90)
    grainy = images.encode(bench.landscape((800, 600), 7, bench.CAMERA_GRAIN), "JPEG", quality=92)
    # 12 MP: 0.6 MB against 3.7 MB; 0.48 MP scales both down by 25.
    assert len(smooth) < 40_000 < 100_000 < len(grainy) < 250_000, (len(smooth), len(grainy))


def test_stage_breakdown_times_every_stage_and_restores_the_pipeline(tmp_path, capsys):
    # 3000 px wide: decoded at half size, then resampled to the 1440 px preview; the one in
    # Display P3 converted as well.
    im = images.photo_like((3000, 2000))
    plain, wide = tmp_path / "photo.jpeg", tmp_path / "wide.jpeg"
    plain.write_bytes(images.encode(im, "JPEG", quality=90))
    wide.write_bytes(images.encode(im, "JPEG", quality=90,
                                   icc_profile=images.display_p3_profile()))
    names = ("_resize", "_encode", "_encode_preview", "_thumbhash", "read_metadata",
             "upright_srgb", "_from_vips")
    originals = [getattr(derivatives, name) for name in names] + [ImageFile.ImageFile.load]

    table = bench.bench_stages(
        {"JPEG 6 MP": [plain], "JPEG 6 MP Display P3": [wide], "PNG 6 MP": [plain]}, runs=2)

    assert list(table) == ["JPEG 6 MP", "JPEG 6 MP Display P3"]
    for row in table.values():
        assert list(row) == [*bench.STAGES, "other", "total"]
        assert all(row[stage] > 0 for stage in bench.STAGES), row
        assert row["decode"] > row["placeholder"]
        assert 0 <= row["other"] < row["total"]
        assert sum(row[stage] for stage in (*bench.STAGES, "other")) == pytest.approx(
            row["total"], rel=0.2)
    wide_row, plain_row = table["JPEG 6 MP Display P3"], table["JPEG 6 MP"]
    assert wide_row["colour, upright"] > plain_row["colour, upright"], "P3 is converted"
    printed = next(line for line in capsys.readouterr().out.splitlines() if "JPEG 6 MP " in line)
    assert len(re.findall(r"\d+\.\d", printed)) == len(bench.STAGES) + 2, printed
    assert [getattr(derivatives, name) for name in names] + [ImageFile.ImageFile.load] == originals


def test_phone_jpeg_is_grouped_apart_by_its_profile_and_orientation(tmp_path):
    im = images.photo_like((640, 480))
    plain, phone = tmp_path / "plain.jpeg", tmp_path / "phone.jpeg"
    plain.write_bytes(images.encode(im, "JPEG", exif=bench.camera_exif(0)))
    phone.write_bytes(images.encode(im, "JPEG", exif=bench.camera_exif(0, orientation=6),
                                    icc_profile=images.display_p3_profile()))

    broken = tmp_path / "broken.jpeg"
    broken.write_bytes(images.encode(im, "JPEG", icc_profile=b"\0" * 200))

    assert bench.label_of(plain) == "JPEG 0 MP"
    assert bench.label_of(phone) == "JPEG 0 MP Display P3 rotated"
    assert bench.label_of(broken) == "JPEG 0 MP unreadable ICC"
    assert bench.PHONE_JPEG == "JPEG 12 MP Display P3 rotated"  # what the generator writes


def test_python_thumbhash_is_the_reference_algorithm():
    """The stand-ins that thumbhash-rs is measured against make the same hashes and pixels."""
    for im in (images.photo_like((32, 24)), images.photo_like((18, 32))):
        rgba = im.convert("RGBA")
        data = rgba.tobytes()
        assert bench.python_thumbhash(*rgba.size, data) == thumbhash.rgba_to_thumb_hash(
            *rgba.size, data)
    for im in (images.photo_like((32, 24)), images.translucent((24, 32))):
        rgba = im.convert("RGBA")
        digest = thumbhash.rgba_to_thumb_hash(*rgba.size, rgba.tobytes())
        assert bench.python_thumbhash_to_rgba(digest) == thumbhash.thumb_hash_to_rgba(digest)


def test_library_savings_are_measured_against_doing_without_and_restore_the_pipeline(
    tmp_path, capsys
):
    im = images.photo_like((1600, 1200))
    jpeg, png = tmp_path / "photo.jpeg", tmp_path / "photo.png"
    jpeg.write_bytes(images.encode(im, "JPEG", quality=90))
    png.write_bytes(images.encode(im, "PNG"))
    groups = {"JPEG 12 MP": [jpeg], "PNG 12 MP": [png]}
    formats = {"JPEG 12 MP": {"ours": 50.0, "vips": 45.0, "same": 100.0, "naive": 200.0}}
    originals = (derivatives._resize, derivatives._libvips_reduced, derivatives.thumbhash)

    saved = bench.bench_libraries(groups, formats, runs=2)

    assert set(saved) == {"cykooz-resizer JPEG 12 MP", "pyvips PNG 12 MP",
                          "thumbhash-rs JPEG 12 MP", "thumbhash-rs placeholders",
                          "Pillow JPEG 12 MP"}
    assert saved["thumbhash-rs placeholders"] > 0.5, "decoding in Python is many times slower"
    assert saved["Pillow JPEG 12 MP"] == pytest.approx(0.5)
    assert all(-1 < share < 1 and not math.isnan(share) for share in saved.values()), saved
    out = capsys.readouterr().out
    assert re.search(r"cykooz-resizer +saves +-?\d+% on JPEG 12 MP: \d+ ms, \d+ ms with Pillow's",
                     out), out
    assert (derivatives._resize, derivatives._libvips_reduced, derivatives.thumbhash) == originals
    assert derivatives.placeholder_data_url.cache_info().currsize == 0


def test_goals_are_printed_met_or_missed(capsys):
    formats = {
        "JPEG 12 MP": {"ours": 50.0, "vips": 50.0, "same": 100.0},
        "PNG 12 MP": {"ours": 140.0, "vips": 100.0, "same": math.nan},
    }
    assert not bench.print_goals(formats, 30.0, {"pyvips PNG 12 MP": 0.4,
                                                 "thumbhash-rs JPEG 12 MP": 0.05,
                                                 "thumbhash-rs placeholders": 0.9})
    out = capsys.readouterr().out
    assert ("JPEG 12 MP: ImgStream 50 ms, libvips' thumbnail alone 50 ms, 1.00x "
            "(goal <= 1.15x): met") in out
    assert "1.40x (goal <= 1.3x): MISSED" in out
    assert "peak RSS per 24 MP JPEG: +30.0 MiB (goal < +40 MiB): met" in out
    assert "pyvips: saves 40% at best (PNG 12 MP; goal >= 10%): met" in out
    assert "thumbhash-rs: saves 90% at best (placeholders; goal >= 10%): met" in out
    assert bench.print_goals({"JPEG 12 MP": formats["JPEG 12 MP"]}, None, {})


def test_thumbnail_effort_reports_time_and_size_of_each_method(tmp_path, capsys):
    jpeg = tmp_path / "photo.jpeg"
    jpeg.write_bytes(images.encode(images.photo_like((1600, 1200)), "JPEG", quality=90))
    encode = derivatives._encode

    result = bench.bench_thumbnail_effort({"JPEG 12 MP": [jpeg]}, runs=2)

    assert set(result) == {0, derivatives.WEBP_METHOD, 4}
    assert all(ms > 0 and size > 0 for ms, size in result.values()), result
    assert result[0][1] > result[4][1], "the fastest effort makes larger files"
    out = capsys.readouterr().out
    assert re.search(rf"method {derivatives.WEBP_METHOD}: [\d.]+ ms, [\d.]+ KB +used", out), out
    assert re.search(r"method 4 \(libwebp's default\): [\d.]+ ms, [\d.]+ KB +[+-]\d+% time, "
                     r"[+-]\d+% size", out), out
    assert derivatives._encode is encode
