"""Reports and the audit log in Debian Chromium: the charts load as images under the CSP (no script, no
violation), their numbers are in tables, downloads arrive as files (CSV with a BOM); screenshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge.audit.models import record
from confbridge.auth.models import User
from confbridge.directory.models import Endpoint
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, RunState
from tests.browser.conftest import LiveServer, WebUser, login, screenshot
from tests.integration.launch.helpers import book

pytestmark = pytest.mark.browser
PERIOD = "from=2026-11-01&to=2026-11-30"


def _seed(server: LiveServer, users: dict[str, WebUser], now: Any) -> None:
    """A month with ten ended conferences of the secretary on the demo endpoints (some busy legs)."""
    factory = server.session_factory
    with factory() as s:
        eps = list(s.scalars(select(Endpoint.id).order_by(Endpoint.id)))
        organiser = s.scalars(select(User.id).where(User.username == users["secretary"].username)).one()
    for day in range(10):
        start = now - timedelta(days=day + 1, hours=-1)
        chosen = eps[day % 5: day % 5 + 6]
        meeting_id, occ = book(factory, start, minutes=90, setup=10, endpoints=chosen, organiser_id=organiser,
                               title=f"Giao ban ngày {day + 1}")
        with factory.begin() as s:
            run = ConferenceRun(occurrence_id=occ, meeting_id=meeting_id, bridge_name="mcu-kiengiang",
                                conference_name=f"cb-{occ}", state=RunState.ENDED,
                                planned_start=start - timedelta(minutes=10), planned_end=start + timedelta(minutes=90),
                                first_call_at=start - timedelta(minutes=10), lateness_ms=400 + 90_000 * (day == 3),
                                late=day == 3, ended_at=start + timedelta(minutes=90))
            s.add(run)
            s.flush()
            for i, ep in enumerate(chosen):
                ok = (i + day) % 4 != 0
                s.add(CallLeg(run_id=run.id, endpoint_id=ep, participant_name=f"p{ep}", protocol="sip",
                              address=f"{ep}@127.0.0.1", display_name=str(ep),
                              state=LegState.DISCONNECTED if ok else LegState.FAILED, attempts=1 if ok else 3,
                              first_connected_at=start + timedelta(seconds=20 * i) if ok else None,
                              first_connect_attempt=1 if ok else None, connected_seconds=5400 if ok else 0,
                              fail_reason=None if ok else ("busy", "no_answer", "unreachable")[day % 3]))
            record(s, None, "meeting.update", "meeting", meeting_id, before={"title": "Giao ban"},
                   after={"title": f"Giao ban ngày {day + 1}"}, changes=["title"])


def test_reports_page_in_chromium(page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
                                  frozen_clock: Any) -> None:
    _seed(live_server, web_users, frozen_clock.now())
    login(page, live_server, web_users["technician"])  # lands on the console, whose live server is not run here
    page.goto(f"{live_server.url}/reports?{PERIOD}")
    page.js_errors.clear()  # from here on: no script error, no CSP violation
    expect(page.get_by_role("heading", name="Báo cáo", exact=True)).to_be_visible()
    charts = page.locator("img.chart")
    expect(charts).to_have_count(4)
    for i in range(4):
        img = charts.nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    expect(page.locator("#report-summary")).to_contain_text("10")
    page.locator("#chart-failures-title ~ details summary").click()
    expect(page.locator("#table-failures")).to_contain_text("máy bận")
    screenshot(page, "reports-month")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV — Chi tiết cuộc gọi (mỗi điểm cầu một dòng)").click()
    body = info.value.path().read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and "Giao ban ngày 1".encode() in body
    # A bad period is named at its field.
    page.locator("#period-from").fill("2026-12-31")
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(page.locator("#period-to-error")).to_be_visible()  # "to" must come after "from"
    assert not page.js_errors, page.js_errors


def test_audit_page_in_chromium(page: Any, live_server: LiveServer, web_users: dict[str, WebUser],
                                frozen_clock: Any) -> None:
    _seed(live_server, web_users, frozen_clock.now())
    login(page, live_server, web_users["admin"])
    page.goto(f"{live_server.url}/admin/audit")
    expect(page.locator("#audit-table")).to_contain_text("meeting.update")
    page.locator("#audit-action").fill("meeting.update")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("#audit-total")).to_contain_text("10")
    expect(page.locator("#audit-table tbody tr")).to_have_count(10)
    expect(page.locator("#audit-table")).to_contain_text("Giao ban ngày 3")
    screenshot(page, "admin-audit")
    assert not page.js_errors, page.js_errors
