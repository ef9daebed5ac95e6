"""Share links over HTTP, as a visitor without an account, in a profile behind IAP."""

import io
import re
import uuid
import zipfile
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import Session
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from imgstream import runtime
from imgstream.api import http_api
from imgstream.api import identity as api_identity
from imgstream.api import shares as share_api
from imgstream.config import get_settings
from imgstream.models import Photo, utcnow
from imgstream.services import albums, identity, ingest, object_keys, photo_archives, shares
from imgstream.services.spooling import IncomingFile
from tests import images
from tests.iap import AUDIENCE
from tests.unit.api.test_identity import certs, clear_caches, configure, echo_app, key  # noqa: F401
from tests.unit.services.test_shared_originals import camera_jpeg


@pytest.fixture
def site(monkeypatch, tmp_path, certs):  # noqa: F811
    configure(monkeypatch, tmp_path, env="staging", secret="x" * 64,
              iap_audience=AUDIENCE, public_url="https://photos.example.com")
    verifier = identity.IapVerifier(audience=AUDIENCE, certs_url="https://certs.test",
                                    fetch=certs)
    monkeypatch.setattr(api_identity, "iap_verifier", lambda: verifier)
    monkeypatch.setattr(share_api, "THROTTLE", shares.PasswordThrottle(per_link=4, per_client=3))
    yield TestClient(api_identity.request_identity(http_api()), base_url="https://testserver")
    clear_caches()


def add(session, owner, tmp_path, name, data):
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    result = ingest.ingest(session=session, storage=runtime.storage(), owner=owner,
                           upload=incoming, sha256=incoming.finish(), thumbnail_size=400,
                           preview_size=1440, max_pixels=10**8)
    return session.get(Photo, result.photo_id)


@pytest.fixture
def library(site, tmp_path):
    with Session(runtime.engine(), expire_on_commit=False) as session:
        ada = identity.provision_user(session=session, email="ada@example.com")
        eve = identity.provision_user(session=session, email="eve@example.com")
        beach = add(session, ada, tmp_path, "beach.jpg", camera_jpeg())
        dune = add(session, ada, tmp_path, "dune.jpg",
                   images.jpeg(size=(2000, 1500), date_original="2024:06:01 10:00:00"))
        private = add(session, ada, tmp_path, "private.jpg", images.jpeg(color=(1, 2, 3)))
        theirs = add(session, eve, tmp_path, "theirs.jpg", images.jpeg(color=(9, 9, 9)))
        album = albums.create_album(session=session, owner_id=ada.id, name="Holiday <b>2024</b>")
        albums.add_photos(session=session, owner_id=ada.id, album_id=album.id,
                          photo_ids=[beach.id, dune.id])
        eve_album = albums.create_album(session=session, owner_id=eve.id, name="Eve's")
        albums.add_photos(session=session, owner_id=eve.id, album_id=eve_album.id,
                          photo_ids=[theirs.id])
    return {"ada": ada, "eve": eve, "beach": beach, "dune": dune, "private": private,
            "theirs": theirs, "album": album, "eve_album": eve_album}


def make_share(owner, **options):
    with Session(runtime.engine(), expire_on_commit=False) as session:
        return shares.create_share(session=session, secret=get_settings().signing_key(),
                                   owner_id=owner.id, **options)


def img_sources(html: str) -> list[str]:
    return [src.replace("&amp;", "&") for src in re.findall(r'<img[^>]* src="([^"]+)"', html)]


def test_visitor_sees_the_album_viewer_media_and_zip_without_location(site, library):
    link = make_share(library["ada"], album_id=library["album"].id)
    home = site.get(f"/s/{link.token}")
    assert home.status_code == 200
    html = home.text
    assert "Holiday &lt;b&gt;2024&lt;/b&gt;" in html and "<b>2024" not in html
    assert html.count('data-testid="share-card"') == 2
    assert "private.jpg" not in html and "theirs.jpg" not in html
    assert home.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    for src in img_sources(html):
        assert src.startswith(f"/s/{link.token}/media/thumbnails/")
        media = site.get(src)
        assert media.status_code == 200 and media.headers["content-type"] == "image/webp"

    beach, dune = library["beach"], library["dune"]
    viewer = site.get(f"/s/{link.token}/p/{beach.id}")
    assert viewer.status_code == 200
    assert "Location" not in viewer.text and "1 of 2" in viewer.text
    assert f'href="/s/{link.token}/p/{dune.id}"' in viewer.text
    image = img_sources(viewer.text)[0]
    assert site.get(image).status_code == 200

    download = site.get(f"/s/{link.token}/p/{beach.id}/download")
    assert download.status_code == 200
    assert 'filename="beach.jpg"' in download.headers["content-disposition"]
    exif = Image.open(io.BytesIO(download.content)).getexif()
    assert exif.get_ifd(0x8825) == {} and exif[0x010F] == "Canon"
    assert 0xA431 not in exif.get_ifd(0x8769), "no camera serial number"

    archive = site.get(f"/s/{link.token}/download.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        assert sorted(zf.namelist()) == ["beach.jpg", "dune.jpg"]
        assert Image.open(io.BytesIO(zf.read("beach.jpg"))).getexif().get_ifd(0x8825) == {}

    with Session(runtime.engine()) as session:
        [summary] = shares.list_shares(session=session, owner_id=library["ada"].id)
        assert summary.share.view_count == 1 and summary.share.last_viewed_at is not None


def test_show_location_keeps_gps_in_pages_and_files(site, library):
    link = make_share(library["ada"], photo_ids=[library["beach"].id], show_location=True)
    viewer = site.get(f"/s/{link.token}/p/{library['beach'].id}")
    assert "Location" in viewer.text and "48.1" in viewer.text
    download = site.get(f"/s/{link.token}/p/{library['beach'].id}/download")
    assert Image.open(io.BytesIO(download.content)).getexif().get_ifd(0x8825)


def test_changing_any_id_token_or_key_reaches_nothing_else(site, library):
    link = make_share(library["ada"], album_id=library["album"].id)
    base = f"/s/{link.token}"
    store = runtime.storage()
    private, theirs = library["private"], library["theirs"]
    for photo in (private, theirs):
        for suffix in ("", "/download", "/image"):
            assert site.get(f"{base}/p/{photo.id}{suffix}").status_code == 404
        thumb = object_keys.thumbnail_key(photo.owner_id, photo.id)
        signed = store.url_for(thumb)
        assert site.get(base + signed).status_code == 404, "signed but not in this link"
        assert site.get(base + store.url_for(object_keys.original_of(photo))).status_code == 404
        assert site.get(signed).status_code == 401, "the owners' media route needs sign-in"
    assert site.get(f"{base}/p/{uuid.uuid4()}").status_code == 404
    assert site.get(f"{base}/p/not-an-id").status_code == 404
    # The original of a shared photo is only ever handed out rewritten.
    beach_original = object_keys.original_of(library["beach"])
    assert site.get(base + store.url_for(beach_original)).status_code == 404
    assert site.get(f"{base}/media/../../photos/x").status_code == 404
    for guess in ("", "x", "A" * 32, link.token[:-1] + ("A" if link.token[-1] != "A" else "B"),
                  link.token.upper(), "x" * 500):
        assert site.get(f"/s/{guess}").status_code == 404
    # Eve's link does not open Ada's photos, nor Ada's link Eve's.
    eve_link = make_share(library["eve"], album_id=library["eve_album"].id)
    assert site.get(f"/s/{eve_link.token}").status_code == 200
    assert site.get(f"/s/{eve_link.token}/p/{library['beach'].id}").status_code == 404
    assert site.get(f"{base}/p/{theirs.id}/download").status_code == 404
    with pytest.raises(shares.InvalidShare):
        make_share(library["eve"], album_id=library["album"].id)
    # The app's pages and API are not reachable without IAP from a share visitor.
    for path in ("/", "/albums", "/api/v1/uploads", "/_event/", "/settings"):
        assert site.get(path, cookies={shares.ACCESS_COOKIE: "1.2"}).status_code == 401


def test_expired_is_410_revoked_and_unknown_are_the_same_404(site, library):
    past = utcnow() - timedelta(days=8)
    expired = make_share(library["ada"], album_id=library["album"].id, now=past,
                         expires_at=past + timedelta(days=7))
    gone = site.get(f"/s/{expired.token}")
    assert gone.status_code == 410 and "expired" in gone.text
    assert site.get(f"/s/{expired.token}/download.zip").status_code == 410

    link = make_share(library["ada"], album_id=library["album"].id)
    assert site.get(f"/s/{link.token}").status_code == 200
    with Session(runtime.engine()) as session:
        shares.revoke_share(session=session, owner_id=library["ada"].id, share_id=link.share.id)
    revoked = site.get(f"/s/{link.token}")
    unknown = site.get(f"/s/{'Q' * len(link.token)}")
    assert revoked.status_code == unknown.status_code == 404
    def without_nonce(html):
        return re.sub(r'nonce="[^"]+"', "", html)

    assert without_nonce(revoked.text) == without_nonce(unknown.text)
    assert site.get(f"/s/{link.token}/download.zip").status_code == 404


def test_wrong_then_right_password_and_the_cookie_opens_that_link_only(site, library):
    link = make_share(library["ada"], album_id=library["album"].id, password="sesame")
    other = make_share(library["ada"], album_id=library["album"].id, password="sesame")
    base = f"/s/{link.token}"
    form = site.get(base)
    assert form.status_code == 401 and 'data-testid="share-password"' in form.text
    assert "beach.jpg" not in form.text
    assert site.get(f"{base}/download.zip").status_code == 404
    assert site.get(f"{base}/p/{library['beach'].id}/download").status_code == 404

    wrong = site.post(f"{base}/unlock", data={"password": "open"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    right = site.post(f"{base}/unlock", data={"password": "sesame"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == base
    cookie = right.headers["set-cookie"]
    for attribute in (f"Path={base}", "HttpOnly", "SameSite=lax", "Secure"):
        assert attribute.lower() in cookie.lower()
    value = right.cookies[shares.ACCESS_COOKIE]
    opened = site.get(base, cookies={shares.ACCESS_COOKIE: value})
    assert opened.status_code == 200 and "beach.jpg" in opened.text
    site.cookies.clear()
    assert site.get(f"/s/{other.token}",
                    cookies={shares.ACCESS_COOKIE: value}).status_code == 401


def test_wrong_passwords_are_throttled_per_client(site, library):
    link = make_share(library["ada"], album_id=library["album"].id, password="sesame")
    base = f"/s/{link.token}"
    for _ in range(3):
        assert site.post(f"{base}/unlock", data={"password": "guess"}).status_code == 401
    limited = site.post(f"{base}/unlock", data={"password": "sesame"}, follow_redirects=False)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "set-cookie" not in limited.headers


def test_downloads_off_hides_the_zip_and_originals(site, library):
    link = make_share(library["ada"], album_id=library["album"].id, allow_download=False)
    base = f"/s/{link.token}"
    assert "share-download-all" not in site.get(base).text
    viewer = site.get(f"{base}/p/{library['dune'].id}")
    assert viewer.status_code == 200 and "share-download" not in viewer.text
    assert site.get(f"{base}/download.zip").status_code == 404
    assert site.get(f"{base}/p/{library['dune'].id}/download").status_code == 404


def test_share_paths_carry_no_identity_and_no_socket(monkeypatch, tmp_path, certs, key):  # noqa: F811
    configure(monkeypatch, tmp_path, env="staging", secret="x" * 64,
              iap_audience=AUDIENCE, public_url="https://photos.example.com")
    verifier = identity.IapVerifier(audience=AUDIENCE, certs_url="https://certs.test",
                                    fetch=certs)
    monkeypatch.setattr(api_identity, "iap_verifier", lambda: verifier)
    app = echo_app()

    async def headers(request):
        return JSONResponse(sorted(k for k, _ in request.headers.items()))

    app.router.routes.insert(0, Route("/s/headers", headers))

    async def any_socket(ws):
        await ws.accept()
        await ws.close()

    app.router.routes.append(WebSocketRoute("/{path:path}", any_socket))
    echo = TestClient(api_identity.request_identity(app))
    forged = {"x-imgstream-user": str(uuid.uuid4()), "x-goog-iap-jwt-assertion": key.token()}
    seen = echo.get("/s/sometoken", headers=forged).json()
    assert seen == {"user": "None", "user_header": None, "token_header": None}
    assert echo.get("/s", headers={"x-imgstream-user": str(uuid.uuid4())}).json()["user"] == "None"
    names = echo.get("/s/headers", headers=forged).json()
    assert "x-imgstream-user" not in names and "x-goog-iap-jwt-assertion" not in names
    with pytest.raises(WebSocketDisconnect):
        with echo.websocket_connect("/s/sometoken", headers=forged):
            pass
    with pytest.raises(WebSocketDisconnect):
        with echo.websocket_connect("/_event/?EIO=4&transport=websocket",
                                    headers={"origin": "https://photos.example.com",
                                             "referer": "https://photos.example.com/s/x"}):
            pass
    clear_caches()


def test_archive_names_are_safe_and_unique():
    taken: set[str] = set()
    names = [photo_archives.archive_name(n, taken) for n in
             ["a.jpg", "A.JPG", "../../etc/passwd", "/abs.jpg", "bell\x07.jpg", "", "a.jpg"]]
    assert names == ["a.jpg", "A (1).JPG", "_.._etc_passwd", "_abs.jpg", "bell_.jpg", "photo",
                     "a (2).jpg"]
    assert all("/" not in n and "\\" not in n for n in names)


def test_zip_is_capped_in_photos_and_bytes(site, library, monkeypatch):
    link = make_share(library["ada"], album_id=library["album"].id)
    monkeypatch.setattr(share_api, "MAX_ZIP_PHOTOS", 1)
    refused = site.get(f"/s/{link.token}/download.zip")
    assert refused.status_code == 413 and "one by one" in refused.text
    monkeypatch.setattr(share_api, "MAX_ZIP_PHOTOS", 10)
    monkeypatch.setattr(share_api, "MAX_ZIP_BYTES", 100)
    assert site.get(f"/s/{link.token}/download.zip").status_code == 413


def test_a_heic_original_is_downloaded_as_itself_without_location(site, library, tmp_path):
    exif = Image.Exif()
    exif.load(images.exif_bytes(make="Apple", model="iPhone 15", gps=(48.1, 11.5),
                                date_original="2024:05:01 10:00:00"))
    original = images.heic(images.photo_like((320, 240)), exif=exif.tobytes())
    with Session(runtime.engine(), expire_on_commit=False) as session:
        photo = add(session, library["ada"], tmp_path, "pier.heic", original)
    link = make_share(library["ada"], photo_ids=[photo.id])
    download = site.get(f"/s/{link.token}/p/{photo.id}/download")
    assert download.status_code == 200
    assert 'filename="pier.heic"' in download.headers["content-disposition"]
    assert len(download.content) == len(original), "the original, not a preview"
    with Image.open(io.BytesIO(download.content)) as im:
        assert im.format == "HEIF" and im.getexif().get_ifd(0x8825) == {}
        assert im.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    with zipfile.ZipFile(io.BytesIO(site.get(f"/s/{link.token}/download.zip").content)) as zf:
        assert zf.namelist() == ["pier.heic"]
        assert Image.open(io.BytesIO(zf.read("pier.heic"))).getexif().get_ifd(0x8825) == {}
