"""Issue 14 point 5 in Chromium: the booking form warns of a one-off on a public holiday and names the
holidays a weekly series will skip (Tết 2027); the week calendar and the availability grid mark the
holiday; the pages pass the WCAG audit; screenshots are saved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import services
from tests.browser.conftest import LiveServer, WebUser, login, screenshot
from tests.browser.test_accessibility import AXE, _audit

pytestmark = pytest.mark.browser


def _fill(page: Any, title: str, day: str) -> None:
    page.get_by_label("Tên cuộc họp").fill(title)
    page.get_by_label("Ngày (dd/mm/yyyy)").fill(day)
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("07:30")
    page.get_by_label("Thời lượng", exact=True).select_option(label="1 giờ")
    page.get_by_label("UBND huyện Phú Quốc").check()


@pytest.fixture
def audited_page(chromium: Any) -> Iterator[Any]:
    """A page whose CSP lets the audit's own script in (as in test_accessibility); script errors kept."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


def test_the_form_warns_of_holidays_and_the_calendar_marks_them(
    audited_page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
) -> None:
    if not AXE.exists():
        services.unavailable(f"axe-core is not installed ({AXE}: npm ci)")
    page = audited_page
    login(page, live_server, web_users["secretary"])
    page.goto(live_server.url + "/bookings/new")
    _fill(page, "Trực ban ngày 30/4", "30/04/2027")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    warning = page.locator("#holiday-warnings")
    expect(warning).to_contain_text("Ngày 30/04/2027 là ngày nghỉ lễ (Ngày Chiến thắng")
    screenshot(page, "holiday-01-one-off-warning")
    # Saving is allowed: a one-off on a holiday is a choice, not an error.
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator(".flash-success")).to_contain_text("Trực ban ngày 30/4")

    # A weekly Monday briefing across Tết: the third day of Tết (08/02/2027) is named as skipped.
    page.goto(live_server.url + "/bookings/new")
    _fill(page, "Giao ban tuần", "01/02/2027")
    page.get_by_label("Hằng tuần").check()
    page.get_by_label("Thứ Hai").check()
    page.get_by_label("Số buổi", exact=True).fill("3")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    expect(page.locator("#holiday-warnings")).to_contain_text(
        "Buổi ngày 08/02/2027 (Mùng ba Tết Nguyên Đán) rơi vào ngày nghỉ lễ và sẽ được bỏ qua.")
    expect(page.locator("#preview-list li")).to_have_count(2)  # COUNT counts the skipped Monday (RFC 5545)
    expect(page.locator("#preview-list")).not_to_contain_text("08/02/2027")
    screenshot(page, "holiday-02-series-skips-tet")
    assert _audit(page, "booking-form-holiday") == []
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator(".flash-success")).to_contain_text("Giao ban tuần")

    page.goto(live_server.url + "/calendar?date=2027-02-08")
    tet = page.locator(".day-col.holiday")
    expect(tet).to_have_count(3)  # Monday to Wednesday 08–10/02/2027: the third to fifth day of Tết
    expect(tet.first).to_contain_text("Ngày lễ: Mùng ba Tết Nguyên Đán")
    expect(tet.first.locator(".event")).to_have_count(0)  # the briefing skipped it
    screenshot(page, "holiday-03-week-of-tet")
    assert _audit(page, "calendar-tet") == []
    page.goto(live_server.url + "/availability?date=2027-04-30")
    expect(page.locator("#holiday-note")).to_contain_text("Ngày lễ: Ngày Chiến thắng")
    screenshot(page, "holiday-04-availability")
    assert _audit(page, "availability-holiday") == []
    assert page.js_errors == []
