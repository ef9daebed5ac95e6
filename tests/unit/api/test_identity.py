import time
import uuid

import pytest
from sqlmodel import Session, SQLModel, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from imgstream import config, runtime
from imgstream.api import identity as api_identity
from imgstream.models import User
from imgstream.services import identity
from tests.iap import AUDIENCE, SigningKey


def echo_app() -> Starlette:
    async def echo(request: Request):
        return JSONResponse({
            "user": str(request.scope.get(api_identity.SCOPE_USER)),
            "user_header": request.headers.get("x-imgstream-user"),
            "token_header": request.headers.get("reflex-client-token"),
        })

    async def socket(ws):
        await ws.accept()
        await ws.send_json({"query": ws.scope["query_string"].decode(),
                            "user_header": ws.headers.get("x-imgstream-user")})
        await ws.close()

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"]),
                             WebSocketRoute("/_event/", socket)])


def clear_caches():
    config.get_settings.cache_clear()
    runtime.engine.cache_clear()
    runtime.storage.cache_clear()
    if hasattr(api_identity.iap_verifier, "cache_clear"):
        api_identity.iap_verifier.cache_clear()
    api_identity._recent_sign_ins.clear()


@pytest.fixture
def key():
    return SigningKey()


@pytest.fixture
def certs(key):
    class Certs:
        down = False
        fetches = 0

        def __call__(self, url):
            self.fetches += 1
            if self.down:
                raise identity.IdentityUnavailable("down")
            return key.certs()

    return Certs()


def configure(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("IMGSTREAM_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(f"IMGSTREAM_{name.upper()}", value)
    clear_caches()
    SQLModel.metadata.create_all(runtime.engine())


@pytest.fixture
def production(monkeypatch, tmp_path, certs):
    configure(monkeypatch, tmp_path, env="staging", secret="x" * 64,
              iap_audience=AUDIENCE, public_url="https://photos.example.com")
    verifier = identity.IapVerifier(audience=AUDIENCE, certs_url="https://certs.test",
                                    fetch=certs)
    monkeypatch.setattr(api_identity, "iap_verifier", lambda: verifier)
    yield TestClient(api_identity.request_identity(echo_app()))
    clear_caches()


@pytest.fixture
def development(monkeypatch, tmp_path):
    configure(monkeypatch, tmp_path)
    yield TestClient(api_identity.request_identity(echo_app()))
    clear_caches()


def users():
    with Session(runtime.engine()) as session:
        return session.exec(select(User)).all()


def test_no_assertion_is_401(production):
    response = production.get("/")
    assert response.status_code == 401
    assert users() == []


def test_valid_assertion_provisions_the_user_and_passes_identity_on(production, key):
    response = production.get("/", headers={"x-goog-iap-jwt-assertion": key.token()})
    assert response.status_code == 200
    [user] = users()
    assert user.email == "ada@example.com"
    assert user.last_login_at is not None
    assert response.json()["user"] == str(user.id)
    assert response.json()["user_header"] == str(user.id)
    production.get("/", headers={"x-goog-iap-jwt-assertion": key.token()})
    assert len(users()) == 1


@pytest.mark.parametrize("headers", [
    {"x-goog-authenticated-user-email": "accounts.google.com:victim@example.com"},
    {"x-imgstream-user": str(uuid.uuid4())},
    {"x-goog-iap-jwt-assertion": "garbage"},
])
def test_unsigned_identity_headers_are_ignored(production, headers):
    assert production.get("/", headers=headers).status_code == 401


def test_expired_assertion_is_401(production, key):
    token = key.token(iat=1_000_000, exp=1_000_600)
    assert production.get("/", headers={"x-goog-iap-jwt-assertion": token}).status_code == 401


def test_key_outage_is_503_never_a_pass(production, key, certs):
    certs.down = True
    response = production.get("/", headers={"x-goog-iap-jwt-assertion": key.token()})
    assert response.status_code == 503


@pytest.mark.parametrize("path", ["/ping", "/health", "/_health"])
def test_probes_need_no_sign_in(production, path):
    response = production.get(path, headers={"x-imgstream-user": str(uuid.uuid4())})
    assert response.status_code == 200
    assert response.json()["user_header"] is None, "a forged identity header is stripped"


def test_socket_handshake_needs_a_valid_assertion(production, key):
    with pytest.raises(WebSocketDisconnect):
        with production.websocket_connect("/_event/?token=abc"):
            pass
    with production.websocket_connect(
        "/_event/?EIO=4&transport=websocket&token=abc",
        headers={"x-goog-iap-jwt-assertion": key.token()},
    ) as ws:
        seen = ws.receive_json()
    [user] = users()
    assert f"token={user.id.hex}-abc" in seen["query"]
    assert seen["user_header"] == str(user.id)


def test_client_tokens_are_namespaced_by_user(production, key):
    """Someone presenting another person's Reflex token lands in a state of their own."""
    alice = production.post("/_upload", headers={
        "x-goog-iap-jwt-assertion": key.token(), "reflex-client-token": "shared"})
    bob = production.post("/_upload", headers={
        "x-goog-iap-jwt-assertion": key.token(sub="2", email="bob@example.com"),
        "reflex-client-token": "shared"})
    assert alice.json()["token_header"] != bob.json()["token_header"]
    assert alice.json()["token_header"].endswith("-shared")


FRONTEND = "http://localhost:3000"


@pytest.fixture
def sign_in_client(monkeypatch, tmp_path):
    configure(monkeypatch, tmp_path)
    from imgstream.api import http_api

    yield TestClient(api_identity.request_identity(http_api()))
    clear_caches()


def test_development_sign_in_route(sign_in_client):
    client = sign_in_client
    response = client.post("/auth/dev-sign-in", data={"email": "Dev@Example.com"},
                           headers={"origin": FRONTEND}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "http://localhost:3000/"
    cookie = response.cookies[api_identity.DEV_COOKIE]
    [user] = users()
    assert user.email == "dev@example.com"
    settings = config.get_settings()
    assert identity.verify_development_user(
        secret=settings.signing_key(), cookie=cookie,
        max_age_seconds=settings.dev_sign_in_max_age_seconds) == user.id
    bad = client.post("/auth/dev-sign-in", data={"email": "not an email"},
                      headers={"origin": FRONTEND}, follow_redirects=False)
    assert bad.headers["location"] == "http://localhost:3000/signin?error=email"


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "null"},
    {"origin": "http://localhost:3001"},
    {"sec-fetch-site": "cross-site"},
])
def test_a23_sign_in_from_another_site_is_refused(sign_in_client, headers):
    """A page elsewhere cannot sign the browser in as the attacker (login CSRF)."""
    response = sign_in_client.post("/auth/dev-sign-in", data={"email": "mallory@example.com"},
                                   headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert users() == []


def test_a23_sign_out_is_a_post_from_the_app_only(sign_in_client):
    client = sign_in_client
    signed_in = client.post("/auth/dev-sign-in", data={"email": "ada@example.com"},
                            headers={"origin": FRONTEND}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert client.get("/auth/dev-sign-out", follow_redirects=False).status_code == 405
    foreign = client.post("/auth/dev-sign-out", headers={"origin": "https://evil.example"},
                          follow_redirects=False)
    assert foreign.status_code == 403
    assert "set-cookie" not in foreign.headers
    response = client.post("/auth/dev-sign-out", headers={"origin": FRONTEND},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{FRONTEND}/signin"
    assert f'{api_identity.DEV_COOKIE}=""' in response.headers["set-cookie"]
    # A post without Origin (same site) still lands on the frontend's sign-in page, never on a
    # path of the backend.
    client.post("/auth/dev-sign-in", data={"email": "ada@example.com"},
                headers={"origin": FRONTEND}, follow_redirects=False)
    bare = client.post("/auth/dev-sign-out", headers={"sec-fetch-site": "same-site"},
                       follow_redirects=False)
    assert bare.status_code == 303
    assert bare.headers["location"] == f"{FRONTEND}/signin"


def test_a24_sign_in_remembers_the_addresses_of_this_browser_only(sign_in_client):
    client = sign_in_client
    for email in ("ada@example.com", "bob@example.com"):
        client.post("/auth/dev-sign-in", data={"email": email}, headers={"origin": FRONTEND},
                    follow_redirects=False)
    secret = config.get_settings().signing_key()
    known = client.cookies[identity.KNOWN_EMAILS_COOKIE]
    assert identity.verify_known_emails(secret=secret, cookie=known) == [
        "bob@example.com", "ada@example.com"]
    stranger = TestClient(client.app)
    stranger.post("/auth/dev-sign-in", data={"email": "eve@example.com"},
                  headers={"origin": FRONTEND}, follow_redirects=False)
    assert identity.verify_known_emails(
        secret=secret, cookie=stranger.cookies[identity.KNOWN_EMAILS_COOKIE]
    ) == ["eve@example.com"]


def test_a24_expired_development_cookie_signs_nobody_in(development):
    settings = config.get_settings()
    user_id = uuid.uuid4()
    old = identity.sign_development_user(
        secret=settings.signing_key(), user_id=user_id,
        issued_at=int(time.time()) - settings.dev_sign_in_max_age_seconds - 1)
    fresh = identity.sign_development_user(secret=settings.signing_key(), user_id=user_id)
    assert development.get("/", cookies={api_identity.DEV_COOKIE: old}).json()["user"] == "None"
    assert development.get("/", cookies={api_identity.DEV_COOKIE: fresh}).json()["user"] == str(
        user_id)


def test_a21_anonymous_client_cannot_take_over_a_signed_in_token(development):
    """Someone without the sign-in cookie presenting `{id}-{token}` gets a state of their own."""
    settings = config.get_settings()
    user_id = uuid.uuid4()
    cookie = identity.sign_development_user(secret=settings.signing_key(), user_id=user_id)
    owner = development.post("/_upload", headers={"reflex-client-token": "tab"},
                             cookies={api_identity.DEV_COOKIE: cookie})
    owner_token = owner.json()["token_header"]
    assert owner_token == f"{user_id.hex}-tab"
    development.cookies.clear()
    anonymous = development.post("/_upload", headers={"reflex-client-token": owner_token})
    assert anonymous.json()["token_header"] not in (owner_token, "tab")
    assert anonymous.json()["token_header"].startswith("anon-")
    with development.websocket_connect(
        f"/_event/?EIO=4&transport=websocket&token={owner_token}"
    ) as ws:
        seen = ws.receive_json()
    assert f"token=anon-{owner_token}" in seen["query"]
    assert seen["user_header"] is None


def test_a21_anonymous_browsers_with_remembered_addresses_are_apart(development):
    secret = config.get_settings().signing_key()
    known = identity.sign_known_emails(secret=secret, emails=["ada@example.com"])
    mine = development.post("/_upload", headers={"reflex-client-token": "tab"},
                            cookies={identity.KNOWN_EMAILS_COOKIE: known})
    development.cookies.clear()
    theirs = development.post("/_upload",
                              headers={"reflex-client-token": mine.json()["token_header"]})
    assert mine.json()["token_header"].startswith("anon")
    assert theirs.json()["token_header"] != mine.json()["token_header"]


def test_development_sign_in_route_is_gone_in_production(production):
    from imgstream.api import http_api

    client = TestClient(http_api())
    response = client.post("/auth/dev-sign-in", data={"email": "x@example.com"},
                           follow_redirects=False)
    assert response.status_code == 404
    assert "set-cookie" not in response.headers


def test_forged_development_cookie_is_ignored(development):
    forged = f"{uuid.uuid4()}.{'0' * 64}"
    response = development.get("/", cookies={api_identity.DEV_COOKIE: forged})
    assert response.json()["user"] == "None"


def test_an_api_key_request_behind_iap_still_needs_the_assertion(production, key):
    api_key = {"Authorization": f"Bearer isk_{uuid.uuid4().hex}_{'a' * 43}"}
    assert production.get("/api/v1/me", headers=api_key).status_code == 401
    response = production.get("/api/v1/me", headers={
        **api_key, "x-goog-iap-jwt-assertion": key.token()})
    assert response.status_code == 200
    # The key decides whom the request acts for: IAP's identity is neither passed on nor
    # provisioned.
    assert response.json()["user"] == "None" and response.json()["user_header"] is None
    assert users() == []


def test_the_api_answers_sign_in_refusals_as_problems(production, key, certs):
    api_key = {"Authorization": f"Bearer isk_{uuid.uuid4().hex}_{'a' * 43}"}
    for path, headers in [("/api/v1/me", api_key), ("/api/v1/photos", {}), ("/api/v1", {})]:
        refused = production.get(path, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
        problem = refused.json()
        assert (problem["status"], problem["title"]) == (401, "Unauthorized")
        assert "Proxy-Authorization" in problem["detail"]
    certs.down = True
    down = production.get("/api/v1/me", headers={
        **api_key, "x-goog-iap-jwt-assertion": key.token()})
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.headers["retry-after"] == "60"
    # Pages keep their plain answer.
    assert production.get("/").headers["content-type"].startswith("text/plain")


def test_a_media_request_with_a_photo_reading_key_acts_for_the_key_owner(development):
    from imgstream.services import api_keys

    with Session(runtime.engine(), expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="ada@example.com")
        reader = api_keys.create_key(session=session, owner=owner, scopes=["photos:read"])
        uploader = api_keys.create_key(session=session, owner=owner, scopes=["upload"])

    def media(token: str):
        return development.get("/media/photos/x.jpg",
                               headers={"Authorization": f"Bearer {token}"})

    answer = media(reader.token)
    assert answer.status_code == 200 and answer.json()["user"] == str(owner.id)
    assert media(uploader.token).status_code == 401
    assert media(f"isk_{uuid.uuid4().hex}_{'a' * 43}").status_code == 401
    # Elsewhere than the API and media, a key is no sign-in.
    assert development.get("/", headers={
        "Authorization": f"Bearer {reader.token}"}).json()["user"] == "None"
