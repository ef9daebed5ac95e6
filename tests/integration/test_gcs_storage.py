"""GcsStorage against fake-gcs-server, which enforces generation preconditions."""

import base64
import binascii
import hashlib
import json
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud.storage import _signing
from google.cloud.storage.retry import DEFAULT_RETRY
from google.oauth2 import service_account
from sqlmodel import select

from imgstream import models
from imgstream.models import Photo
from imgstream.services import (
    imaging,
    ingest,
    object_keys,
    renditions,
    storage_gcs,
    timeline,
    trash,
)
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import (
    ObjectExists,
    ObjectMissing,
    StorageUnavailable,
    UrlUnavailable,
)
from imgstream.services.storage_gcs import GcsStorage
from tests import gcs, images

storage = gcs.storage_fixture()

FAST_RETRY = DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.05, multiplier=2).with_timeout(0.6)


def key(kind="photos", suffix=".jpg", owner=None):
    return f"{kind}/{owner or uuid.uuid4()}/{uuid.uuid4()}{suffix}"


def read(store, k):
    with store.open(k) as fh:
        return fh.read()


class FaultyHttp(requests.Session):
    """Sends requests to the emulator, failing the ones that match as told.

    Args:
        matches: Which requests to fail, from (method, url).
        times: How many matching requests fail (None: all of them).
        fault: "503", "429" or "connection" (the connection drops).
        after_sending: Fail only after the request reached the server (a lost response).
    """

    def __init__(self, matches, *, times=None, fault="503", after_sending=False):
        super().__init__()
        self.matches = matches
        self.times = times
        self.fault = fault
        self.after_sending = after_sending
        self.seen = []
        self.failed = 0

    def request(self, method, url, *args, **kwargs):
        self.seen.append((method, url))
        failing = self.matches(method, url) and (self.times is None or self.failed < self.times)
        if not failing:
            return super().request(method, url, *args, **kwargs)
        self.failed += 1
        if self.after_sending:
            super().request(method, url, *args, **kwargs)
        if self.fault == "connection":
            raise requests.exceptions.ConnectionError("connection reset by peer")
        response = requests.Response()
        response.status_code = int(self.fault)
        response._content = json.dumps(
            {"error": {"code": response.status_code, "message": "backend error"}}
        ).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        response.request = requests.Request(method, url).prepare()
        return response


def uploads(method, url):
    return "/upload/" in url


def faulty_store(storage, http, retry=FAST_RETRY):
    client = gcs.emulator_client(http=http)
    return GcsStorage(bucket=storage.bucket_name, client=client, retry=retry)


def test_put_open_list_delete(storage, tmp_path):
    owner = uuid.uuid4()
    k = key(owner=owner)
    thumb = key("thumbnails", "_thumb.webp", owner=owner)
    source = tmp_path / "src"
    source.write_bytes(b"original bytes")
    storage.put_file(k, source)
    storage.put_bytes(thumb, b"thumbnail")

    assert read(storage, k) == b"original bytes"
    assert storage.exists(k) and storage.size(k) == len(b"original bytes")
    assert list(storage.list(f"photos/{owner}")) == [k]
    assert list(storage.list(f"thumbnails/{owner}/")) == [thumb]
    assert list(storage.list(f"photos/{str(owner)[:8]}")) == [], "prefixes are folders"
    assert storage.sizes(f"photos/{owner}") == {k: len(b"original bytes")}
    assert storage.sizes(f"photos/{str(owner)[:8]}") == {}
    storage.delete(k)
    storage.delete(k)
    assert not storage.exists(k)
    assert storage.size(k) == 0
    with pytest.raises(ObjectMissing):
        storage.open(k)


def test_objects_get_the_content_type_of_their_extension(storage):
    bucket = storage._bucket()
    for k, mime in [(key(), "image/jpeg"), (key("thumbnails", "_thumb.webp"), "image/webp")]:
        storage.put_bytes(k, b"bytes")
        assert bucket.get_blob(k).content_type == mime


def test_reads_are_streamed_in_chunks(storage, monkeypatch):
    monkeypatch.setattr(storage_gcs, "READ_CHUNK_BYTES", 256 * 1024)
    data = bytes(range(256)) * 4096  # 1 MiB
    k = key()
    storage.put_bytes(k, data)
    http = FaultyHttp(lambda method, url: False)

    def downloads():
        return [url for method, url in http.seen if "alt=media" in url]

    with faulty_store(storage, http).open(k) as fh:
        received = fh.read(1000)
        assert len(downloads()) == 1
        while block := fh.read(256 * 1024):
            received += block
    assert received == data
    assert len(downloads()) >= 4, "fetched in 256 KiB ranges"
    assert all("ifGenerationMatch=" in url for url in downloads()), "pinned to one version"


def test_writes_are_create_only(storage, tmp_path):
    k = key("thumbnails", "_thumb.webp")
    storage.put_bytes(k, b"first")
    with pytest.raises(ObjectExists):
        storage.put_bytes(k, b"second")
    source = tmp_path / "other"
    source.write_bytes(b"third")
    with pytest.raises(ObjectExists):
        storage.put_file(k, source)
    assert read(storage, k) == b"first"


def test_the_same_bytes_again_are_not_a_conflict(storage, tmp_path):
    # The emulator answers the second create-only upload with 412; the stored checksum matches.
    k = key()
    source = tmp_path / "photo"
    source.write_bytes(b"the same bytes")
    storage.put_file(k, source)
    storage.put_file(k, source)
    storage.put_bytes(k, b"the same bytes")
    assert read(storage, k) == b"the same bytes"


def test_a_retry_that_gets_412_after_its_own_upload_succeeded_is_not_a_conflict(storage):
    http = FaultyHttp(uploads, times=1, after_sending=True)
    store = faulty_store(storage, http)
    k = key()
    store.put_bytes(k, b"uploaded once, answer lost")
    assert sum(uploads(*call) for call in http.seen) == 2, "the library retried the upload"
    assert read(storage, k) == b"uploaded once, answer lost"


def test_a_retry_that_gets_412_from_another_writers_object_is_a_conflict(storage):
    k = key()
    storage.put_bytes(k, b"someone else's bytes")
    store = faulty_store(storage, FaultyHttp(uploads, times=1))
    with pytest.raises(ObjectExists):
        store.put_bytes(k, b"my bytes")
    assert read(storage, k) == b"someone else's bytes"


@pytest.mark.parametrize("fault", ["503", "429", "connection"])
def test_transient_errors_are_retried(storage, fault):
    http = FaultyHttp(uploads, times=2, fault=fault)
    store = faulty_store(storage, http)
    k = key()
    store.put_bytes(k, b"third time lucky")
    assert http.failed == 2
    assert read(storage, k) == b"third time lucky"


@pytest.mark.parametrize("fault", ["503", "connection"])
def test_persistent_errors_give_up_at_the_deadline(storage, fault, tmp_path):
    http = FaultyHttp(lambda method, url: True, fault=fault)
    store = faulty_store(storage, http)
    k = key()
    source = tmp_path / "photo"
    source.write_bytes(b"never stored")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        store.put_file(k, source)
    elapsed = time.monotonic() - started
    assert http.failed >= 3, "backed off and tried again"
    assert 0.5 <= elapsed < 3
    for call in (store.open, store.exists, store.size):
        with pytest.raises(StorageUnavailable):
            call(k)
    assert not storage.exists(k)


def test_a_large_file_goes_up_as_a_resumable_create_only_upload(storage, tmp_path, monkeypatch):
    monkeypatch.setattr(storage_gcs, "UPLOAD_CHUNK_BYTES", 1024 * 1024)
    data = hashlib.sha256(b"seed").digest() * (9 * 1024 * 1024 // 32 + 7)  # over 8 MiB
    source = tmp_path / "large.jpg"
    source.write_bytes(data)
    http = FaultyHttp(lambda method, url: False)
    k = key()
    faulty_store(storage, http).put_file(k, source)

    started = [url for method, url in http.seen if method == "POST" and "/upload/" in url]
    assert len(started) == 1 and "uploadType=resumable" in started[0]
    assert "ifGenerationMatch=0" in started[0]
    chunks = [url for method, url in http.seen if method == "PUT" and "upload_id=" in url]
    assert len(chunks) == 10, "1 MiB chunks"
    assert read(storage, k) == data
    assert storage.size(k) == len(data)


@pytest.mark.parametrize("bad", ["../secret.key", "photos/../../x.jpg", "/etc/passwd", ""])
def test_keys_the_app_did_not_make_are_refused(storage, bad):
    for call in (storage.open, storage.delete, storage.exists, storage.size, storage.url_for):
        with pytest.raises(ObjectMissing):
            call(bad)
    with pytest.raises(ObjectMissing):
        storage.put_bytes(bad, b"x")


def test_a_client_is_made_on_first_use(storage):
    store = GcsStorage(bucket=storage.bucket_name, credentials=AnonymousCredentials())
    assert store._client is None
    k = key()
    store.put_bytes(k, b"lazy")
    assert read(storage, k) == b"lazy"
    assert store._client.api_endpoint == gcs.emulator_url(), "STORAGE_EMULATOR_HOST is honoured"
    with pytest.raises(UrlUnavailable, match="service account"):
        store.url_for(k)


def test_check_reads_bucket_metadata_once(storage):
    http = FaultyHttp(lambda method, url: False)
    faulty_store(storage, http).check()
    assert [(method, urlsplit(url).path) for method, url in http.seen] == [
        ("GET", f"/storage/v1/b/{storage.bucket_name}")
    ]
    with pytest.raises(api_exceptions.NotFound):
        GcsStorage(bucket="no-such-bucket", client=storage._bucket().client).check()


def test_check_fails_when_storage_is_down(storage):
    with pytest.raises(StorageUnavailable):
        faulty_store(storage, FaultyHttp(lambda method, url: True)).check()


def test_ingest_list_read_and_delete_a_photo(storage, session, owner, tmp_path):
    data = images.jpeg(size=(1200, 800), date_original="2021:05:01 10:30:00")
    incoming = IncomingFile(filename="beach.jpg", spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    sha = incoming.finish()
    result = ingest.ingest(
        session=session, storage=storage, owner=owner, upload=incoming, sha256=sha,
        thumbnail_size=400, preview_size=1440, max_pixels=10**8,
    )
    assert result.status is ingest.IngestStatus.ADDED

    page = timeline.timeline_page(session=session, owner_id=owner.id, limit=10)
    assert [p.id for p in page.photos] == [result.photo_id]
    original = object_keys.original_key(owner.id, result.photo_id, "jpg")
    thumbnail = object_keys.thumbnail_key(owner.id, result.photo_id)
    assert read(storage, original) == data
    assert imaging.MIME_BY_EXTENSION["webp"] == storage._bucket().get_blob(thumbnail).content_type
    assert sorted(storage.list(f"photos/{owner.id}")) == [original]

    assert trash.move_to_trash(session=session, owner_id=owner.id, photo_id=result.photo_id)
    assert storage.exists(original), "the trash keeps the objects"
    assert trash.delete_forever(
        session=session, storage=storage, owner_id=owner.id, photo_id=result.photo_id
    ).photos == 1
    assert session.exec(select(Photo)).all() == []
    assert not storage.exists(original) and not storage.exists(thumbnail)
    session.refresh(owner)
    assert owner.used_bytes == 0


def _ingest(storage, session, owner, tmp_path, data, name, choice):
    incoming = IncomingFile(filename=name, spool_dir=tmp_path / "in", max_bytes=10**8)
    incoming.write(data)
    return ingest.ingest(
        session=session, storage=storage, owner=owner, upload=incoming,
        sha256=incoming.finish(), thumbnail_size=400, preview_size=1440, max_pixels=10**8,
        on_collision=choice,
    )


def test_replacing_a_photo_swaps_its_objects_in_the_bucket(storage, session, owner, tmp_path):
    first = images.jpeg(size=(1600, 1200), color=(200, 10, 10))
    kept = _ingest(storage, session, owner, tmp_path, first, "wall.jpg",
                   models.CollisionChoice.ASK)
    photo = session.get(Photo, kept.photo_id)
    old = set(renditions.photo_blobs(session=session, storage=storage, photo=photo))
    asked = _ingest(storage, session, owner, tmp_path, images.jpeg(color=(1, 1, 1)), "WALL.JPG",
                    models.CollisionChoice.ASK)
    assert asked.status is ingest.IngestStatus.COLLISION

    second = images.jpeg(size=(800, 1000), color=(10, 200, 10))
    replaced = _ingest(storage, session, owner, tmp_path, second, "WALL.JPG",
                       models.CollisionChoice.REPLACE)
    assert (replaced.status, replaced.photo_id) == (ingest.IngestStatus.REPLACED, photo.id)
    session.refresh(photo)
    new = renditions.photo_blobs(session=session, storage=storage, photo=photo)
    assert read(storage, object_keys.original_of(photo)) == second
    assert not old & set(new)
    stored = {key for prefix in ("photos", "thumbnails", "previews")
              for key in storage.list(f"{prefix}/{owner.id}/")}
    assert stored == set(new)
    session.refresh(owner)
    assert owner.used_bytes == sum(new.values())


def service_account_info():
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "1",
        "private_key": pem.decode(),
        "client_email": "imgstream@test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def query_of(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_url_for_signs_locally_with_a_service_account_key(storage):
    credentials = service_account.Credentials.from_service_account_info(service_account_info())
    store = GcsStorage(
        bucket=storage.bucket_name, client=storage._bucket().client, credentials=credentials
    )
    k = key()
    storage.put_bytes(k, b"signed bytes")

    url = store.url_for(k)
    split, query = urlsplit(url), query_of(url)
    assert f"{split.scheme}://{split.netloc}" == gcs.emulator_url()
    assert unquote(split.path) == f"/{storage.bucket_name}/{k}"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Credential"].startswith("imgstream@test.iam.gserviceaccount.com/")
    assert 1800 <= int(query["X-Goog-Expires"]) <= 1800 + 300
    assert "response-content-disposition" not in query
    assert store.url_for(k) == url, "cached for the expiry window"

    download = store.url_for(k, download_name="Strand 日本.jpg")
    disposition = query_of(download)["response-content-disposition"]
    assert disposition.startswith('attachment; filename="Strand __.jpg"')
    assert "filename*=UTF-8''Strand%20%E6%97%A5%E6%9C%AC.jpg" in disposition
    assert download != url

    # fake-gcs-server serves a GET on the signed path (it does not check the signature).
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"signed bytes"


def test_url_for_expires_on_a_window_boundary_and_changes_with_the_window(storage, monkeypatch):
    credentials = service_account.Credentials.from_service_account_info(service_account_info())
    store = GcsStorage(
        bucket=storage.bucket_name, client=storage._bucket().client, credentials=credentials
    )
    k = key()
    clock = SimpleNamespace(now=1_800_000_123.4)
    monkeypatch.setattr(storage_gcs.time, "time", lambda: clock.now)
    monkeypatch.setattr(
        _signing, "_NOW", lambda tz=None: datetime.fromtimestamp(clock.now, tz or UTC)
    )

    def expiry(url):
        query = query_of(url)
        signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ")
        return signed_at.replace(tzinfo=UTC).timestamp() + int(query["X-Goog-Expires"])

    first = store.url_for(k)
    assert expiry(first) == 1_800_002_100, "now + 1800 s, rounded up to 5 minutes"
    clock.now += 50
    assert store.url_for(k) == first, "same window, same URL"
    clock.now += 200
    second = store.url_for(k)
    assert second != first
    assert expiry(second) == 1_800_002_400
    assert int(query_of(second)["X-Goog-Expires"]) >= 1800


class ComputeCredentials(Credentials):
    """Like Cloud Run's credentials: a token and an email after refresh, no private key."""

    def __init__(self):
        super().__init__()
        self.refreshes = 0
        self._email = "default"

    @property
    def service_account_email(self):
        return self._email

    def refresh(self, request):
        self.refreshes += 1
        self.token = f"access-token-{self.refreshes}"
        self._email = "runner@test.iam.gserviceaccount.com"


class IamSignBlob:
    """Stands in for the IAM credentials API's signBlob endpoint."""

    signature = b"\x01\x02 signed by iam"

    def __init__(self):
        self.calls = []

    def __call__(self, url, method, body, headers):
        self.calls.append(SimpleNamespace(url=url, body=json.loads(body), headers=headers))
        data = json.dumps({"signedBlob": base64.b64encode(self.signature).decode()}).encode()
        return SimpleNamespace(status=200, data=data)


def test_url_for_signs_through_iam_once_per_object_and_window(storage, monkeypatch):
    iam = IamSignBlob()
    monkeypatch.setattr(_signing, "requests", SimpleNamespace(Request=lambda: iam))
    credentials = ComputeCredentials()
    store = GcsStorage(
        bucket=storage.bucket_name, client=storage._bucket().client, credentials=credentials
    )
    k, other = key("thumbnails", "_thumb.webp"), key("thumbnails", "_thumb.webp")

    urls = {store.url_for(k) for _ in range(100)}
    assert len(urls) == 1
    assert len(iam.calls) == 1
    store.url_for(other)
    store.url_for(k, download_name="a.jpg")
    assert len(iam.calls) == 3
    assert credentials.refreshes == 1

    call = iam.calls[0]
    assert call.url.startswith(
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
        "runner@test.iam.gserviceaccount.com:signBlob"
    )
    assert call.headers["Authorization"] == "Bearer access-token-1"
    assert base64.b64decode(call.body["payload"]).startswith(b"GOOG4-RSA-SHA256\n")
    query = query_of(urls.pop())
    assert query["X-Goog-Signature"] == binascii.hexlify(IamSignBlob.signature).decode()
    assert query["X-Goog-Credential"].startswith("runner@test.iam.gserviceaccount.com/")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_without_the_emulator_tests_skip_here_and_fail_in_ci(monkeypatch, ci, outcome):
    def broken():
        raise OSError("no binary")

    monkeypatch.setattr(gcs, "_url", None)
    monkeypatch.setattr(gcs, "_failure", None)
    monkeypatch.setattr(gcs, "_start", broken)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="fake-gcs-server is not available: the server did not"):
        gcs.emulator_url()


def test_modified_tells_when_an_object_was_written(storage):
    from datetime import UTC, datetime, timedelta

    k = key()
    assert storage.modified(k) is None
    storage.put_bytes(k, b"bytes")
    written = storage.modified(k)
    assert written is not None and written.tzinfo is not None
    assert abs(datetime.now(UTC) - written) < timedelta(minutes=5)
