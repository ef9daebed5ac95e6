"""The image libraries are set up by configure(), once, and by nothing on import."""

import logging
import subprocess
import sys
import textwrap
import warnings

import pytest
import pyvips
from PIL import Image, ImageFile

from imgstream.services import imaging


def run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=120)


def test_importing_imaging_changes_no_library_setting():
    run_python("""
        import warnings
        import pyvips
        from PIL import Image, ImageFile

        before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(Image.OPEN),
                  pyvips.cache_get_max(), list(warnings.filters))
        import imgstream.services.imaging
        import imgstream.services.ingest
        after = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(Image.OPEN),
                 pyvips.cache_get_max(), list(warnings.filters))
        assert after == before, (before, after)
        assert "HEIF" not in Image.OPEN
    """)


def test_configure_sets_every_library_up():
    run_python("""
        import logging
        import warnings
        import pyvips
        from PIL import Image, ImageFile

        from imgstream.services import imaging

        imaging.configure(max_pixels=12_345_678)
        assert Image.MAX_IMAGE_PIXELS == 12_345_678
        assert ImageFile.LOAD_TRUNCATED_IMAGES is False
        assert "HEIF" in Image.OPEN
        assert pyvips.cache_get_max() == 0 and pyvips.concurrency_get() == 1
        assert not logging.getLogger("pyvips").isEnabledFor(logging.INFO)
        with warnings.catch_warnings():
            try:
                warnings.warn("over the cap", Image.DecompressionBombWarning)
            except Image.DecompressionBombWarning:
                pass
            else:
                raise AssertionError("a bomb warning is an error")
    """)


def test_configure_is_what_the_test_session_runs_with():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert "HEIF" in Image.OPEN
    assert pyvips.cache_get_max() == 0
    with pytest.raises(Image.DecompressionBombWarning):
        warnings.warn("over the cap", Image.DecompressionBombWarning, stacklevel=1)


def test_libvips_information_is_not_logged(caplog):
    imaging.configure()
    with caplog.at_level(logging.INFO):
        logging.getLogger("pyvips").info("VIPS: threadpool completed")
        logging.getLogger("pyvips").warning("VIPS: something is wrong")
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_storage_loads_no_image_library():
    run_python("""
        import sys
        import imgstream.services.storage
        import imgstream.services.storage_gcs
        loaded = [m for m in sys.modules
                  if m.startswith(("PIL", "pyvips", "pillow_heif", "imgstream.services.imaging"))]
        assert loaded == [], loaded
    """)
