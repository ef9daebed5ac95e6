from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from imgstream.services import media_urls

KEY = (
    "thumbnails/4f0c7f7e-1d7a-4f55-9a44-2d1b3c0a9f10/9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
    "_thumb.webp"
)


def parts(url):
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    return unquote(split.path.removeprefix("/media/")), query


def test_round_trip():
    key, q = parts(media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1000.0))
    assert key == KEY
    media_urls.verify(secret=b"s", key=key, expires=q["exp"], signature=q["sig"], now=1000.0)


def test_expiry_is_rounded_so_urls_are_stable():
    a = media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1000.0)
    b = media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1100.0)
    assert a == b
    _, q = parts(a)
    assert int(q["exp"]) >= 1000 + 1800


@pytest.mark.parametrize(
    "tamper",
    [
        lambda k, q: (k.replace("thumbnails/4", "thumbnails/5"), q),
        lambda k, q: (k, {**q, "exp": str(int(q["exp"]) + 300)}),
        lambda k, q: (k, {**q, "sig": "0" * 64}),
        lambda k, q: (k, {**q, "dl": "other.jpg"}),
        lambda k, q: (k, {**q, "exp": "soon"}),
    ],
)
def test_tampered_urls_are_refused(tamper):
    key, q = parts(media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1000.0))
    key, q = tamper(key, q)
    with pytest.raises(media_urls.InvalidSignature):
        media_urls.verify(
            secret=b"s", key=key, expires=q["exp"], signature=q["sig"],
            download_name=q.get("dl", ""), now=1000.0,
        )


def test_other_secret_is_refused():
    key, q = parts(media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1000.0))
    with pytest.raises(media_urls.InvalidSignature):
        media_urls.verify(secret=b"t", key=key, expires=q["exp"], signature=q["sig"], now=1000.0)


def test_expired_url_is_refused():
    key, q = parts(media_urls.sign(secret=b"s", key=KEY, ttl_seconds=1800, now=1000.0))
    with pytest.raises(media_urls.InvalidSignature, match="expired"):
        media_urls.verify(
            secret=b"s", key=key, expires=q["exp"], signature=q["sig"], now=1000.0 + 3000
        )
