import time
import uuid

import pytest

from imgstream.services import identity
from tests.iap import AUDIENCE, SigningKey, hs256_token, unsigned_token


class Certs:
    """A certs endpoint stand-in that counts fetches and can go down."""

    def __init__(self, *keys: SigningKey):
        self.keys = list(keys)
        self.fetches = 0
        self.down = False

    def __call__(self, url: str) -> bytes:
        self.fetches += 1
        if self.down:
            raise identity.IdentityUnavailable("certs endpoint down")
        body = {}
        for key in self.keys:
            body.update({key.kid: key.public_pem.decode()})
        import json

        return json.dumps(body).encode()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def key():
    return SigningKey()


@pytest.fixture
def certs(key):
    return Certs(key)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def verifier(certs, clock):
    return identity.IapVerifier(audience=AUDIENCE, certs_url="https://certs.test/iap",
                                fetch=certs, clock=clock)


def test_valid_assertion(verifier, key):
    who = verifier.verify(key.token())
    assert who == identity.VerifiedIdentity("accounts.google.com:1234", "ada@example.com")


def test_audience_list_in_either_form(certs, clock, key):
    verifier = identity.IapVerifier(
        audience=f"/projects/123456/apps/my-project, {AUDIENCE}",
        certs_url="https://certs.test/iap", fetch=certs, clock=clock,
    )
    assert verifier.verify(key.token(aud="/projects/123456/apps/my-project"))
    assert verifier.verify(key.token())


def test_keys_are_cached(verifier, key, certs):
    for _ in range(5):
        verifier.verify(key.token())
    assert certs.fetches == 1


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": -120, "iat": -800}, "expired"),
        ({"iat": 300, "exp": 900}, "future iat"),
        ({"aud": "/projects/1/global/backendServices/2"}, "wrong audience"),
        ({"iss": "https://accounts.google.com"}, "wrong issuer"),
        ({"exp": None}, "missing exp"),
        ({"iat": None}, "missing iat"),
        ({"sub": None}, "missing sub"),
        ({"email": None}, "missing email"),
    ],
)
def test_bad_claims_are_refused(verifier, key, claims, why):
    # Times are seconds from now, taken when the test runs (not when it was collected).
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "iat") and v is not None else v
              for k, v in claims.items()}
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(key.token(**claims))


@pytest.mark.parametrize("skew", [-25, 25])
def test_clock_skew_within_30_seconds_is_accepted(verifier, key, skew):
    now = int(time.time())
    if skew < 0:
        # expired 25 s ago
        assert verifier.verify(key.token(iat=now - 600, exp=now + skew))
    else:
        # issued 25 s in the future
        assert verifier.verify(key.token(iat=now + skew, exp=now + 600))


@pytest.mark.parametrize("skew", [-40, 40])
def test_clock_skew_beyond_30_seconds_is_refused(verifier, key, skew):
    now = int(time.time())
    token = (key.token(iat=now - 600, exp=now + skew) if skew < 0
             else key.token(iat=now + skew, exp=now + 600))
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(token)


def claims_now():
    now = int(time.time())
    return {"iss": "https://cloud.google.com/iap", "aud": AUDIENCE, "sub": "x",
            "email": "eve@example.com", "iat": now, "exp": now + 600}


def test_alg_none(verifier):
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(unsigned_token({"alg": "none", "kid": "test-kid-1"}, claims_now()))


def test_hs256_signed_with_the_public_key(verifier, key):
    token = hs256_token(key.public_pem, {"alg": "HS256", "kid": key.kid, "typ": "JWT"},
                        claims_now())
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(token)


def test_rs256_header_with_the_ec_key(verifier, key):
    signature = key.token().split(".")[2]
    token = unsigned_token({"alg": "RS256", "kid": key.kid}, claims_now()).rsplit(".", 1)[0]
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(token + "." + signature)


def test_foreign_key_with_the_same_kid(verifier, key):
    impostor = SigningKey(kid=key.kid)
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(impostor.token())


def test_tampered_payload(verifier, key):
    head, _, signature = key.token().split(".")
    forged = unsigned_token({"alg": "ES256", "kid": key.kid},
                            {**claims_now(), "email": "admin@example.com"})
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(head + "." + forged.split(".")[1] + "." + signature)


def test_unknown_kid_refetches_once_then_refuses(verifier, certs, clock):
    stranger = SigningKey(kid="rotated-away")
    with pytest.raises(identity.InvalidIdentity, match="unknown key"):
        verifier.verify(stranger.token())
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(stranger.token())
    assert certs.fetches == 1, "a second unknown kid within the interval does not refetch"


def test_key_rotation_is_picked_up(verifier, certs, clock, key):
    verifier.verify(key.token())
    new_key = SigningKey(kid="test-kid-2")
    certs.keys.append(new_key)
    clock.now += 31
    assert verifier.verify(new_key.token())
    assert certs.fetches == 2


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c.d", "....", "eyJhbGciOi.x.y"])
def test_garbage(verifier, garbage):
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(garbage)


def test_certs_endpoint_down_fails_closed(certs, clock, key):
    certs.down = True
    verifier = identity.IapVerifier(audience=AUDIENCE, certs_url="x", fetch=certs, clock=clock)
    with pytest.raises(identity.IdentityUnavailable):
        verifier.verify(key.token())


def test_outage_after_keys_were_fetched_keeps_using_them(verifier, certs, clock, key):
    verifier.verify(key.token())
    certs.down = True
    clock.now += 100
    assert verifier.verify(key.token())
    with pytest.raises(identity.InvalidIdentity):
        verifier.verify(SigningKey(kid="other").token())


def test_real_http_certs_fetch_failure_is_unavailable():
    verifier = identity.IapVerifier(audience=AUDIENCE, certs_url="http://127.0.0.1:9/certs")
    with pytest.raises(identity.IdentityUnavailable):
        verifier.verify(SigningKey().token())


DAY = 24 * 3600


def test_development_cookie_round_trip():
    user_id = uuid.uuid4()
    cookie = identity.sign_development_user(secret=b"s", user_id=user_id)
    assert identity.verify_development_user(secret=b"s", cookie=cookie,
                                            max_age_seconds=DAY) == user_id
    assert identity.verify_development_user(secret=b"t", cookie=cookie,
                                            max_age_seconds=DAY) is None
    forged = f"{uuid.uuid4()}.{cookie.partition('.')[2]}"
    assert identity.verify_development_user(secret=b"s", cookie=forged,
                                            max_age_seconds=DAY) is None
    assert identity.verify_development_user(secret=b"s", cookie="garbage",
                                            max_age_seconds=DAY) is None


def test_a24_development_cookie_expires_after_its_maximum_age():
    user_id = uuid.uuid4()
    issued = 1_800_000_000
    cookie = identity.sign_development_user(secret=b"s", user_id=user_id, issued_at=issued)
    assert cookie.split(".")[1] == str(issued), "the issue time is inside the signed value"

    def verify(now, value=cookie):
        return identity.verify_development_user(secret=b"s", cookie=value,
                                                max_age_seconds=DAY, now=now)

    assert verify(issued + DAY) == user_id
    assert verify(issued + DAY + 1) is None
    assert verify(issued - 3600) is None, "a cookie from the future is refused"
    younger = cookie.replace(str(issued), str(issued + DAY), 1)
    assert verify(issued + DAY + 1, younger) is None, "the issue time cannot be moved"


@pytest.mark.parametrize("spelling", [
    lambda u: str(u).upper(),
    lambda u: u.hex,
    lambda u: "{" + str(u) + "}",
    lambda u: "urn:uuid:" + str(u),
])
def test_a24_development_cookie_accepts_only_the_canonical_user_id(spelling):
    user_id = uuid.uuid4()
    issued = int(time.time())
    secret = b"s"
    value = f"{spelling(user_id)}.{issued}"
    # A cookie signed over another spelling of the id (as an old signer could have made).
    mac = identity._mac(secret, "dev-sign-in", value)
    assert identity.verify_development_user(secret=secret, cookie=f"{value}.{mac}",
                                            max_age_seconds=DAY) is None
    canonical = f"{user_id}.{issued}"
    mac = identity._mac(secret, "dev-sign-in", canonical)
    assert identity.verify_development_user(secret=secret, cookie=f"{canonical}.{mac}",
                                            max_age_seconds=DAY) == user_id


@pytest.mark.parametrize("issued", ["0017", "+17", "١٧", "17 "])
def test_a24_development_cookie_accepts_only_canonical_time(issued):
    user_id = uuid.uuid4()
    value = f"{user_id}.{issued}"
    mac = identity._mac(b"s", "dev-sign-in", value)
    assert identity.verify_development_user(secret=b"s", cookie=f"{value}.{mac}",
                                            max_age_seconds=10**12, now=20) is None


def test_a24_known_emails_cookie_round_trip_and_forgery():
    cookie = identity.sign_known_emails(secret=b"s", emails=["b@x.com", "a@x.com"])
    assert identity.verify_known_emails(secret=b"s", cookie=cookie) == ["b@x.com", "a@x.com"]
    assert identity.verify_known_emails(secret=b"t", cookie=cookie) == []
    payload, _, mac = cookie.partition(".")
    other = identity.sign_known_emails(secret=b"s", emails=["victim@x.com"]).partition(".")[0]
    assert identity.verify_known_emails(secret=b"s", cookie=f"{other}.{mac}") == []
    assert identity.verify_known_emails(secret=b"s", cookie="") == []
    assert identity.verify_known_emails(secret=b"s", cookie="!!!.xyz") == []


def test_a24_remembered_emails_are_most_recent_first_and_bounded():
    emails: list[str] = []
    for n in range(identity.MAX_KNOWN_EMAILS + 5):
        emails = identity.remember_email(emails, f"p{n}@x.com")
    emails = identity.remember_email(emails, "p7@x.com")
    assert emails[0] == "p7@x.com"
    assert len(emails) == identity.MAX_KNOWN_EMAILS
    assert emails.count("p7@x.com") == 1


def test_a21_state_namespaces_keep_people_and_anonymous_browsers_apart():
    alice = uuid.uuid4()
    alice_token = identity.namespaced_token(
        identity.state_namespace(secret=b"s", user_id=alice), "tab")
    assert alice_token == f"{alice.hex}-tab"
    anonymous = identity.state_namespace(secret=b"s", user_id=None)
    assert identity.namespaced_token(anonymous, alice_token) == f"anon-{alice.hex}-tab"
    assert identity.namespaced_token(anonymous, "anon-tab") == "anon-tab"
    browser = identity.state_namespace(secret=b"s", user_id=None, browser_key="cookie")
    assert browser.startswith("anon") and "-" not in browser and browser != anonymous
    assert identity.namespaced_token(anonymous, f"{browser}-tab") != f"{browser}-tab"
    bob = identity.state_namespace(secret=b"s", user_id=uuid.uuid4())
    assert identity.namespaced_token(bob, alice_token) != alice_token
