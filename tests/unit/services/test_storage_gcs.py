"""Signing Cloud Storage URLs: what fails becomes UrlUnavailable, naming what is missing."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage as gcs
from google.cloud.storage import _signing

from imgstream.services import storage_gcs
from imgstream.services.storage import UrlUnavailable
from imgstream.services.storage_gcs import SIGNING_RETRY_SECONDS, GcsStorage
from tests import service_account

KEY = ("thumbnails/0b0e7f5e-3c1d-4a47-9a57-0f6f1c1b2a3d/"
       "6a1f0c3e-8d2b-4e5f-9a7b-1c2d3e4f5a6b_thumb.webp")
RUNNER = "runner@p.iam.gserviceaccount.com"


@pytest.fixture
def client(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    # Nothing listens there: signing must not need the bucket.
    return gcs.Client(project="test", credentials=AnonymousCredentials(),
                      client_options={"api_endpoint": "http://127.0.0.1:9"})


class ComputeCredentials(Credentials):
    """Like Cloud Run's credentials: a token and an email after refresh, no private key."""

    def __init__(self):
        super().__init__()
        self._email = "default"

    @property
    def service_account_email(self):
        return self._email

    def refresh(self, request):
        self.token = "access-token"
        self._email = RUNNER


class IamSignBlob:
    """The IAM signBlob endpoint, answering every call with one status and body."""

    def __init__(self, status, body):
        self.status, self.body, self.calls = status, body, 0

    def __call__(self, url, method, body, headers):
        self.calls += 1
        return SimpleNamespace(status=self.status, data=json.dumps(self.body).encode())


def refused(status, reason, message):
    return {"error": {"code": status, "message": message, "status": "PERMISSION_DENIED",
                      "details": [{"reason": reason}]}}


def with_iam(monkeypatch, iam):
    monkeypatch.setattr(_signing, "requests", SimpleNamespace(Request=lambda: iam))


def test_anonymous_credentials_name_the_key_file_to_set(client):
    store = GcsStorage(bucket="photos", client=client)
    with pytest.raises(UrlUnavailable, match="GOOGLE_APPLICATION_CREDENTIALS"):
        store.url_for(KEY)


def test_a_refused_signblob_names_the_permission_and_is_not_asked_again_at_once(
    client, monkeypatch
):
    iam = IamSignBlob(403, refused(403, "IAM_PERMISSION_DENIED",
                                   "Permission 'iam.serviceAccounts.signBlob' denied"))
    with_iam(monkeypatch, iam)
    clock = SimpleNamespace(now=1_800_000_000.0)
    monkeypatch.setattr(storage_gcs.time, "time", lambda: clock.now)
    store = GcsStorage(bucket="photos", client=client, credentials=ComputeCredentials())

    with pytest.raises(UrlUnavailable) as first:
        store.url_for(KEY)
    assert str(first.value) == (
        f"iam.serviceAccounts.signBlob on {RUNNER}: grant {RUNNER} "
        "roles/iam.serviceAccountTokenCreator on itself"
    )
    for _ in range(20):
        with pytest.raises(UrlUnavailable, match="signBlob"):
            store.url_for(KEY)
    assert iam.calls == 1, "a page of thumbnails does not wait for one refusal each"

    clock.now += SIGNING_RETRY_SECONDS + 1
    iam.status, iam.body = 200, {"signedBlob": "c2lnbmVk"}
    url = store.url_for(KEY)
    assert iam.calls == 2
    assert parse_qs(urlsplit(url).query)["X-Goog-Credential"][0].startswith(RUNNER)


def test_a_disabled_iam_credentials_api_is_named(client, monkeypatch):
    with_iam(monkeypatch, IamSignBlob(403, refused(
        403, "SERVICE_DISABLED", "IAM Service Account Credentials API has not been used")))
    store = GcsStorage(bucket="photos", client=client, credentials=ComputeCredentials())
    with pytest.raises(UrlUnavailable, match="enable iamcredentials.googleapis.com"):
        store.url_for(KEY)


def test_an_unreachable_metadata_server_is_unavailable_not_a_crash(client):
    class NoMetadata(ComputeCredentials):
        def refresh(self, request):
            from google.auth.exceptions import RefreshError

            raise RefreshError("metadata server unreachable")

    store = GcsStorage(bucket="photos", client=client, credentials=NoMetadata())
    with pytest.raises(UrlUnavailable, match="RefreshError: metadata server unreachable"):
        store.url_for(KEY)


def test_a_key_file_signs_even_when_the_client_is_anonymous(client, tmp_path):
    key_file = service_account.write_key_file(tmp_path / "key.json")
    store = GcsStorage(bucket="photos", client=client, signing_key_file=key_file)
    url = store.url_for(KEY)
    split, query = urlsplit(url), parse_qs(urlsplit(url).query)
    assert f"{split.scheme}://{split.netloc}" == "http://127.0.0.1:9"
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Credential"][0].startswith(f"{service_account.EMAIL}/")
    assert len(query["X-Goog-Signature"][0]) == 512, "an RSA-2048 signature in hex"


def test_an_unreadable_key_file_is_named(client, tmp_path):
    store = GcsStorage(bucket="photos", client=client, signing_key_file=tmp_path / "none.json")
    with pytest.raises(UrlUnavailable, match="GOOGLE_APPLICATION_CREDENTIALS names .*none.json"):
        store.url_for(KEY)
