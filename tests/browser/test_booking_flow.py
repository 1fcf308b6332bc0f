"""A secretary who has never seen the app books a weekly briefing across 15 endpoints, sees and avoids
a conflict, finds the meeting in the week view and cancels one occurrence — in Vietnamese, in Chromium.
A technician is refused the booking form.  Screenshots of every main page are saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confbridge.booking.models import Meeting, Occurrence
from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser

DISTRICTS = (
    "UBND thị xã Hà Tiên",
    "UBND huyện Phú Quốc",
    "UBND huyện Kiên Lương",
    "UBND huyện Hòn Đất",
    "UBND huyện Tân Hiệp",
    "UBND huyện Châu Thành",
    "UBND huyện Giồng Riềng",
    "UBND huyện Gò Quao",
    "UBND huyện An Biên",
)


def _book_weekly_briefing(page: Any, server: LiveServer) -> None:
    page.get_by_role("link", name="Đặt lịch", exact=True).click()
    expect(page.get_by_role("heading", name="Đặt lịch họp")).to_be_visible()
    page.get_by_label("Tên cuộc họp").fill("Giao ban tuần UBND tỉnh")
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("07/12/2026")
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("07:30")
    page.get_by_label("Thời lượng", exact=True).select_option(label="1 giờ 30 phút")
    page.get_by_label("Hằng tuần").check()
    page.get_by_label("Thứ Hai").check()
    page.get_by_label("Số buổi", exact=True).fill("10")
    # The whole provincial centre (6 endpoints), then nine districts one by one: 15 endpoints.
    centre = page.locator(".site-group", has=page.get_by_role("heading", name="TP Rạch Giá"))
    centre.get_by_role("button", name="Chọn cả cụm").click()
    for name in DISTRICTS:
        page.get_by_label(name).check()
    expect(page.locator("#selected-count")).to_have_text("Đã chọn 15 điểm cầu")
    page.get_by_label("Điểm cầu chính (chủ trì)").select_option(label="Hội trường UBND tỉnh")
    page.get_by_label("Địa chỉ e-mail").fill(
        "Nguyễn Văn An <an.nv@kiengiang.example>\nle.thi.binh@kiengiang.example"
    )
    # The live check runs as the form fills in; the button gives the same answer without JavaScript.
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    expect(page.locator("#no-conflicts")).to_have_text("Không trùng lịch: tất cả điểm cầu đều trống.")
    expect(page.locator("#preview-list li").first).to_have_text("Thứ Hai, 07/12/2026 07:30")
    expect(page.locator("#repeat-summary")).to_have_text("Hằng tuần vào Thứ Hai lúc 07:30, 10 buổi")
    screenshot(page, "02-booking-form-checked")
    page.get_by_role("button", name="Lưu lịch họp").click()
    # The rule's 10 Mondays but the third day of Tết (08/02/2027), skipped as a public holiday.
    expect(page.locator(".flash-success")).to_have_text("Đã lưu lịch “Giao ban tuần UBND tỉnh” (9 buổi).")
    expect(page.get_by_role("heading", name="Điểm cầu (15)")).to_be_visible()
    screenshot(page, "03-meeting-page")


def test_secretary_books_avoids_a_conflict_and_cancels_one_occurrence(
    page: Any,
    live_server: LiveServer,
    web_users: dict[str, WebUser],
) -> None:
    secretary = web_users["secretary"]
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "vi"
    screenshot(page, "01-sign-in")
    login(page, live_server, secretary)
    expect(page.locator(".user-name")).to_contain_text("Nguyễn Thị Thu Hà")

    _book_weekly_briefing(page, live_server)

    # A second booking overlapping the briefing on Phú Quốc: the warning comes while typing.
    page.get_by_role("link", name="Đặt lịch", exact=True).click()
    page.get_by_label("Tên cuộc họp").fill("Họp khẩn phòng chống bão số 5")
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("07/12/2026")
    page.get_by_label("Giờ bắt đầu (24 giờ)").fill("08:00")
    page.get_by_label("Thời lượng", exact=True).select_option(label="1 giờ")
    page.get_by_label("UBND huyện Phú Quốc").check()
    page.get_by_label("UBND huyện Kiên Hải").check()
    expect(
        page.locator("[data-avail]").filter(has_text="Bận: Giao ban tuần UBND tỉnh 07:15–09:00").first
    ).to_be_visible()
    conflicts = page.locator("#conflicts")
    expect(conflicts).to_contain_text(
        "UBND huyện Phú Quốc đã có lịch 07:15–09:00 ngày 07/12/2026 (Thứ Hai) của cuộc họp "
        "“Giao ban tuần UBND tỉnh”"
    )
    expect(page.locator("#proposal")).to_contain_text("07/12/2026 09:15")
    screenshot(page, "04-conflict-warning")
    # Saving anyway is refused with the same words; then the proposed slot is taken.
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator("#conflicts")).to_contain_text("UBND huyện Phú Quốc đã có lịch 07:15–09:00")
    page.get_by_role("button", name="Dùng giờ này").click()
    expect(page.get_by_label("Giờ bắt đầu (24 giờ)")).to_have_value("09:15")
    expect(page.locator("#no-conflicts")).to_be_visible()
    page.get_by_role("button", name="Lưu lịch họp").click()
    expect(page.locator(".flash-success")).to_contain_text("Họp khẩn phòng chống bão số 5")

    # The week view of 07/12 shows both meetings on Monday.
    page.get_by_role("link", name="Lịch", exact=True).click()
    expect(page.locator(".day-col.today")).to_contain_text("30/11/2026 · Hôm nay")
    page.get_by_role("link", name="Tuần sau →").click()
    expect(page.get_by_role("heading", name=re.compile("Lịch tuần 50"))).to_be_visible()
    monday = page.locator(".day-col").first
    expect(monday.locator(".event")).to_have_count(2)
    expect(monday).to_contain_text("07:30–09:00")
    expect(monday).to_contain_text("Giao ban tuần UBND tỉnh")
    expect(monday).to_contain_text("09:15–10:15")
    screenshot(page, "05-week-view")
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "05b-week-view-wall-display", full_page=False)
    page.set_viewport_size({"width": 1366, "height": 768})

    page.get_by_role("link", name="Tình trạng điểm cầu").click()
    page.get_by_label("Ngày (dd/mm/yyyy)").fill("07/12/2026")
    page.get_by_role("button", name="Xem").click()
    phu_quoc_row = page.locator("tr", has=page.get_by_role("rowheader", name="UBND huyện Phú Quốc"))
    expect(phu_quoc_row.locator("td.busy")).to_have_count(2)
    expect(phu_quoc_row.locator("td.setup")).to_have_count(2)  # 07:15–07:30 and 09:00–09:15
    screenshot(page, "06-availability-grid")

    # Cancel the briefing of 14/12 only, from the meeting page.
    page.get_by_role("link", name="Lịch", exact=True).click()
    page.get_by_role("link", name="Tuần sau →").click()
    page.locator(".event", has_text="Giao ban tuần UBND tỉnh").click()
    row = page.locator("#occurrences tr", has_text="14/12/2026")
    row.get_by_role("link", name=re.compile("Hủy buổi này")).click()
    expect(page.get_by_role("heading", name="Hủy buổi họp ngày 14/12/2026?")).to_be_visible()
    notify = page.locator("#notify-list")
    expect(notify).to_contain_text("Những người sau sẽ nhận thư báo hủy (2 người):")
    expect(notify).to_contain_text("Nguyễn Văn An — an.nv@kiengiang.example")
    screenshot(page, "07-cancel-confirmation")
    page.get_by_role("button", name="Xác nhận hủy").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã hủy buổi họp ngày 14/12/2026")
    expect(page.locator("#occurrences tr", has_text="14/12/2026")).to_contain_text("Đã hủy")
    expect(page.locator("#occurrences tr", has_text="21/12/2026")).to_contain_text("Đã lên lịch")
    screenshot(page, "08-meeting-after-cancel")
    assert page.js_errors == []

    with live_server.session_factory() as s:
        briefing = s.query(Meeting).filter_by(title="Giao ban tuần UBND tỉnh").one()
        assert len(briefing.endpoints) == 15
        statuses = [
            o.status
            for o in s.query(Occurrence).filter_by(meeting_id=briefing.id).order_by(Occurrence.original_start)
        ]
        assert statuses[1] == "cancelled" and statuses.count("planned") == 8  # 9 booked (Tết skipped), 1 cancelled


def test_technician_signs_in_with_the_keyboard_and_is_refused_the_booking_form(
    page: Any,
    live_server: LiveServer,
    web_users: dict[str, WebUser],
) -> None:
    technician = web_users["technician"]
    page.goto(live_server.url + "/login")
    # Keyboard only: the user name field has the focus, Tab to the password, Enter to sign in.
    expect(page.get_by_label("Tên đăng nhập", exact=True)).to_be_focused()
    page.keyboard.type(technician.username)
    page.keyboard.press("Tab")
    page.keyboard.type(technician.password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator(".mainnav")).not_to_contain_text("Đặt lịch")
    page.goto(live_server.url + "/bookings/new")
    expect(page.get_by_role("heading", name="Bạn không có quyền truy cập trang này")).to_be_visible()
    expect(page.locator(".error-message")).to_have_text("Trang này chỉ dành cho: Thư ký, Quản trị viên.")
    screenshot(page, "09-technician-403")


def test_admin_pages_and_english(page: Any, live_server: LiveServer, web_users: dict[str, WebUser]) -> None:
    login(page, live_server, web_users["admin"])
    page.get_by_role("link", name="Quản trị", exact=True).click()
    expect(page.get_by_role("heading", name="Điểm cầu (20)")).to_be_visible()
    screenshot(page, "10-admin-endpoints")
    page.get_by_role("link", name="Người dùng", exact=True).click()
    expect(page.locator("#users-table")).to_contain_text("thuky")
    screenshot(page, "11-admin-users")
    page.get_by_role("button", name=re.compile("^EN")).click()
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    page.get_by_role("link", name="Book", exact=True).click()
    expect(page.get_by_role("heading", name="Book a meeting")).to_be_visible()
    screenshot(page, "12-booking-form-english")


def test_admin_probes_a_bridge(
    page: Any, live_server_factory: Any, web_users: dict[str, WebUser], mcu_emulator: Any
) -> None:
    bridge = mcu_emulator.bridge_settings(name="mcu-tinh", video_ports=40, default=True).model_dump()
    server = live_server_factory(bridges=[bridge])
    login(page, server, web_users["admin"])
    page.goto(server.url + "/admin/bridges")
    expect(page.get_by_role("heading", name="mcu-tinh")).to_be_visible()
    page.get_by_role("button", name="Kiểm tra kết nối").click()
    result = page.locator("#probe-result")
    expect(result).to_contain_text("Cầu MCU trả lời:")
    expect(result).to_contain_text("4.5(1.72)")
    assert mcu_emulator.password not in page.content()
    screenshot(page, "14-admin-bridge-probe")
