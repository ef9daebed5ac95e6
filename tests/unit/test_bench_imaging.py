"""The imaging bench runs end to end on a tiny corpus and prints every column it promises."""

import re

import pytest

from bench import imaging as bench
from tests import images


def test_per_format_table_has_ratio_and_spread(tmp_path, capsys):
    for i in range(2):
        im = images.photo_like((640, 480))
        (tmp_path / f"photo_{i}.jpeg").write_bytes(images.encode(im, "JPEG", quality=90))
    (tmp_path / "notes.txt").write_text("not an image")

    groups = bench.bench_formats(sorted(tmp_path.iterdir()), runs=2)

    assert list(groups) == ["JPEG 0 MP"]
    row = next(line for line in capsys.readouterr().out.splitlines() if "JPEG 0 MP" in line)
    # files, ImgStream ms, libvips ms, ratio, spread (low-high), same work ms, ratio, naive ms,
    # through RGB ms, ratio
    assert re.search(r"\s2\s+\d+ms\s+\d+ms\s+\d+\.\d\d\s+\d+\.\d\d-\d+\.\d\d\s+\d+ms\s+\d+\.\d\d\s+"
                     r"\d+ms\s+\d+ms\s+\d+\.\d\d$", row), row


def test_camera_weight_grain_makes_files_as_heavy_as_a_phones():
    smooth = images.encode(bench.landscape((800, 600), 7), "JPEG", quality=90)
    grainy = images.encode(bench.landscape((800, 600), 7, bench.CAMERA_GRAIN), "JPEG", quality=92)
    # 12 MP: 0.6 MB against 3.7 MB; 0.48 MP scales both down by 25.
    assert len(smooth) < 40_000 < 100_000 < len(grainy) < 250_000, (len(smooth), len(grainy))


def test_stage_breakdown_times_every_stage_and_restores_the_pipeline(tmp_path, capsys):
    from imgstream.services import imaging

    # 3000 px wide: decoded at half size, then resampled to the 1440 px preview. The plain one
    # is made from its YCbCr planes; the one in Display P3 through RGB, to be converted.
    im = images.photo_like((3000, 2000))
    plain, wide = tmp_path / "photo.jpeg", tmp_path / "wide.jpeg"
    plain.write_bytes(images.encode(im, "JPEG", quality=90))
    wide.write_bytes(images.encode(im, "JPEG", quality=90,
                                   icc_profile=images.display_p3_profile()))
    originals = (imaging.simplejpeg, imaging._resize, imaging._encode, imaging.read_metadata,
                 imaging._ycbcr_derivatives)

    table = bench.bench_stages(
        {"JPEG 6 MP": [plain], "JPEG 6 MP Display P3": [wide], "PNG 6 MP": [plain]}, runs=2)

    assert list(table) == ["JPEG 6 MP", "JPEG 6 MP Display P3"]
    from_planes, through_rgb = table["JPEG 6 MP"], table["JPEG 6 MP Display P3"]
    rgb_stages = [stage for stage in bench.STAGES if stage != "YCbCr planes"]
    assert through_rgb["YCbCr planes"] == 0
    assert all(through_rgb[stage] > 0 for stage in rgb_stages), through_rgb
    assert through_rgb["decode"] > through_rgb["placeholder"]
    if imaging._jpeg_derivatives() is not None:
        assert from_planes["YCbCr planes"] > from_planes["placeholder"] > 0
        assert from_planes["decode"] == from_planes["preview encode"] == 0
        assert all(from_planes[stage] > 0
                   for stage in ("thumbnail encode", "placeholder", "metadata")), from_planes
    for row in (from_planes, through_rgb):
        assert list(row) == [*bench.STAGES, "other", "total"]
        assert 0 <= row["other"] < row["total"]
        assert sum(row[stage] for stage in (*bench.STAGES, "other")) == pytest.approx(
            row["total"], rel=0.2)
    printed = next(line for line in capsys.readouterr().out.splitlines() if "JPEG 6 MP " in line)
    assert len(re.findall(r"\d+\.\d", printed)) == len(bench.STAGES) + 2, printed
    assert (imaging.simplejpeg, imaging._resize, imaging._encode, imaging.read_metadata,
            imaging._ycbcr_derivatives) == originals


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
