"""In Chromium: an administrator makes an endpoint group; a secretary adds it to the booking form in one
click, saves the form as a template, and books the next briefing from the template by choosing only the
date.  Screenshots of the group page, the form with the group picked and the form from a template."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge.booking.models import Meeting
from confbridge.booking.templates import MeetingTemplate
from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser

DISTRICTS = ("UBND thị xã Hà Tiên", "UBND huyện Phú Quốc", "UBND huyện Kiên Lương", "UBND huyện Hòn Đất")


def test_group_in_one_click_save_as_template_and_book_from_it(
    page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
) -> None:
    # The administrator makes the group on its page.
    login(page, live_server, web_users["admin"])
    page.goto(live_server.url + "/admin/groups/")
    page.get_by_role("link", name="+ Thêm nhóm").click()
    page.get_by_label("Tên nhóm").fill("Giao ban các huyện")
    for name in DISTRICTS:
        page.get_by_label(name).check()
    screenshot(page, "groups-01-admin-form")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_have_text("Đã lưu nhóm điểm cầu “Giao ban các huyện”.")
    expect(page.locator("#groups-table")).to_contain_text("Giao ban các huyện")
    screenshot(page, "groups-02-admin-list")
    page.get_by_role("button", name="Đăng xuất").click()

    # The secretary picks the group in one click: its four endpoints join the one she ticked.
    login(page, live_server, web_users["secretary"])
    page.goto(live_server.url + "/bookings/new")
    page.get_by_label("Tên cuộc họp").fill("Giao ban tuần các huyện")
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("07/12/2026")
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("07:30")
    page.get_by_label("Thời lượng", exact=True).select_option(label="2 giờ")
    page.get_by_label("Hằng tuần").check()
    page.get_by_label("Thứ Hai").check()
    page.get_by_label("Số buổi", exact=True).fill("4")
    page.get_by_label("Hội trường UBND tỉnh").check()
    page.get_by_role("button", name="+ Giao ban các huyện (4)").click()
    expect(page.locator("#selected-count")).to_have_text("Đã chọn 5 điểm cầu")
    for name in DISTRICTS:
        expect(page.get_by_label(name)).to_be_checked()
    assert page.url.endswith("/bookings/new")  # no round trip: the page ticked them itself
    page.get_by_label("Điểm cầu chính (chủ trì)").select_option(label="Hội trường UBND tỉnh")
    expect(page.locator("#no-conflicts")).to_be_visible()
    screenshot(page, "groups-03-booking-form-group-picked")

    # Save the form as a template.
    page.locator("#save-template summary").click()
    page.get_by_label("Tên mẫu").fill("Giao ban thứ Hai")
    page.get_by_role("button", name="Lưu thành mẫu").click()
    expect(page.locator(".flash-success")).to_have_text("Đã lưu mẫu lịch họp “Giao ban thứ Hai”.")
    with live_server.session_factory() as s:
        template = s.scalar(select(MeetingTemplate).where(MeetingTemplate.name == "Giao ban thứ Hai"))
        assert template is not None and len(template.endpoint_ids) == 5 and template.duration_minutes == 120

    # Next time: start from the template, choose the date, save.
    page.goto(live_server.url + "/bookings/new")
    page.get_by_role("combobox", name="Bắt đầu từ mẫu").select_option(label="Giao ban thứ Hai")
    page.get_by_role("button", name="Dùng mẫu").click()
    expect(page.get_by_label("Tên cuộc họp")).to_have_value("Giao ban tuần các huyện")
    expect(page.locator("#selected-count")).to_have_text("Đã chọn 5 điểm cầu")
    expect(page.get_by_label("Hằng tuần")).to_be_checked()
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("08/01/2027")
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("07:30")
    page.get_by_label("Thứ Hai").uncheck()
    page.get_by_label("Thứ Sáu").check()
    screenshot(page, "groups-04-booking-form-from-template")
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator(".flash-success")).to_have_text("Đã lưu lịch “Giao ban tuần các huyện” (4 buổi).")
    expect(page.get_by_role("heading", name="Điểm cầu (5)")).to_be_visible()
    with live_server.session_factory() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.title == "Giao ban tuần các huyện"))
        assert meeting is not None and meeting.duration.total_seconds() == 7200
        assert sorted(e.name for e in meeting.endpoints) == sorted([*DISTRICTS, "Hội trường UBND tỉnh"])

    # Her templates page lists it; deleting it leaves the meeting as booked.
    page.goto(live_server.url + "/templates/")
    expect(page.locator("#templates-table")).to_contain_text("Giao ban thứ Hai")
    screenshot(page, "groups-05-templates-page")
    page.get_by_role("button", name="Xóa Giao ban thứ Hai").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã xóa mẫu “Giao ban thứ Hai”")
    assert page.js_errors == []
