"""Issue 13 on the pages: the booking form's join-muted box (vi/en) and the calendar's "Họp ngay"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from confbridge.booking.models import Meeting
from tests.integration.ui.conftest import booking_form

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _meeting_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/meetings/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_join_muted_box_books_and_edits(browser_for: Any, secretary: Any, demo_endpoints: dict[str, int],
                                        session_factory: Any) -> None:
    ids = list(demo_endpoints.values())[:3]
    b = browser_for(secretary)
    page = b.get("/bookings/new").get_data(as_text=True)
    assert "Tắt micro khi vào họp (trừ điểm cầu chính)" in page and 'name="join_muted"' in page
    english = browser_for(secretary)
    english.post("/language", {"locale": "en"})
    assert "Mute microphones on joining (except the host)" in english.get("/bookings/new").get_data(as_text=True)
    assert "Start now" in english.get("/calendar").get_data(as_text=True)
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(ids, join_muted="1")))
    with session_factory() as s:
        assert s.get(Meeting, meeting_id).join_muted is True  # type: ignore[union-attr]
    edit = b.get(f"/meetings/{meeting_id}/edit").get_data(as_text=True)
    assert re.search(r'name="join_muted" value="1" checked', edit)
    plain = _meeting_id(b.post("/bookings/new", booking_form(ids, date="08/12/2026", repeat="none")))
    with session_factory() as s:
        assert s.get(Meeting, plain).join_muted is False  # type: ignore[union-attr]


def test_start_now_books_from_the_save_with_the_default_duration(
        browser_for: Any, secretary: Any, demo_endpoints: dict[str, int], session_factory: Any,
        frozen_clock: Any) -> None:
    b = browser_for(secretary)
    calendar = b.get("/calendar").get_data(as_text=True)
    assert 'id="start-now" href="/bookings/new?now=1"' in calendar and "Họp ngay" in calendar
    form = b.get("/bookings/new?now=1").get_data(as_text=True)
    assert 'name="start_now" value="1"' in form and 'value="07:01"' in form and 'value="30/11/2026"' in form
    frozen_clock.advance(seconds=150)  # the secretary takes two and a half minutes to fill the form
    ids = list(demo_endpoints.values())[:2]
    meeting_id = _meeting_id(b.post("/bookings/new", booking_form(
        ids, title="Họp đột xuất", repeat="none", date="30/11/2026", start_time="07:01", start_now="1")))
    with session_factory() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        assert meeting.start == (frozen_clock.now() + timedelta(seconds=30)).replace(second=0)  # 07:03
        assert meeting.end - meeting.start == timedelta(minutes=90)
