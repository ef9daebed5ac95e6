"""The imaging bench runs end to end on a tiny corpus and prints every column it promises."""

import re

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
    # files, ImgStream ms, libvips ms, ratio, spread (low-high), same work ms, ratio, naive ms
    assert re.search(r"\s2\s+\d+ms\s+\d+ms\s+\d+\.\d\d\s+\d+\.\d\d-\d+\.\d\d\s+\d+ms\s+\d+\.\d\d\s+"
                     r"\d+ms$", row), row


def test_camera_weight_grain_makes_files_as_heavy_as_a_phones():
    smooth = images.encode(bench.landscape((800, 600), 7), "JPEG", quality=90)
    grainy = images.encode(bench.landscape((800, 600), 7, bench.CAMERA_GRAIN), "JPEG", quality=92)
    # 12 MP: 0.6 MB against 3.7 MB; 0.48 MP scales both down by 25.
    assert len(smooth) < 40_000 < 100_000 < len(grainy) < 250_000, (len(smooth), len(grainy))
