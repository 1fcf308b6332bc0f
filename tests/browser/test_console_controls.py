"""Issue 13 in Chromium: the console's conference controls on a conference the launch engine started on
the MCU emulator — the host tagged, mute all but the host, extend by 30 minutes and end, each after a
confirmation (screenshots of the dialogs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from confbridge import events
from confbridge.booking.models import Meeting
from confbridge.launch.models import ConferenceRun, LegState, RunState
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer as WsServer
from confbridge.live.server import LiveServerThread
from tests import services
from tests.browser.conftest import LiveServer, WebUser, login, screenshot
from tests.fixtures.mcu import McuEmulator
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for

pytestmark = pytest.mark.browser


@pytest.fixture
def bus() -> Iterator[MemoryBus]:
    bus = MemoryBus()
    events.set_publisher(bus)
    yield bus
    events.set_publisher(None)


def test_console_mutes_all_extends_and_ends_after_a_confirmation(
    live_server_factory: Callable[..., LiveServer], web_users: dict[str, WebUser], page: Any,
    mcu_emulator: McuEmulator, bus: MemoryBus, frozen_clock: Any,
) -> None:
    bridge = mcu_emulator.bridge_settings()
    live_port = services.free_port()
    web = live_server_factory(**{"live.port": live_port, "bridges": [{**bridge.model_dump(), "default": True}]})
    factory = web.session_factory
    ws_settings = web.settings.with_overrides(**{"live.allowed_origins": [web.url], "live.flush_ms": 100})
    ws = LiveServerThread(WsServer(ws_settings.live, factory, bus), port=live_port).start()
    eps = make_endpoints(factory, 3, prefix="xa")
    meeting_id, occ = book(factory, frozen_clock.now() + timedelta(minutes=5), minutes=60, setup=5,
                           endpoints=eps, title="Giao ban <tỉnh>")
    with factory.begin() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.host_endpoint_id, meeting.join_muted = eps[0], False
    _s, launch = engine_for(web.settings, factory, bridge)
    try:
        drive(launch, frozen_clock, lambda: all(
            leg.state == LegState.CONNECTED for leg in legs(factory, run_for(factory, occ).id)))
        run = run_for(factory, occ)
        login(page, web, web_users["technician"])
        page.goto(web.url + "/console")
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        card = page.locator("article.conf").filter(has_text="Giao ban <tỉnh>")
        expect(card.locator(f'li[data-endpoint-id="{eps[0]}"] .host-tag')).to_have_text("Chủ trì")

        card.get_by_role("button", name="Tắt tiếng tất cả (trừ điểm cầu chính)").click()
        expect(page.locator("#action-result")).to_contain_text("Đã gửi lệnh: Tắt tiếng tất cả")
        muted = [mcu_emulator.participant(run.conference_name, f"cb-ep-{ep}")["audioRxMuted"] for ep in eps]
        assert muted == [False, True, True]
        expect(card.locator(f'li[data-endpoint-id="{eps[1]}"] .leg')).to_contain_text("🔇")
        screenshot(page, "console-mute-all")

        # Extend: a confirmation first; "No" changes nothing.
        card.get_by_role("button", name="+30 phút").click()
        dialog = page.locator("#confirm")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Kéo dài hội nghị «Giao ban <tỉnh>» thêm 30 phút")
        screenshot(page, "console-extend-confirm", full_page=False)
        dialog.get_by_role("button", name="Không, quay lại").click()
        expect(dialog).to_be_hidden()
        assert run_for(factory, occ).planned_end == run.planned_end
        card.get_by_role("button", name="+30 phút").click()
        dialog.get_by_role("button", name="Đồng ý, thực hiện").click()
        expect(page.locator("#action-result")).to_contain_text("Đã kéo dài «Giao ban <tỉnh>»")
        assert run_for(factory, occ).planned_end == run.planned_end + timedelta(minutes=30)

        card.get_by_role("button", name="Kết thúc ngay").click()
        expect(dialog).to_contain_text("Kết thúc hội nghị «Giao ban <tỉnh>» ngay bây giờ?")
        screenshot(page, "console-end-confirm", full_page=False)
        dialog.get_by_role("button", name="Đồng ý, thực hiện").click()
        expect(page.locator("#action-result")).to_contain_text("Đã gửi lệnh: Kết thúc ngay")
        with factory() as s:
            assert s.get(ConferenceRun, run.id).state == RunState.ENDING  # type: ignore[union-attr]
        assert page.js_errors == []
    finally:
        ws.stop()
        launch.close()
