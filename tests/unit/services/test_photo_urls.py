"""A URL that cannot be signed becomes a placeholder, and the log says once what is missing."""

import logging

import pytest

from imgstream.models import Photo
from imgstream.services import photo_urls
from imgstream.services.storage import UrlUnavailable
from tests import images
from tests.unit.services.test_ingest import add_photo

REFUSAL = ("iam.serviceAccounts.signBlob on run@p.iam.gserviceaccount.com: grant "
           "run@p.iam.gserviceaccount.com roles/iam.serviceAccountTokenCreator on itself")


class RefusingStorage:
    """A store whose URLs cannot be signed, like Cloud Run without signBlob."""

    def __init__(self, reason: str = REFUSAL):
        self.reason = reason
        self.asked = 0

    def url_for(self, key: str, *, download_name: str = "") -> str:
        self.asked += 1
        raise UrlUnavailable(self.reason)


@pytest.fixture(autouse=True)
def fresh_log(monkeypatch):
    monkeypatch.setattr(photo_urls, "_reported", set())


def reports(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == photo_urls.__name__]


@pytest.fixture
def photo(session, storage, owner, tmp_path):
    result = add_photo(session, storage, owner, tmp_path, images.jpeg(size=(600, 400)))
    return session.get(Photo, result.photo_id)


def test_a_url_that_can_be_signed_is_given(storage, photo):
    image = photo_urls.thumbnail(storage=storage, photo=photo, rendition=None)
    assert image.url.startswith("/media/thumbnails/") and "sig=" in image.url
    assert image.placeholder.startswith("data:image/png;base64,")
    assert photo_urls.download_url(storage=storage, photo=photo).startswith("/media/photos/")


def test_an_unsigned_url_gives_the_thumbhash_placeholder_and_is_logged_once(photo, caplog):
    refusing = RefusingStorage()
    with caplog.at_level(logging.INFO):
        shown = [photo_urls.thumbnail(storage=refusing, photo=photo, rendition=None)
                 for _ in range(5)]
        shown.append(photo_urls.preview(storage=refusing, photo=photo, rendition=None))
        assert photo_urls.download_url(storage=refusing, photo=photo) == ""
        assert photo_urls.url_or_none(storage=refusing, key="thumbnails/x") is None
    assert refusing.asked == 8
    assert {image.url for image in shown} == {""}
    assert {image.placeholder for image in shown} == {photo_urls.placeholder(photo)}
    assert shown[0].placeholder.startswith("data:image/png;base64,")
    assert reports(caplog) == [
        f"Photos show placeholders because their URLs cannot be signed: {REFUSAL}"
    ]
    assert caplog.records[0].levelno == logging.ERROR


def test_a_photo_without_thumbhash_gets_a_neutral_tile(photo):
    photo.thumbhash = None
    image = photo_urls.thumbnail(storage=RefusingStorage(), photo=photo, rendition=None)
    assert (image.url, image.placeholder) == ("", "")


def test_a_different_reason_is_logged_too(photo, caplog):
    with caplog.at_level(logging.INFO):
        for reason in (REFUSAL, "signed URLs need a service account", REFUSAL):
            photo_urls.thumbnail(storage=RefusingStorage(reason), photo=photo, rendition=None)
    assert len(reports(caplog)) == 2


def test_check_signing_raises_and_reports_once(storage, caplog):
    photo_urls.check_signing(storage=storage)
    refusing = RefusingStorage()
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            with pytest.raises(UrlUnavailable, match="signBlob"):
                photo_urls.check_signing(storage=refusing)
    assert len(reports(caplog)) == 1
