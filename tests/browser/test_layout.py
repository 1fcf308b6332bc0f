"""Long Vietnamese names wrap instead of breaking the layout, at 1366×768 and on a 1920×1080 wall
display; the pages are usable from the keyboard (skip link, visible focus)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from confbridge.auth.service import get_user
from confbridge.booking.service import create_meeting
from confbridge.booking.validation import MeetingInput
from confbridge.directory.service import create_endpoint
from tests.browser.conftest import LiveServer, WebUser, login, screenshot

pytestmark = pytest.mark.browser

LONG_ENDPOINT = (
    "Trung tâm Hội nghị trực tuyến Ủy ban Nhân dân huyện đảo Kiên Hải — Phòng họp số 2, "
    "tầng 3, khu hành chính xã Hòn Tre"
)
LONG_TITLE = (
    "Hội nghị trực tuyến sơ kết công tác phòng, chống thiên tai, tìm kiếm cứu nạn và triển khai "
    "nhiệm vụ trọng tâm quý IV năm 2026 của Ban Chỉ huy Phòng chống thiên tai tỉnh Kiên Giang"
)


@pytest.fixture
def long_names(live_server: LiveServer, web_users: dict[str, WebUser]) -> int:
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    with live_server.session_factory.begin() as s:
        endpoint = create_endpoint(
            s,
            {
                "name": LONG_ENDPOINT,
                "site": "Kiên Hải (đảo)",
                "protocol": "sip",
                "address": "honre-phong2@vc.kiengiang.example",
                "seats": 40,
            },
            None,
        )
        actor = get_user(s, web_users["secretary"].username)
        meeting = create_meeting(
            s,
            live_server.settings,
            actor,
            MeetingInput(
                title=LONG_TITLE,
                start=datetime(2026, 12, 8, 14, 0, tzinfo=hcm),
                end=datetime(2026, 12, 8, 16, 30, tzinfo=hcm),
                endpoint_ids=[endpoint.id, 1, 2, 3],
                host_endpoint_id=endpoint.id,
                timezone="Asia/Ho_Chi_Minh",
            ),
        )
        return meeting.id


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_long_names_wrap_without_a_horizontal_scrollbar(
    page: Any,
    live_server: LiveServer,
    web_users: dict[str, WebUser],
    long_names: int,
    size: tuple[int, int],
) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login(page, live_server, web_users["admin"])
    for url in (
        "/calendar?date=2026-12-07",
        "/calendar?view=day&date=2026-12-08",
        "/availability?date=2026-12-08",
        "/bookings/new?date=2026-12-08",
        f"/meetings/{long_names}",
        "/admin/endpoints",
    ):
        page.goto(live_server.url + url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {size}"
    page.goto(live_server.url + "/calendar?date=2026-12-07")
    expect(page.locator(".event", has_text="Hội nghị trực tuyến sơ kết")).to_be_visible()
    screenshot(page, f"13-long-names-week-{size[0]}", full_page=False)


def test_keyboard_skip_link_and_focus_ring(
    page: Any, live_server: LiveServer, web_users: dict[str, WebUser]
) -> None:
    login(page, live_server, web_users["secretary"])
    page.goto(live_server.url + "/bookings/new")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Bỏ qua, đến nội dung chính")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # visible once focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Tên cuộc họp")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # Endpoints are checkboxes: Space ticks the focused one.
    box = page.get_by_label("UBND huyện Phú Quốc")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(page.locator("#selected-count")).to_have_text("Đã chọn 1 điểm cầu")
