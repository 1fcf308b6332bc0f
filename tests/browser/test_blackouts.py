"""The endpoint's blackout page in Chromium: an administrator lays a blackout over a booked briefing,
sees the affected meeting named, then finds the booking form refusing that time with the blackout
named; screenshots of the section."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from confbridge.auth.service import get_user
from confbridge.booking.service import create_meeting
from confbridge.booking.validation import MeetingInput
from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_blackout_section_in_chromium(page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
                                      frozen_clock: Any) -> None:
    with live_server.session_factory.begin() as s:
        actor = get_user(s, web_users["secretary"].username)
        create_meeting(s, live_server.settings, actor, MeetingInput(
            title="Giao ban <thứ Hai>", start=datetime(2026, 12, 7, 7, 30, tzinfo=HCM),
            end=datetime(2026, 12, 7, 9, 0, tzinfo=HCM), endpoint_ids=[1, 2], timezone="Asia/Ho_Chi_Minh"))
    login(page, live_server, web_users["admin"])
    page.goto(f"{live_server.url}/admin/endpoints/1/blackouts")
    page.js_errors.clear()
    expect(page.locator("#no-blackouts")).to_be_visible()
    page.locator("#blackout-start-date").fill("2026-12-07")
    page.locator("#blackout-start-time").fill("06:00")
    page.locator("#blackout-end-date").fill("2026-12-07")
    page.locator("#blackout-end-time").fill("12:00")
    page.locator("#blackout-reason").fill("Thay bộ mã hóa <codec>")
    page.get_by_role("button", name="Lưu lịch ngừng phục vụ").click()
    expect(page.locator(".flash-warning")).to_contain_text("Giao ban <thứ Hai> (07:30 07/12/2026)")
    expect(page.locator("#blackouts-table")).to_contain_text("Thay bộ mã hóa <codec>")
    expect(page.locator("#blackouts-table")).to_contain_text("06:00 07/12/2026")
    screenshot(page, "admin-endpoint-blackouts")
    # a wrong window is named at its field
    page.locator("#blackout-start-date").fill("2026-12-08")
    page.locator("#blackout-start-time").fill("12:00")
    page.locator("#blackout-end-date").fill("2026-12-08")
    page.locator("#blackout-end-time").fill("06:00")
    page.get_by_role("button", name="Lưu lịch ngừng phục vụ").click()
    expect(page.locator("#blackout-end-error")).to_contain_text("Giờ kết thúc phải sau giờ bắt đầu.")
    screenshot(page, "admin-endpoint-blackouts-error")
    # deleting it empties the list
    page.goto(f"{live_server.url}/admin/endpoints/1/blackouts")
    page.locator("#blackouts-table button").first.click()
    expect(page.locator("#no-blackouts")).to_be_visible()
    assert not page.js_errors, page.js_errors
