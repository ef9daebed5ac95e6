"""The detail view opens even when its image URLs cannot be signed."""

import logging

from imgstream.state import photo as photo_state
from tests.unit.state.signing import LOG_LINE, add_photos, log_lines, use_runtime


def test_detail_has_signed_urls(monkeypatch, engine, session, storage, owner, tmp_path):
    photo, _ = add_photos(session, storage, owner, tmp_path, 2)
    use_runtime(monkeypatch, photo_state, engine, storage)
    detail = photo_state.load_detail(owner.id, str(photo.id))
    assert detail.image_url.startswith("/media/previews/") or detail.image_url.startswith(
        "/media/photos/")
    assert "dl=p0.jpg" in detail.download_url


def test_detail_loads_without_urls_when_they_cannot_be_signed(
    monkeypatch, engine, session, storage, owner, tmp_path, cannot_sign, caplog
):
    photo, _ = add_photos(session, storage, owner, tmp_path, 2)
    use_runtime(monkeypatch, photo_state, engine, cannot_sign)
    with caplog.at_level(logging.INFO):
        detail = photo_state.load_detail(owner.id, str(photo.id))
        again = photo_state.load_detail(owner.id, str(photo.id))
    assert detail == again
    assert (detail.filename, detail.image_url, detail.download_url) == ("p0.jpg", "", "")
    assert detail.placeholder.startswith("data:image/png;base64,")
    assert detail.dimensions == "300 × 200"
    assert log_lines(caplog) == [LOG_LINE]
