"""The production build in a browser: security headers, its CSP, origins, sign-in and sessions."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import sqlite3
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e

EVIL = "https://evil.example"
SIGN_IN_PAGE = re.compile(r".*/signin/?$")
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def answer(url: str, method: str = "GET", headers: dict[str, str] | None = None,
           body: bytes | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}


def handshake(app_url: str, origin: str | None) -> int:
    """The status of a WebSocket handshake to the app's socket from this Origin."""
    parts = urlsplit(app_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    if origin is not None:
        headers["Origin"] = origin
    try:
        connection.request("GET", "/_event/?EIO=4&transport=websocket&token=probe",
                           headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/", "/signin", "/health", "/api/v1/uploads",
                                  "/media/photos/x.jpg?exp=1&sig=0"])
def test_a23_pages_api_media_and_probes_carry_security_headers(app, path):
    method = "POST" if path == "/api/v1/uploads" else "GET"
    _, headers = answer(app.url + path, method=method, body=b"{}" if method == "POST" else None,
                        headers={"origin": app.url})
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), headers
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("origin", [EVIL, "null", "http://localhost:1"])
def test_a22_socket_handshake_from_another_origin_is_403(app, origin):
    assert handshake(app.url, origin) == 403
    assert handshake(app.url, app.url) == 101


def test_a22_cors_preflight_does_not_echo_a_foreign_origin(app):
    ask = {"access-control-request-method": "POST",
           "access-control-request-headers": "content-type,reflex-client-token"}
    _, foreign = answer(f"{app.url}/api/v1/uploads", method="OPTIONS",
                        headers={"origin": EVIL, **ask})
    assert "access-control-allow-origin" not in foreign
    status, own = answer(f"{app.url}/api/v1/uploads", method="OPTIONS",
                         headers={"origin": app.url, **ask})
    assert status == 200
    assert own["access-control-allow-origin"] == app.url


def test_a23_sign_in_and_out_from_another_site_are_refused(app):
    form = b"email=mallory%40example.com"
    status, headers = answer(f"{app.url}/auth/dev-sign-in", method="POST", body=form,
                             headers={"origin": EVIL,
                                      "content-type": "application/x-www-form-urlencoded"})
    assert status == 403
    assert "set-cookie" not in headers
    assert answer(f"{app.url}/auth/dev-sign-out", method="POST",
                  headers={"origin": EVIL})[0] == 403
    status, headers = answer(f"{app.url}/auth/dev-sign-out")
    assert status in (404, 405), "a link cannot sign anyone out"
    assert "set-cookie" not in headers


def test_a23_the_app_works_under_its_policy(browser, app, tmp_path):
    """Sign in, upload, see thumbnails and the photo, sign out: no CSP violation on the way."""
    context = browser.new_context(base_url=app.url)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        open_library(page, "csp@example.com")
        photo = tmp_path / "harbour.jpg"
        photo.write_bytes(images.jpeg(size=(320, 240), color=(20, 120, 200)))
        page.get_by_test_id("upload-input").set_input_files(str(photo))
        expect(page.get_by_test_id("upload-item").filter(has_text="harbour.jpg")).to_contain_text(
            "added", timeout=60_000)
        card = page.locator("[data-testid=photo-card][title='harbour.jpg']")
        expect(card.locator("img")).to_have_js_property("complete", True, timeout=30_000)
        assert card.locator("img").evaluate("img => img.naturalWidth") > 0
        card.click()
        expect(page.get_by_test_id("download-original")).to_be_visible(timeout=30_000)
        page.goto("/")
        page.get_by_test_id("current-user").click()
        page.get_by_test_id("sign-out").click()
        page.wait_for_url(SIGN_IN_PAGE, timeout=30_000)
        expect(page.get_by_test_id("dev-signin-email")).to_be_visible(timeout=30_000)
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], violations
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()


def test_a24_the_sign_in_page_lists_only_this_browsers_addresses(browser, app):
    mine = browser.new_context(base_url=app.url)
    stranger = browser.new_context(base_url=app.url)
    try:
        page = mine.new_page()
        open_library(page, "first@example.com")
        page.get_by_test_id("current-user").click()
        page.get_by_test_id("sign-out").click()
        page.wait_for_url(SIGN_IN_PAGE, timeout=30_000)
        expect(page.get_by_role("button", name="first@example.com")).to_be_visible(
            timeout=30_000)

        other = stranger.new_page()
        other.goto("/signin")
        expect(other.get_by_test_id("dev-signin-email")).to_be_visible(timeout=60_000)
        other.wait_for_function(
            "() => document.querySelector('[data-testid=dev-signin-email]')?.value",
            timeout=60_000)
        expect(other.get_by_role("button", name="first@example.com")).to_have_count(0)
        expect(other.get_by_text("Or continue as")).to_have_count(0)
    finally:
        mine.close()
        stranger.close()


def test_a21_an_anonymous_client_with_a_closed_tabs_token_gets_an_empty_state(browser, app):
    owner = browser.new_context(base_url=app.url)
    attacker = browser.new_context(base_url=app.url)
    try:
        page = owner.new_page()
        open_library(page, "victim@example.com")
        tab_token = page.evaluate("window.sessionStorage.getItem('token')")
        page.close()
        with sqlite3.connect(app.data_dir / "imgstream.db") as db:
            [(raw_id,)] = db.execute("SELECT id FROM user WHERE email = 'victim@example.com'")
        user_hex = raw_id.replace("-", "")
        # What the server keeps the victim's state under, as a log line would show it.
        stolen = f"{user_hex}-{tab_token}"
        attacker.add_init_script(f"window.sessionStorage.setItem('token', {json.dumps(stolen)})")
        received: list[str] = []
        spy = attacker.new_page()
        spy.on("websocket", lambda ws: ws.on("framereceived",
                                              lambda frame: received.append(str(frame))))
        spy.goto("/")
        expect(spy.get_by_test_id("dev-signin-email")).to_be_visible(timeout=60_000)
        spy.wait_for_function(
            "() => document.querySelector('[data-testid=dev-signin-email]')?.value",
            timeout=60_000)
        assert received, "the page talked to the backend over its socket"
        assert not [frame for frame in received if "victim@example.com" in frame]
    finally:
        owner.close()
        attacker.close()
