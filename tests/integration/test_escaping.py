"""Untrusted text (meeting titles, descriptions, attendee and endpoint names) is escaped on every page.

A secretary or an imported endpoint list can put markup into a name; a signed-in admin, secretary or
technician who opens a page showing it must see the text, never run it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.models import User
from confbridge.directory.service import create_endpoint
from tests.factories import book, make_endpoints
from tests.integration.ui.conftest import Browser

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, IMG)
START = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 07:30 in Hà Nội
END = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def hostile(app: Flask, session_factory: sessionmaker[Session], frozen_clock: Any, make_user: Any) -> dict[str, Any]:
    admin = make_user("admin", "admin")
    secretary = make_user("secretary", "thuky")
    technician = make_user("technician", "kythuat")
    settings = app.extensions["confbridge"].settings
    with session_factory.begin() as s:
        bad = create_endpoint(s, {"name": f"UBND {SCRIPT} {IMG}", "site": f"Huyện {IMG}", "protocol": "sip",
                                  "address": "evil@vc.kiengiang.example", "seats": 10, "kind": IMG}, None)
        eps = [bad.id, *make_endpoints(s, 2)]
        meeting = book(s, settings, s.get(User, secretary.id), title=f"Giao ban {SCRIPT}{IMG}",
                       description=f"Nội dung {IMG} {SCRIPT}", start=START, end=END, endpoint_ids=eps,
                       host_endpoint_id=bad.id, attendees=[("a@ubnd.example", f"Ông {SCRIPT}")],
                       rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=2")
        return {"admin": admin, "secretary": secretary, "technician": technician, "endpoint_id": bad.id,
                "meeting_id": meeting.id}


def _signed_in(app: Flask, user: Any) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(user.username, user.password).status_code == 302
    return browser


def _assert_escaped(page: str, url: str, *, shows_title: bool = False, shows_endpoint: bool = False) -> None:
    for raw in PAYLOADS:
        assert raw not in page, f"{url} contains the raw markup {raw!r}"
    assert "<script>alert" not in page and "<img src=x" not in page, url
    # The text itself is on the page (escaped), so the check above is not vacuous.
    if shows_title:
        assert html.escape(SCRIPT, quote=False) in page, f"{url} does not show the meeting's title"
    if shows_endpoint:
        assert "UBND &lt;script&gt;alert(1)&lt;/script&gt;" in page, f"{url} does not show the endpoint's name"


def _pages(hostile: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    mid, ep = hostile["meeting_id"], hostile["endpoint_id"]
    return [
        # (role, url, shows the title, shows the endpoint name)
        ("secretary", "/calendar?date=2026-12-07", True, False),
        ("secretary", "/calendar?view=day&date=2026-12-07", True, False),
        ("secretary", f"/calendar?date=2026-12-07&ep={ep}", True, False),
        ("secretary", f"/meetings/{mid}", True, True),
        ("secretary", f"/meetings/{mid}/edit", True, True),
        ("secretary", f"/meetings/{mid}/cancel", True, False),
        ("secretary", f"/meetings/{mid}/occurrences/20261207T003000Z/edit", True, False),
        ("secretary", f"/meetings/{mid}/occurrences/20261207T003000Z/cancel", True, False),
        ("secretary", "/bookings/new", False, True),
        ("secretary", "/availability?date=2026-12-07", True, True),
        ("technician", "/calendar?date=2026-12-07", True, False),
        ("technician", f"/meetings/{mid}", True, True),
        ("technician", "/console", False, False),
        ("admin", "/admin/endpoints", False, True),
        ("admin", f"/admin/endpoints/{ep}/edit", False, False),
        ("admin", "/admin/users", False, False),
    ]


def test_hostile_names_are_escaped_on_every_page(app: Flask, hostile: dict[str, Any]) -> None:
    browsers = {role: _signed_in(app, hostile[role]) for role in ("admin", "secretary", "technician")}
    for role, url, shows_title, shows_endpoint in _pages(hostile):
        response = browsers[role].get(url)
        assert response.status_code == 200, f"{role} {url} → {response.status_code}"
        assert response.mimetype == "text/html"
        _assert_escaped(response.get_data(as_text=True), url, shows_title=shows_title, shows_endpoint=shows_endpoint)
    # The endpoint edit form keeps the value intact in its attribute (escaped, not truncated at the quote).
    form = browsers["admin"].get(f"/admin/endpoints/{hostile['endpoint_id']}/edit").get_data(as_text=True)
    assert str(escape(f"UBND {SCRIPT} {IMG}")) in form


def test_conflict_messages_escape_the_other_meetings_title(app: Flask, hostile: dict[str, Any]) -> None:
    """Booking the same endpoint again: the form names the conflicting (hostile) meeting, escaped."""
    browser = _signed_in(app, hostile["admin"])
    form = {"title": "Họp khác", "date": "07/12/2026", "start_time": "07:30", "duration": "90",
            "endpoint_ids": str(hostile["endpoint_id"])}
    for action in ("check", "save"):
        page = browser.post("/bookings/new", {**form, "action": action})
        assert page.status_code in (200, 409), page.status_code
        text = page.get_data(as_text=True)
        _assert_escaped(text, f"/bookings/new ({action})", shows_title=True)
    # The form's live check answers JSON, which the page script inserts as text.
    live = browser.client.post("/bookings/check.json", data={"csrf_token": browser.csrf, **form})
    assert live.status_code == 200 and live.mimetype == "application/json"
    assert live.json["conflicts"], live.json
