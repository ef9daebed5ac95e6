# ruff: noqa: F811 - the fixtures of the upload API tests are imported by name
"""/api/v1 photos, timeline, albums and share links, on photos uploaded through the API."""

import uuid

import pytest
from starlette.testclient import TestClient

from imgstream import runtime
from imgstream.api import http_api
from imgstream.services import api_keys
from tests import images
from tests.unit.api.test_media import as_user
from tests.unit.api.test_uploads import app_env, client, new_user, owner, problem  # noqa: F401


def upload(client, data, filename):
    begun = client.post("/api/v1/uploads", json={"filename": filename, "size": len(data)}).json()
    for offset in range(0, len(data), begun["chunk_bytes"]):
        chunk = data[offset:offset + begun["chunk_bytes"]]
        assert client.put(f"/api/v1/uploads/{begun['id']}/chunks", params={"offset": offset},
                          content=chunk).status_code == 200
    done = client.post(f"/api/v1/uploads/{begun['id']}/complete").json()
    assert done["status"] == "added", done
    return done["photo_id"]


@pytest.fixture
def library(client):
    return [
        upload(client, images.jpeg(size=(120, 80), color=(200, 40, 40),
                                   date_original="2024:07:14 18:30:00",
                                   offset_original="+02:00", make="Fujifilm", model="X-T5",
                                   gps=(48.8584, 2.2945)), "paris.jpg"),
        upload(client, images.jpeg(size=(80, 120), color=(40, 40, 200),
                                   date_original="2024:06:01 09:00:00"), "june.jpg"),
        upload(client, images.jpeg(size=(100, 100), color=(40, 200, 40),
                                   date_original="2023:12:24 20:00:00"), "xmas.jpg"),
    ]


def keyed(owner, *scopes):
    with runtime.db_session() as session:
        token = api_keys.create_key(session=session, owner=owner, scopes=scopes).token
    client = TestClient(as_user(http_api(), None))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_photos_page_with_an_opaque_cursor(client, library):
    first = client.get("/api/v1/photos", params={"limit": 2}).json()
    assert [p["filename"] for p in first["photos"]] == ["paris.jpg", "june.jpg"]
    rest = client.get("/api/v1/photos", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [p["filename"] for p in rest.json()["photos"]] == ["xmas.jpg"]
    assert rest.json()["next_cursor"] is None
    bad = client.get("/api/v1/photos", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in problem(bad)["error"]


def test_a_photo_says_what_its_exif_says(client, library):
    photo = client.get(f"/api/v1/photos/{library[0]}").json()
    assert photo["taken_at"] == "2024-07-14T18:30:00+02:00"
    assert photo["taken_at_offset_minutes"] == 120
    assert (photo["camera_make"], photo["camera_model"]) == ("Fujifilm", "X-T5")
    assert photo["location"] == pytest.approx({"latitude": 48.8584, "longitude": 2.2945},
                                              abs=1e-3)
    assert (photo["width"], photo["height"], photo["format"]) == (120, 80, "JPEG")


def test_images_redirect_to_signed_urls(client, library):
    for kind in ("original", "preview", "thumbnail"):
        response = client.get(f"/api/v1/photos/{library[0]}/{kind}", follow_redirects=False)
        assert response.status_code == 302, kind
        assert "sig=" in response.headers["location"]
        image = client.get(response.headers["location"])
        assert image.status_code == 200 and len(image.content) > 100
    assert client.get(f"/api/v1/photos/{library[0]}/exif").status_code == 422


def test_someone_elses_photo_is_not_found(client, library, app_env):
    bob = TestClient(as_user(http_api(), new_user("bob@example.com").id))
    for method, path in [("GET", f"/api/v1/photos/{library[0]}"),
                         ("GET", f"/api/v1/photos/{library[0]}/original"),
                         ("POST", f"/api/v1/photos/{library[0]}/trash"),
                         ("DELETE", f"/api/v1/photos/{library[0]}")]:
        response = bob.request(method, path, follow_redirects=False)
        assert response.status_code == 404, (method, path)
    assert bob.get("/api/v1/photos").json()["photos"] == []


def test_trash_restore_and_delete_forever(client, library, app_env):
    photo_id = library[1]
    assert client.delete(f"/api/v1/photos/{photo_id}").status_code == 409
    trashed = client.post(f"/api/v1/photos/{photo_id}/trash").json()
    assert trashed["deleted_at"] is not None
    assert photo_id not in [p["id"] for p in client.get("/api/v1/photos").json()["photos"]]
    assert [p["id"] for p in client.get("/api/v1/photos", params={"trashed": True}).json()[
        "photos"]] == [photo_id]
    assert client.post(f"/api/v1/photos/{photo_id}/restore").json()["deleted_at"] is None
    client.post(f"/api/v1/photos/{photo_id}/trash")
    assert client.delete(f"/api/v1/photos/{photo_id}").status_code == 204
    assert client.get(f"/api/v1/photos/{photo_id}").status_code == 404
    assert not any(photo_id in key for key in app_env.list("photos"))


def test_writes_need_the_photos_write_scope(owner, library):
    reader = keyed(owner, "photos:read")
    assert reader.get(f"/api/v1/photos/{library[0]}").status_code == 200
    refused = reader.post(f"/api/v1/photos/{library[0]}/trash")
    assert refused.status_code == 403 and problem(refused)["scope"] == "photos:write"
    assert keyed(owner, "upload").get("/api/v1/photos").status_code == 403


def test_timeline_buckets_and_a_month(client, library):
    buckets = client.get("/api/v1/timeline/buckets").json()["buckets"]
    assert buckets == [{"month": "2024-07", "count": 1, "days": 1},
                       {"month": "2024-06", "count": 1, "days": 1},
                       {"month": "2023-12", "count": 1, "days": 1}]
    month = client.get("/api/v1/timeline/buckets/2024-06").json()
    assert [p["filename"] for p in month["photos"]] == ["june.jpg"]
    assert client.get("/api/v1/timeline/buckets/2024-13").status_code == 404


def test_albums_and_share_links(client, owner, library):
    album = client.post("/api/v1/albums", json={"name": "Summer"}).json()
    added = client.post(f"/api/v1/albums/{album['id']}/photos",
                        json={"photo_ids": library[:2] + [str(uuid.uuid4())]})
    assert added.json() == {"count": 2}
    got = client.get(f"/api/v1/albums/{album['id']}").json()
    assert got["photo_count"] == 2 and got["cover_photo_id"] == library[0]
    renamed = client.patch(f"/api/v1/albums/{album['id']}",
                           json={"name": "Summer 2024", "cover_photo_id": library[1]}).json()
    assert (renamed["name"], renamed["cover_photo_id"]) == ("Summer 2024", library[1])
    page = client.get(f"/api/v1/albums/{album['id']}/photos").json()
    assert [p["filename"] for p in page["photos"]] == ["paris.jpg", "june.jpg"]

    share = client.post("/api/v1/shares", json={"album_id": album["id"], "expires": "7d"})
    assert share.status_code == 201, share.text
    link = share.json()
    assert link["status"] == "active" and link["url"].startswith("/s/")
    assert client.get(link["url"]).status_code == 200
    assert client.delete(f"/api/v1/shares/{link['id']}").status_code == 204
    assert client.get("/api/v1/shares").json()["shares"][0]["status"] == "revoked"
    assert client.get(link["url"]).status_code == 404
    refused = keyed(owner, "albums").get("/api/v1/shares")
    assert refused.status_code == 403 and problem(refused)["scope"] == "shares"
    assert client.delete(f"/api/v1/albums/{album['id']}").status_code == 204
    assert client.get(f"/api/v1/photos/{library[0]}").status_code == 200


def test_photos_are_searched_with_the_search_pages_filters(client, library):
    def names(**params):
        response = client.get("/api/v1/photos", params=params)
        assert response.status_code == 200, response.text
        return [p["filename"] for p in response.json()["photos"]]

    assert names(q="fujifilm") == ["paris.jpg"]
    assert names(taken_from="2024-01-01") == ["paris.jpg", "june.jpg"]
    assert names(taken_to="2024-06-30") == ["june.jpg", "xmas.jpg"]
    assert names(camera="X-T5") == ["paris.jpg"]
    assert names(favorites=True) == []
    refused = client.get("/api/v1/photos", params={"taken_from": "2024-02-01",
                                                   "taken_to": "2024-01-01"})
    assert refused.status_code == 400 and "start date" in problem(refused)["error"]


def test_patch_changes_title_description_favourite_and_date(client, owner, library):
    path = f"/api/v1/photos/{library[1]}"
    changed = client.patch(path, json={"title": "Beach", "description": "Low tide",
                                       "favorite": True,
                                       "taken_at": "2024-06-02T07:15:00-04:00"})
    assert changed.status_code == 200, changed.text
    photo = changed.json()
    assert (photo["title"], photo["description"], photo["favorite"]) == (
        "Beach", "Low tide", True)
    assert photo["taken_at"] == "2024-06-02T07:15:00-04:00"
    assert photo["taken_at_source"] == "edited"
    assert [p["filename"] for p in client.get(
        "/api/v1/photos", params={"favorites": True}).json()["photos"]] == ["june.jpg"]
    # Without an offset the photo's own offset stays.
    again = client.patch(path, json={"taken_at": "2024-06-03T08:00:00"}).json()
    assert again["taken_at"] == "2024-06-03T08:00:00-04:00"
    assert client.patch(path, json={"taken_at": "1700-01-01T00:00:00Z"}).status_code == 400
    assert client.patch(path, json={"favorite": "maybe"}).status_code == 422
    reader = keyed(owner, "photos:read")
    assert reader.patch(path, json={"title": "x"}).status_code == 403
    client.post(f"{path}/trash")
    assert client.patch(path, json={"title": "x"}).status_code == 409
