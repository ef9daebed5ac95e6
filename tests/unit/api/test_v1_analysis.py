# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""POST /api/v1/analyze: what an image is, its near-duplicates, and that nothing is stored."""

import io
import uuid
from fractions import Fraction

from PIL import Image
from sqlmodel import select

from imgstream import runtime
from imgstream.models import Photo
from tests import images
from tests.unit.api.test_uploads import app_env, client, owner, problem  # noqa: F401
from tests.unit.api.test_v1_photos import upload


def scene(size=(640, 480)):
    """A photo-like image with structure (a flat colour has no perceptual hash to speak of)."""
    im = images.photo_like(size)
    return im


def as_jpeg(im, quality=90, **exif):
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=quality, exif=images.exif_bytes(**exif))
    return buffer.getvalue()


def test_analyze_answers_exif_colours_and_hash_and_stores_nothing(client, app_env):
    data = as_jpeg(scene(), date_original="2024:07:14 18:30:00", offset_original="-05:00",
                   make="Canon", model="EOS R6", lens="RF 35mm F1.8", focal_length=35.0,
                   f_number=1.8, exposure=Fraction(1, 250), iso=400, gps=(40.6892, -74.0445))
    response = client.post("/api/v1/analyze", content=data,
                           headers={"content-type": "image/jpeg"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["mime"], body["width"], body["height"]) == (
        "JPEG", "image/jpeg", 640, 480)
    assert body["taken_at"] == "2024-07-14T18:30:00-05:00"
    assert body["camera"] == {"make": "Canon", "model": "EOS R6", "lens": "RF 35mm F1.8"}
    assert body["exposure"]["iso"] == 400 and body["exposure"]["f_number"] == 1.8
    assert abs(body["exposure"]["exposure_time_s"] - 1 / 250) < 1e-6
    assert abs(body["location"]["latitude"] - 40.6892) < 1e-3
    assert len(body["perceptual_hash"]) == 16
    assert 1 <= len(body["dominant_colours"]) <= 5
    assert abs(sum(c["share"] for c in body["dominant_colours"]) - 1) < 0.01
    assert body["similar"] == [] and body["labels"] == []
    with runtime.db_session() as session:
        assert session.exec(select(Photo)).all() == []
    assert list(app_env.list("")) == []
    assert list((app_env.root.parent / "incoming").glob("*")) == []


def test_a_resized_recompressed_copy_is_a_near_duplicate(client):
    original = scene((1200, 900))
    photo_id = upload(client, as_jpeg(original), "original.jpg")
    upload(client, as_jpeg(Image.new("RGB", (1200, 900), (10, 120, 200))), "sky.jpg")
    copy = as_jpeg(original.resize((600, 450)), quality=60)
    body = client.post("/api/v1/analyze", content=copy,
                       headers={"content-type": "image/jpeg"}).json()
    assert [s["filename"] for s in body["similar"]] == ["original.jpg"]
    assert body["similar"][0]["id"] == photo_id and body["similar"][0]["distance"] <= 6
    similar = client.get(f"/api/v1/photos/{photo_id}/similar").json()["similar"]
    assert similar == []


def test_what_is_not_an_image_is_refused_clearly(client):
    response = client.post("/api/v1/analyze", content=b"GIF89a not really",
                           headers={"content-type": "image/gif"})
    assert response.status_code == 422 and "not an image" in problem(response)["error"]
    assert client.post("/api/v1/analyze", content=b"").status_code == 400
    wrong_type = client.post("/api/v1/analyze", json={"image": "x"})
    assert wrong_type.status_code == 415


def test_older_photos_get_their_hash_from_regenerate_renditions(client, app_env, tmp_path):
    from imgstream.services import renditions

    photo_id = upload(client, as_jpeg(scene()), "old.jpg")
    with runtime.db_session() as session:
        photo = session.get(Photo, uuid.UUID(photo_id))
        stored, photo.phash = photo.phash, None
        session.add(photo)
        session.commit()
        report = renditions.regenerate_renditions(
            session=session, storage=app_env, spool_dir=tmp_path, thumbnail_size=400,
            preview_size=1440, max_pixels=10**8)
        assert report.hashed == 1
        assert session.get(Photo, photo.id).phash == stored
        assert renditions.backfill_perceptual_hashes(session=session, storage=app_env) == 0
