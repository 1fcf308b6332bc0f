"""Every page passes an automated WCAG 2.1 A/AA audit (Deque axe-core from npm, injected into Debian
Chromium) with no serious or critical violation, in Vietnamese and in English, on a 1366×768 desktop and
at 390 px phone width; at phone width nothing scrolls sideways and no target is smaller than 24×24 px.

One test per locale × viewport visits every page in turn (sign-in, calendar week and day, booking form,
availability grid, meeting page, console with a live conference and an open alarm, subscribe, account,
admin pages), so the audit costs one server and one browser context per combination.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from confbridge import clock, events, notices
from confbridge.alarms.service import raise_alarm
from confbridge.auth.models import User
from confbridge.auth.service import get_user
from confbridge.booking import templates
from confbridge.booking.blackout_models import Blackout
from confbridge.booking.service import cancel_occurrence, create_meeting
from confbridge.booking.validation import MeetingInput
from confbridge.directory import groups
from confbridge.directory.models import Endpoint
from confbridge.launch.models import CallLeg, ConferenceRun
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServer as WsServer
from confbridge.live.server import LiveServerThread
from confbridge.settings import PROJECT_ROOT
from tests import services
from tests.browser.conftest import LiveServer, WebUser, screenshot
from tests.integration.monitor.conftest import add_site_endpoints, book

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "tests" / "js" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WCAG21 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAGS = [*WCAG21, "wcag22aa"]  # WCAG 2.2 AA adds only the target-size rule to these
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}
LOCALES = {"vi": "vi-VN", "en": "en-GB"}

# axe's own results; serious and critical WCAG 2.1 A/AA findings fail the page, and so does any target
# smaller than 24×24 px without the spacing WCAG allows (axe's target-size rule, WCAG 2.2 SC 2.5.8).
AUDIT_JS = """async (tags) => {
  const found = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  const pick = (v) => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => [n.target.join(' '), n.failureSummary])});
  const size = found.violations.filter(v => v.id === 'target-size');
  const wcag = found.violations.filter(v => v.id !== 'target-size');
  return {
    wcag: wcag.filter(v => v.impact === 'serious' || v.impact === 'critical').map(pick),
    size: size.map(pick),
  };
}"""

# The outermost elements that stick out of the viewport, to name them when a page scrolls sideways.
WIDE_JS = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  const sticksOut = (el) => el.getBoundingClientRect().right > limit + 0.5;
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && !sticksOut(a)) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (sticksOut(el) && !(el.parentElement && sticksOut(el.parentElement)) && !clipped(el)) {
      const classes = el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes + ' ' + Math.round(r.right));
    }
  }
  return out.slice(0, 5);
}"""


@pytest.fixture
def bus() -> Iterator[MemoryBus]:
    bus = MemoryBus()
    events.set_publisher(bus)
    yield bus
    events.set_publisher(None)


def _seed(web: LiveServer, web_users: dict[str, WebUser]) -> int:
    """A weekly briefing this week (one occurrence cancelled), a conference live now with an open alarm."""
    factory = web.session_factory
    with factory.begin() as s:
        actor = get_user(s, web_users["secretary"].username)
        meeting = create_meeting(s, web.settings, actor, MeetingInput(
            title="Giao ban tuần UBND tỉnh", description="Giao ban công tác chỉ đạo, điều hành hằng tuần.",
            start=datetime(2026, 12, 1, 14, 0, tzinfo=HCM), end=datetime(2026, 12, 1, 16, 0, tzinfo=HCM),
            endpoint_ids=[1, 2, 3, 4, 5], host_endpoint_id=1, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4",
            timezone="Asia/Ho_Chi_Minh", attendees=[("vanphong@ubnd.kiengiang.example", "Văn phòng")],
        ))
        cancel_occurrence(s, web.settings, actor, meeting, datetime(2026, 12, 8, 14, 0, tzinfo=HCM))
        meeting_id = meeting.id
        # An endpoint group (id 1) and an administrator's template (id 1): the booking form shows both.
        groups.create_group(s, {"name": "Các sở, ngành", "endpoint_ids": [2, 3, 4]}, None)
        templates.create_template(s, web.settings, get_user(s, web_users["admin"].username), {
            "name": "Giao ban tuần", "title": "Giao ban tuần UBND tỉnh", "duration_minutes": 90,
            "endpoint_ids": [1], "group_ids": [1]})
    endpoints = add_site_endpoints(factory, ["Hội trường Sở Nội vụ", "UBND xã Bình An"], "Xã đảo")
    with factory() as s:
        organiser = s.scalar(select(User.id).where(User.username == "thuky"))
    assert organiser is not None
    live_meeting, occ_id = book(factory, organiser, [e.id for e in endpoints], timedelta(minutes=-5),
                                title="Kiểm tra kỹ thuật xã đảo")
    now = clock.now()
    with factory.begin() as s:
        run = ConferenceRun(
            occurrence_id=occ_id, meeting_id=live_meeting, bridge_name="test-mcu", conference_name="cb-a11y",
            state="live", planned_start=now - timedelta(minutes=20), planned_end=now + timedelta(hours=1),
            conference_ready=True, started_at=now - timedelta(minutes=20), live_at=now - timedelta(minutes=19),
        )
        s.add(run)
        s.flush()
        for e, state in zip(endpoints, ("connected", "failed"), strict=True):
            s.add(CallLeg(run_id=run.id, endpoint_id=e.id, participant_name=f"cb-ep-{e.id}", protocol="sip",
                          address=e.address, display_name=e.name, state=state, attempts=1,
                          on_bridge=state == "connected", connected_at=now - timedelta(minutes=18)))
        raise_alarm(s, "call_dropped", f"call_dropped:{run.id}:{endpoints[1].id}", "alarm.call_dropped",
                    {"endpoint": endpoints[1].name, "meeting": "Kiểm tra kỹ thuật xã đảo",
                     "reason": notices.reason("remote_hangup")},
                    endpoint_id=endpoints[1].id, meeting_id=live_meeting, conference_id=run.id)
        s.add(Blackout(endpoint_id=1, start=datetime(2026, 12, 20, 6, 0, tzinfo=HCM),
                       end=datetime(2026, 12, 20, 18, 0, tzinfo=HCM), reason="Thay bộ mã hóa", created_at=now))
    return meeting_id


def _seed_pending(web: LiveServer, web_users: dict[str, WebUser]) -> int:
    """Issue 14: a booking of the provincial hall (requires approval) waiting for a decision."""
    with web.session_factory.begin() as s:
        hall = s.get(Endpoint, 1)
        assert hall is not None
        hall.requires_approval = True
        actor = get_user(s, web_users["secretary"].username)
        meeting = create_meeting(s, web.settings, actor, MeetingInput(
            title="Hội nghị tỉnh chờ duyệt", start=datetime(2026, 12, 4, 10, 0, tzinfo=HCM),
            end=datetime(2026, 12, 4, 11, 0, tzinfo=HCM), endpoint_ids=[1, 2], timezone="Asia/Ho_Chi_Minh",
        ), co_organizers=[web_users["admin"].username])
        return meeting.id


def _pages(meeting_id: int) -> list[tuple[str, str]]:
    return [
        ("calendar-week", "/calendar?date=2026-11-30"),
        ("calendar-day", "/calendar?view=day&date=2026-12-01"),
        ("booking-form", "/bookings/new?date=2026-12-02"),
        ("availability", "/availability?date=2026-12-01"),
        ("meeting", f"/meetings/{meeting_id}"),
        ("console", "/console"),
        ("readiness", "/console/readiness"),
        ("subscribe", "/subscribe"),
        ("account", "/account/password"),
        ("admin-endpoints", "/admin/endpoints"),
        ("admin-endpoint-new", "/admin/endpoints/new"),
        ("admin-import", "/admin/endpoints/import"),
        ("admin-bridges", "/admin/bridges"),
        ("admin-users", "/admin/users"),
        ("admin-endpoint-edit", "/admin/endpoints/1/edit"),
        ("meeting-edit", f"/meetings/{meeting_id}/edit"),
        ("meeting-cancel", f"/meetings/{meeting_id}/cancel"),
        ("not-found", "/no-such-page"),
        ("reports", "/reports?from=2026-11-01&to=2026-11-30"),
        ("admin-audit", "/admin/audit"),
        ("admin-groups", "/admin/groups/"),
        ("admin-group-new", "/admin/groups/new"),
        ("admin-group-edit", "/admin/groups/1/edit"),
        ("templates", "/templates/"),
        ("booking-from-template", "/bookings/new?template=1"),
        ("admin-endpoint-blackouts", "/admin/endpoints/1/blackouts"),
    ]


def _audit(page: Any, name: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(AUDIT_JS, TAGS)
    problems = [f"{name}: {v['impact']} {v['id']} ({v['help']}): {json.dumps(v['nodes'], ensure_ascii=False)}"
                for v in found["wcag"]]
    problems += [f"{name}: target smaller than 24×24 px: {json.dumps(v['nodes'], ensure_ascii=False)}"
                 for v in found["size"]]
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        wide = page.evaluate(WIDE_JS)
        problems.append(f"{name}: scrolls sideways by {overflow}px (too wide: {', '.join(wide)})")
    return problems


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_page_passes_the_wcag_audit(
    chromium: Any,
    live_server_factory: Callable[..., LiveServer],
    web_users: dict[str, WebUser],
    bus: MemoryBus,
    lang: str,
    viewport: str,
) -> None:
    if not AXE.exists():
        services.unavailable(f"axe-core is not installed ({AXE.relative_to(PROJECT_ROOT)}: npm ci)")
    live_port = services.free_port()
    web = live_server_factory(**{"live.port": live_port})
    live_settings = web.settings.with_overrides(**{"live.allowed_origins": [web.url]})
    ws = LiveServerThread(WsServer(live_settings.live, web.session_factory, bus), port=live_port).start()
    meeting_id = _seed(web, web_users)
    pending_id = _seed_pending(web, web_users)
    width, height = VIEWPORTS[viewport]
    # The CSP (rightly) refuses scripts the app did not send: the audit's own script is let in.
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=LOCALES[lang],
                                   timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True)
    context.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.goto(web.url + "/login")
        if lang != "vi":  # Vietnamese is the default; the sign-in page offers the other language
            page.locator(f".lang-btn[value='{lang}']").click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        problems += _audit(page, "login")
        admin = web_users["admin"]
        page.locator("input[name=username]").fill(admin.username)
        page.locator("input[name=password]").fill(admin.password)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(lambda url: "/login" not in url)
        if lang != "vi":  # the account remembers its own language: choose it once more
            page.locator(f".lang-btn[value='{lang}']").click()
            expect(page.locator("html")).to_have_attribute("lang", lang)
        for name, url in [*_pages(meeting_id), ("approvals", "/approvals/"),
                          ("meeting-pending", f"/meetings/{pending_id}")]:
            page.goto(web.url + url)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            if name == "console":
                expect(page.locator("#conn")).to_have_attribute("data-state", "live")
                expect(page.locator(".alarm").first).to_be_visible()
            problems += _audit(page, name)
            if viewport == "phone" and name in {"calendar-week", "console", "booking-form"}:
                screenshot(page, f"a11y-{name}-{lang}-{viewport}")
        # One occurrence of the series: move it, call it off.
        page.goto(f"{web.url}/meetings/{meeting_id}")
        links = {action: page.locator(f"a[href*='/occurrences/'][href$='/{action}']").first.get_attribute("href")
                 for action in ("edit", "cancel")}
        for action, href in links.items():
            assert href is not None
            page.goto(web.url + href)
            problems += _audit(page, f"occurrence-{action}")
        # The booking form as it answers a request with every field missing: errors named at the fields.
        page.goto(web.url + "/bookings/new")
        page.locator("#save-button").click()
        expect(page.locator(".field-error").first).to_be_visible()
        problems += _audit(page, "booking-form-errors")
    finally:
        context.close()
        ws.stop()
    assert not problems, "\n".join(problems)


def test_axe_is_pinned_in_the_lockfile() -> None:
    lock = json.loads((PROJECT_ROOT / "tests" / "js" / "axe" / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/axe-core"]["version"]
    assert version.startswith("4."), version
    assert Path(AXE).name == "axe.min.js"


def test_the_audit_reports_what_it_must(page: Any, live_server: LiveServer) -> None:
    """The audit is not blind: a 12 px button, grey-on-grey text and a page wider than the phone fail it."""
    if not AXE.exists():
        services.unavailable(f"axe-core is not installed ({AXE.relative_to(PROJECT_ROOT)}: npm ci)")
    page.context.close()
    context = page.context.browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    try:
        pg = context.new_page()
        pg.goto(live_server.url + "/login")
        pg.evaluate("""() => {
          const b = document.createElement('button');
          b.textContent = 'x'; b.style.cssText = 'width:12px;height:12px;padding:0;font-size:8px';
          document.querySelector('form').append(b);
          const p = document.createElement('p');
          p.textContent = 'Người đặt: Nguyễn Thị Thu'; p.style.cssText = 'color:#aaaaaa;background:#f3f5f8';
          document.body.append(p);
          const w = document.createElement('div');
          w.style.cssText = 'min-width:600px;flex:none'; w.textContent = 'rộng';
          document.body.append(w);
        }""")
        problems = "\n".join(_audit(pg, "login"))
    finally:
        context.close()
    assert "color-contrast" in problems
    assert "target smaller than 24×24 px" in problems
    assert "scrolls sideways" in problems
