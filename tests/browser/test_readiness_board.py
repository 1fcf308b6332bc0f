"""The readiness board in Chromium: a technician asks for a pre-flight test call from the page, the
scheduler's engine runs it against the MCU emulator (one endpoint busy), and the board shows "3/4 sẵn sàng"
with the busy endpoint's reason; in English it reads "3/4 ready"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge.auth.models import User
from confbridge.launch.executor import LaunchEngine
from confbridge.launch.preflight_models import PreflightPhase, PreflightRun
from tests.browser.conftest import LiveServer, WebUser, login, screenshot
from tests.fixtures.mcu import McuEmulator
from tests.integration.launch.helpers import drive
from tests.integration.monitor.conftest import add_site_endpoints, book

pytestmark = pytest.mark.browser

NAMES = ["Hội trường tầng 3 (thử)",
         "Phòng họp <b>Phú Quốc</b> (thử)", "Phòng họp Kiên Hải (thử)", "Trạm y tế Hòn Tre (thử)"]


def test_readiness_board_runs_a_preflight_and_shows_who_is_ready(
    live_server_factory: Callable[..., LiveServer], web_users: dict[str, WebUser], page: Any,
    mcu_emulator: McuEmulator, frozen_clock: Any,
) -> None:
    bridge = mcu_emulator.bridge_settings()
    web = live_server_factory(bridges=[{**bridge.model_dump(), "default": True}])
    factory = web.session_factory
    endpoints = add_site_endpoints(factory, NAMES, "Giao ban tỉnh")
    mcu_emulator.set_endpoint(endpoints[2].address, "busy", answer_delay=0.05)
    with factory() as s:
        organiser = s.scalar(select(User.id).where(User.username == "thuky"))
    assert organiser is not None
    book(factory, organiser, [e.id for e in endpoints], timedelta(hours=2), title="Giao ban tuần <tỉnh>")

    login(page, web, web_users["technician"])
    page.goto(web.url + "/console")
    page.get_by_role("link", name="Sẵn sàng điểm cầu").click()
    expect(page.get_by_role("heading", name="Sẵn sàng điểm cầu", level=1)).to_be_visible()
    expect(page.get_by_text("Chưa gọi thử.")).to_be_visible()
    page.get_by_role("button", name="Gọi thử ngay Giao ban tuần <tỉnh>").click()
    expect(page.get_by_text("Đã yêu cầu gọi thử")).to_be_visible()

    # The scheduler's part: the launch engine runs the pre-flight on the emulator.
    engine = LaunchEngine(factory, web.settings, {bridge.name: _driver(bridge)})
    try:
        drive(engine, frozen_clock, lambda: _done(factory), max_steps=40)
    finally:
        engine.close()

    page.reload()
    expect(page.get_by_text("3/4 sẵn sàng")).to_be_visible()
    busy_row = page.locator("tr", has_text="Phòng họp Kiên Hải (thử)")
    expect(busy_row).to_contain_text("Không sẵn sàng")
    expect(busy_row).to_contain_text("máy bận")
    # A name with markup stays text.
    expect(page.get_by_role("cell", name="Phòng họp <b>Phú Quốc</b> (thử)")).to_be_visible()
    # The console page we came through has no live server here; the board itself has no script errors.
    assert not [e for e in page.js_errors if not e.startswith("WebSocket connection")]
    screenshot(page, "readiness-board-vi")

    with factory.begin() as s:
        tech = s.scalars(select(User).where(User.username == web_users["technician"].username)).one()
        tech.locale = "en"
    page.reload()
    expect(page.get_by_text("3/4 ready")).to_be_visible()
    expect(page.locator("tr", has_text="Phòng họp Kiên Hải (thử)")).to_contain_text("busy")
    screenshot(page, "readiness-board-en")


def _driver(bridge: Any) -> Any:
    from confbridge.bridges.registry import make_driver

    return make_driver(bridge)


def _done(factory: Any) -> bool:
    with factory() as s:
        rows = list(s.scalars(select(PreflightRun)))
        return bool(rows) and all(r.phase == PreflightPhase.DONE for r in rows)
