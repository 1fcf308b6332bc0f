"""The technician console in Chromium: a call dropped on the MCU emulator turns the endpoint's tile red
without a reload; the alarm appears and is acknowledged; bridge-reported names stay text; the page
reconnects by itself after the live server restarts and resyncs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge import clock, events
from confbridge.auth.models import User
from confbridge.bridges.base import DialTarget
from confbridge.bridges.naming import conference_name, participant_name
from confbridge.bridges.registry import make_driver
from confbridge.launch.models import CallLeg, ConferenceRun
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer as WsServer
from confbridge.live.server import LiveServerThread
from confbridge.monitor.service import monitor_tick
from tests import services
from tests.browser.conftest import LiveServer, WebUser, login, screenshot
from tests.fixtures.mcu import McuEmulator
from tests.integration.monitor.conftest import add_site_endpoints, book

pytestmark = pytest.mark.browser
VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.I)

NAMES = ["Hội trường Sở Nội vụ", "UBND xã <b>Bình An</b>", "Trạm y tế Hòn Tre"]


@pytest.fixture
def bus() -> Iterator[MemoryBus]:
    bus = MemoryBus()
    events.set_publisher(bus)
    yield bus
    events.set_publisher(None)


def test_dropped_call_turns_tile_red_live(
    live_server_factory: Callable[..., LiveServer],
    web_users: dict[str, WebUser],
    page: Any,
    mcu_emulator: McuEmulator,
    bus: MemoryBus,
) -> None:
    live_port = services.free_port()
    web = live_server_factory(**{"live.port": live_port})
    origin_ok = web.settings.with_overrides(**{"live.allowed_origins": [web.url], "live.flush_ms": 100})
    ws = LiveServerThread(WsServer(origin_ok.live, web.session_factory, bus), port=live_port).start()
    factory = web.session_factory

    # A live conference on the emulator, as the launch engine would have left it.
    endpoints = add_site_endpoints(factory, NAMES, "Xã đảo")
    ids = [e.id for e in endpoints]
    with factory() as s:
        organiser = s.scalar(select(User.id).where(User.username == "thuky"))
    assert organiser is not None
    meeting_id, occ_id = book(
        factory, organiser, ids, timedelta(minutes=-5), title="Kiểm tra kỹ thuật <xã đảo>"
    )
    driver = make_driver(mcu_emulator.bridge_settings())
    now = clock.now()
    name = conference_name(meeting_id, now)
    driver.ensure_conference(name)
    for e in endpoints:
        driver.ensure_participant(name, DialTarget(participant_name(e.id), "sip", e.address, "Xa dao"))
    mcu_emulator.wait_for(lambda st: sum(p["callState"] == "connected" for p in st["participants"]) == 3)
    with factory.begin() as s:
        run = ConferenceRun(
            occurrence_id=occ_id,
            meeting_id=meeting_id,
            bridge_name="test-mcu",
            conference_name=name,
            state="live",
            planned_start=now - timedelta(minutes=20),
            planned_end=now + timedelta(hours=1),
            conference_ready=True,
            started_at=now - timedelta(minutes=20),
            live_at=now - timedelta(minutes=19),
        )
        s.add(run)
        s.flush()
        for e in endpoints:
            s.add(
                CallLeg(
                    run_id=run.id,
                    endpoint_id=e.id,
                    participant_name=participant_name(e.id),
                    protocol="sip",
                    address=e.address,
                    display_name=e.name,
                    state="connected",
                    attempts=1,
                    on_bridge=True,
                    connected_at=now - timedelta(minutes=18),
                )
            )
    drivers = {"test-mcu": driver}
    monitor_tick(factory, web.settings, drivers)
    try:
        login(page, web, web_users["technician"])
        page.goto(web.url + "/console")
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        dropped = ids[1]
        tile = page.locator(f'.tile[data-endpoint-id="{dropped}"]')
        expect(tile).to_have_attribute("data-status", "in_call")
        expect(tile).to_contain_text("UBND xã <b>Bình An</b>")  # the name as text, not markup
        assert page.locator(".tile b").count() == 0
        card = page.locator("article.conf").filter(has_text="Kiểm tra kỹ thuật <xã đảo>")
        expect(card.locator(".conf-count")).to_have_text("3/3 đã kết nối")
        page.evaluate("window.__stillTheSamePage = true")
        screenshot(page, "console-all-connected")

        mcu_emulator.drop(name, participant_name(dropped))
        monitor_tick(factory, web.settings, drivers)  # what the scheduler runs every few seconds

        expect(tile).to_have_attribute("data-status", "failed")
        expect(tile).to_have_class("tile status-failed")
        expect(tile.locator(".tile-status")).to_have_text("Lỗi cuộc gọi")
        assert tile.evaluate("n => getComputedStyle(n).borderLeftColor") == "rgb(179, 38, 30)"  # red
        assert page.evaluate("window.__stillTheSamePage") is True  # no reload happened
        alarm = page.locator('.alarm[data-kind="call_dropped"]')
        expect(alarm).to_contain_text("UBND xã <b>Bình An</b>")
        expect(page.locator("#alarm-count")).to_have_text("1")
        screenshot(page, "console-call-dropped")
        alarm.get_by_role("button", name="Xác nhận").click()
        expect(alarm).to_contain_text("Đã xác nhận")
        expect(page.locator("#alarm-count")).to_have_text("0")

        # The live server restarts: the page says so, reconnects with a new token and resyncs.
        ws.stop()
        expect(page.locator("#conn")).to_have_attribute("data-state", "lost")
        ws = LiveServerThread(WsServer(origin_ok.live, factory, bus), port=live_port).start()
        expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
        mcu_emulator.set_endpoint(endpoints[2].address, "answer")
        mcu_emulator.drop(name, participant_name(ids[2]))
        monitor_tick(factory, web.settings, drivers)
        expect(page.locator(f'.tile[data-endpoint-id="{ids[2]}"]')).to_have_attribute("data-status", "failed")
        assert page.evaluate("window.__stillTheSamePage") is True
        assert page.js_errors == []
    finally:
        ws.stop()
        driver.close()


def test_console_is_for_technicians_and_admins(
    live_server: LiveServer,
    web_users: dict[str, WebUser],
    page: Any,
) -> None:
    login(page, live_server, web_users["secretary"])
    response = page.goto(live_server.url + "/console")
    assert response is not None and response.status == 403
    # Anonymous: a fresh browser context (no cookies, no cache) is sent to the sign-in page.
    context = page.context.browser.new_context()
    try:
        anonymous = context.new_page()
        anonymous.goto(live_server.url + "/console")
        assert "/login" in anonymous.url
    finally:
        context.close()


def test_console_in_english(
    live_server_factory: Callable[..., LiveServer],
    web_users: dict[str, WebUser],
    page: Any,
    bus: MemoryBus,
) -> None:
    live_port = services.free_port()
    web = live_server_factory(**{"live.port": live_port})
    live_settings = web.settings.with_overrides(**{"live.allowed_origins": [web.url]})
    ws = LiveServerThread(WsServer(live_settings.live, web.session_factory, bus), port=live_port).start()
    try:
        login(page, web, web_users["admin"])
        page.goto(web.url + "/console")
        page.locator(".lang-btn[value='en']").click()
        expect(page.get_by_role("heading", name="Technician console")).to_be_visible()
        expect(page.locator("#conn")).to_have_text("Live")
        expect(page.locator(".tile").first).to_contain_text("Unknown")
        # The console's own words (headings, connection, empty lists, statuses) hold no Vietnamese;
        # only the data (endpoint and site names) does.
        chrome = page.locator("#console h1, #console h2, #conn, #conferences, #alarms, .tile-status")
        words = " ".join(chrome.all_inner_texts())
        assert "No conference in the next" in words and not VIETNAMESE.search(words), words
        screenshot(page, "console-english")
    finally:
        ws.stop()


def test_console_says_so_when_the_live_server_refuses_its_origin(
    live_server_factory: Callable[..., LiveServer],
    web_users: dict[str, WebUser],
    page: Any,
    bus: MemoryBus,
) -> None:
    """The live server accepts only other origins (a misconfiguration): the console names the refusal and
    the address instead of retrying silently."""
    live_port = services.free_port()
    web = live_server_factory(**{"live.port": live_port})
    elsewhere = web.settings.with_overrides(**{"live.allowed_origins": ["https://hoinghi.example.vn"]})
    ws = LiveServerThread(WsServer(elsewhere.live, web.session_factory, bus), port=live_port).start()
    try:
        login(page, web, web_users["technician"])
        page.goto(web.url + "/console")
        conn = page.locator("#conn")
        expect(conn).to_have_attribute("data-state", "refused", timeout=10_000)
        expect(conn).to_contain_text(f"Không kết nối được máy chủ trực tiếp ws://127.0.0.1:{live_port}/")
        expect(conn).to_contain_text("bị từ chối hoặc không trả lời")
        screenshot(page, "console-live-refused")
    finally:
        ws.stop()
