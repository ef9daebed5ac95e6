"""The settings page: who you are, storage used, preferences that stick."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import open_library

pytestmark = pytest.mark.e2e


def test_settings_show_usage_and_keep_preferences(page, tmp_path):
    open_library(page, "carol@example.com")
    photo = tmp_path / "carol.jpg"
    photo.write_bytes(images.jpeg(size=(500, 400), color=(90, 20, 160)))
    page.get_by_test_id("upload-input").set_input_files(str(photo))
    expect(page.get_by_test_id("upload-item")).to_contain_text("added", timeout=60_000)

    page.get_by_test_id("current-user").click()
    page.get_by_role("menuitem", name="Settings").click()
    expect(page.get_by_test_id("settings-email")).to_have_text("carol@example.com",
                                                               timeout=30_000)
    expect(page.get_by_test_id("settings-photo-count")).to_have_text("1")
    expect(page.get_by_test_id("settings-storage")).to_contain_text("KB of 1.1 GB used")

    # This app's default page size (2) is not one of those offered: it is shown all the same.
    expect(page.get_by_test_id("settings-page-size")).to_have_text("2")
    page.get_by_test_id("settings-theme").get_by_role("radio", name="Dark").click()
    page.get_by_test_id("settings-page-size").click()
    page.get_by_role("option", name="120").click()
    expect(page.get_by_test_id("settings-page-size")).to_have_text("120")

    page.reload()
    expect(page.get_by_test_id("settings-page-size")).to_have_text("120", timeout=30_000)
    dark = page.get_by_test_id("settings-theme").get_by_role("radio", name="Dark")
    expect(dark).to_have_attribute("data-state", "on")
    assert page.locator(".radix-themes.dark").count() >= 1
