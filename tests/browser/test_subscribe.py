"""The subscribe page in Chromium: a technician finds "Đăng ký lịch" in the navigation, creates a feed
for an endpoint, copies its webcal:// link with the button (the clipboard holds it), the feed answers;
revoking it from the page makes the URL answer 404 at once.  Screenshot in test-artifacts/."""

from __future__ import annotations

from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser


def _status(url: str) -> int:
    try:
        with urlopen(url, timeout=10) as response:  # 127.0.0.1 only: the live server of this test
            return int(response.status)
    except HTTPError as exc:
        return exc.code


def test_technician_subscribes_copies_and_revokes(
    page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, live_server, web_users["technician"])
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Đăng ký lịch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng ký lịch")
    page.js_errors.clear()  # the console (the technician's home) has no live server in this test

    row = page.locator("#endpoint-feeds tbody tr").first
    endpoint_name = row.locator("td").first.inner_text()
    row.get_by_role("button", name="Tạo liên kết").click()
    expect(page.get_by_role("heading", name=f"Liên kết mới: {endpoint_name}")).to_be_visible()

    webcal = page.locator("#link-webcal").input_value()
    https = page.locator("#link-https").input_value()
    assert webcal.startswith("webcal://127.0.0.1:") and "/calendar/endpoints/" in webcal and "token=" in webcal
    assert https == "http://" + webcal.removeprefix("webcal://")
    page.get_by_role("button", name="Sao chép Liên kết cho ứng dụng lịch (webcal://)").click()
    expect(page.locator("#copy-status")).to_have_text("Đã sao chép liên kết.")
    assert page.evaluate("navigator.clipboard.readText()") == webcal
    screenshot(page, "subscribe-created")
    assert _status(https) == 200

    # The token is shown once: a fresh visit shows the feed as active, without its link.
    page.goto(live_server.url + "/subscribe")
    expect(page.locator("#link-https")).to_have_count(0)
    row = page.locator("#endpoint-feeds tbody tr").first
    row.get_by_role("button", name="Thu hồi").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã thu hồi liên kết")
    assert _status(https) == 404
    assert page.js_errors == []
