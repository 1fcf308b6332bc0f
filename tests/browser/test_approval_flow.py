"""Issue 14 in Chromium: a secretary books the provincial hall (it requires approval) with a colleague as
co-organiser; the meeting waits ("Chờ phê duyệt"); the approver signs in, lands on the approvals page,
is told at the field that a rejection needs a reason, then approves; the meeting page shows who approved.
Screenshots of each step."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge.auth.service import create_user
from confbridge.booking.models import Meeting
from confbridge.directory.models import Endpoint
from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser
HALL = "Hội trường UBND tỉnh"
APPROVER = WebUser("sotttt", "phe-duyet-lich-2026", "approver", "Sở TT&TT")


def test_booking_waits_for_approval_and_the_approver_decides(
    page: Any, chromium: Any, live_server: LiveServer, web_users: dict[str, WebUser],
) -> None:
    with live_server.session_factory.begin() as s:
        hall = s.scalars(select(Endpoint).where(Endpoint.name == HALL)).one()
        hall.requires_approval = True
        create_user(s, APPROVER.username, APPROVER.password, APPROVER.role, display_name=APPROVER.display_name,
                    email="sotttt@ubnd.kiengiang.example")

    login(page, live_server, web_users["secretary"])
    page.get_by_role("link", name="Đặt lịch", exact=True).click()
    page.get_by_label("Tên cuộc họp").fill("Hội nghị trực tuyến toàn tỉnh")
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("09/12/2026")
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("14:00")
    page.get_by_label(HALL).check()
    expect(page.get_by_label("Người chủ trì")).to_have_value("thuky")
    page.get_by_label("Đồng chủ trì", exact=True).select_option(["quantri"])
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator("#meeting-status")).to_have_text("Chờ phê duyệt")
    expect(page.locator("#approval-note")).to_contain_text("chỉ được khởi tạo sau khi được phê duyệt")
    expect(page.locator("#meeting-people")).to_contain_text("Đồng chủ trì: quantri")
    screenshot(page, "approval-01-pending-meeting")
    with live_server.session_factory() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.title == "Hội nghị trực tuyến toàn tỉnh")).one()
        meeting_id = meeting.id
    assert page.js_errors == []

    # The approver: a separate browser, straight to the approvals page after signing in.
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    try:
        approver = context.new_page()
        login(approver, live_server, APPROVER)
        expect(approver.get_by_role("heading", name="Phê duyệt lịch họp")).to_be_visible()
        card = approver.locator(f"#pending-{meeting_id}")
        expect(card).to_contain_text("Hội nghị trực tuyến toàn tỉnh")
        expect(card).to_contain_text(f"{HALL} (cần phê duyệt)")
        screenshot(approver, "approval-02-approvals-page")
        card.get_by_role("button", name="Từ chối").click()
        expect(approver.locator(f"#reason-{meeting_id}-error")).to_have_text("Nhập lý do từ chối.")
        expect(approver.locator(f"#reason-{meeting_id}")).to_have_attribute("aria-invalid", "true")
        screenshot(approver, "approval-03-reason-required")
        approver.locator(f"#pending-{meeting_id}").get_by_role("button", name="Phê duyệt").click()
        expect(approver.locator(".flash-success")).to_have_text(
            "Đã phê duyệt «Hội nghị trực tuyến toàn tỉnh»; giấy mời đã được gửi.")
        expect(approver.locator("#no-pending")).to_be_visible()
        approver.goto(f"{live_server.url}/meetings/{meeting_id}")
        expect(approver.locator("#meeting-status")).to_have_text("Đã lên lịch")
        expect(approver.locator("#approval-note")).to_have_text("Đã được Sở TT&TT phê duyệt.")
        expect(approver.get_by_role("link", name="Sửa toàn bộ lịch")).to_have_count(0)  # approvers do not edit
        screenshot(approver, "approval-04-approved-meeting")
    finally:
        context.close()
