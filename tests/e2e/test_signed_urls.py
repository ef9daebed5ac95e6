"""The production profile on Cloud Storage (fake-gcs-server), in Chromium.

Without a signing identity the library still shows its photos, as placeholders, and /health
names signing; with a service-account key file the thumbnails come from V4 URLs signed by that
key, which the emulator serves.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from playwright.sync_api import expect

from imgstream.testing import AppDidNotStart, free_port, running_app
from tests import images, service_account
from tests.e2e.conftest import open_library, unavailable
from tests.gcs import emulator_url, gcs_storage
from tests.iap import AUDIENCE, SigningKey, serving_certs

pytestmark = pytest.mark.e2e

IAP = "x-goog-iap-jwt-assertion"
LOG_LINE = "Photos show placeholders because their URLs cannot be signed"


@pytest.fixture(scope="module")
def iap_key():
    return SigningKey()


@pytest.fixture(scope="module")
def prod_app(tmp_path_factory, iap_key):
    """The app in the production profile on a bucket of the emulator.

    GOOGLE_APPLICATION_CREDENTIALS names a key file that does not exist until a test writes it.
    """
    data_dir = tmp_path_factory.mktemp("signed")
    port = free_port()
    key_file = data_dir / "signer.json"
    with serving_certs(iap_key) as certs_url, gcs_storage() as bucket:
        env = {
            "IMGSTREAM_ENV": "production",
            "IMGSTREAM_DATABASE_URL": f"sqlite:///{data_dir / 'imgstream.db'}",
            "IMGSTREAM_GCS_BUCKET": bucket.bucket_name,
            "STORAGE_EMULATOR_HOST": emulator_url(),
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "IMGSTREAM_SECRET": "e" * 64,
            "IMGSTREAM_IAP_AUDIENCE": AUDIENCE,
            "IMGSTREAM_IAP_CERTS_URL": certs_url,
            "IMGSTREAM_PUBLIC_URL": f"http://localhost:{port}",
        }
        try:
            with running_app(data_dir, env, port=port,
                             ready_headers={IAP: iap_key.token()}) as app:
                app.bucket = bucket
                app.key_file = key_file
                yield app
        except AppDidNotStart as exc:
            unavailable(str(exc))


@pytest.fixture
def signed_in_page(browser, prod_app, iap_key):
    # IAP adds its assertion to every request that reaches the app, the socket's included.
    context = browser.new_context(base_url=prod_app.url,
                                  extra_http_headers={IAP: iap_key.token()},
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def health(app) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{app.url}/health", timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def upload(page, path) -> None:
    page.get_by_test_id("upload-input").set_input_files([str(path)])
    row = page.get_by_test_id("upload-item").filter(has_text=path.name)
    expect(row).to_contain_text("added", timeout=60_000)


def verify_v4_signature(url: str, key_info: dict) -> None:
    """Check a V4 signed URL's signature with the service account's public key."""
    split = urlsplit(url)
    query, _, signature = split.query.rpartition("&X-Goog-Signature=")
    params = parse_qs(query)
    canonical_request = "\n".join(
        ["GET", split.path, query, f"host:{split.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    string_to_sign = "\n".join([
        "GOOG4-RSA-SHA256",
        params["X-Goog-Date"][0],
        params["X-Goog-Credential"][0].split("/", 1)[1],
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    private = serialization.load_pem_private_key(key_info["private_key"].encode(), None)
    private.public_key().verify(bytes.fromhex(signature), string_to_sign.encode(),
                                padding.PKCS1v15(), hashes.SHA256())


def test_without_a_signing_identity_photos_show_placeholders(prod_app, signed_in_page,
                                                             tmp_path):
    page = signed_in_page
    photo = tmp_path / "lake.jpg"
    photo.write_bytes(images.jpeg(size=(640, 480), color=(20, 110, 190)))
    open_library(page)
    upload(page, photo)

    card = page.locator("[data-testid=photo-card][title='lake.jpg']")
    expect(card).to_have_count(1, timeout=30_000)
    expect(card.get_by_test_id("thumbnail-unavailable")).to_have_count(1)
    expect(card.locator("img")).to_have_count(0)
    frame = card.get_by_test_id("photo-thumb-frame")
    assert "data:image/png;base64," in frame.evaluate(
        "el => getComputedStyle(el).backgroundImage"), "the thumbhash placeholder shows"

    card.click()
    detail = page.get_by_test_id("photo-detail")
    expect(detail).to_contain_text("lake.jpg", timeout=30_000)
    expect(page.get_by_test_id("photo-unavailable")).to_contain_text(
        "can't be shown right now")
    expect(page.get_by_test_id("download-unavailable")).to_be_disabled()

    page.reload()
    expect(page.get_by_test_id("photo-unavailable")).to_be_visible(timeout=30_000)
    status, body = health(prod_app)
    assert status == 503
    assert body["checks"] == {"database": "ok", "storage": "ok",
                              "signing": "failing: UrlUnavailable"}
    log = (prod_app.data_dir / "app.log").read_text()
    assert log.count(LOG_LINE) == 1, "said once, not once per photo or request"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in log.split(LOG_LINE, 1)[1].splitlines()[0]


def test_a_service_account_key_signs_urls_the_emulator_serves(prod_app, signed_in_page,
                                                              tmp_path):
    key_info = service_account.key_info()
    prod_app.key_file.write_text(json.dumps(key_info))
    # The app tries signing again once its short back-off after a refusal has passed.
    deadline = time.monotonic() + 90
    while health(prod_app)[0] != 200:
        assert time.monotonic() < deadline, f"signing never recovered: {health(prod_app)}"
        time.sleep(2)
    assert health(prod_app)[1]["checks"]["signing"] == "ok"

    page = signed_in_page
    photo = tmp_path / "dunes.jpg"
    photo.write_bytes(images.jpeg(size=(800, 600), color=(200, 160, 90)))
    open_library(page)
    upload(page, photo)

    thumb = page.locator("[data-testid=photo-card][title='dunes.jpg'] img")
    expect(thumb).to_have_js_property("complete", True, timeout=30_000)
    assert thumb.evaluate("img => img.naturalWidth") == 400, "the browser loaded it"
    url = thumb.get_attribute("src")
    split, query = urlsplit(url), parse_qs(urlsplit(url).query)
    assert f"{split.scheme}://{split.netloc}" == emulator_url()
    bucket, _, key = unquote(split.path).lstrip("/").partition("/")
    assert bucket == prod_app.bucket.bucket_name and key.startswith("thumbnails/")
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Credential"][0].startswith(f"{service_account.EMAIL}/")
    assert query["X-Goog-SignedHeaders"] == ["host"]
    assert 1800 <= int(query["X-Goog-Expires"][0]) <= 2100
    verify_v4_signature(url, key_info)

    with urllib.request.urlopen(url, timeout=20) as response:
        served = response.read()
    assert served[:4] == b"RIFF" and served[8:12] == b"WEBP"
    with prod_app.bucket.open(key) as stored:
        assert served == stored.read()

    # The photo uploaded while nothing could be signed shows its thumbnail now too.
    lake = page.locator("[data-testid=photo-card][title='lake.jpg'] img")
    page.reload()
    expect(lake).to_have_js_property("complete", True, timeout=30_000)
    assert lake.evaluate("img => img.naturalWidth") == 400

    page.locator("[data-testid=photo-card][title='dunes.jpg']").click()
    preview = page.get_by_test_id("photo-preview")
    expect(preview).to_have_js_property("complete", True, timeout=30_000)
    assert preview.evaluate("img => img.naturalWidth") == 800
    download = page.get_by_test_id("download-original").get_attribute("href")
    assert "response-content-disposition=attachment" in download
    verify_v4_signature(download, key_info)
