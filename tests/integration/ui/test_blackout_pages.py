"""The endpoint's blackout page (admin): add over a booked meeting (saved, the meeting named and
alarmed), field errors in the user's language, delete, CSRF, and a secretary kept out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.alarms.models import Alarm
from confbridge.auth.models import User
from confbridge.booking.blackout_models import Blackout
from tests.factories import book, make_endpoints

START = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 07:30 in Hà Nội
END = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_add_over_a_booking_then_delete(browser_for: Any, app: Any, admin: Any, secretary: Any,
                                        session_factory: sessionmaker[Session], frozen_clock: object) -> None:
    settings = app.extensions["confbridge"].settings
    with session_factory.begin() as s:
        eps = make_endpoints(s, 2)
        book(s, settings, s.get(User, secretary.id), title="Giao ban <tuần>", start=START, end=END,
             endpoint_ids=eps)
    b = browser_for(admin)
    url = f"/admin/endpoints/{eps[0]}/blackouts"
    page = b.get(url).get_data(as_text=True)
    assert "Chưa có lịch bảo trì nào." in page and 'id="blackout-form"' in page

    bad = b.post(url, {"start_date": "2026-12-07", "start_time": "12:00", "end_date": "2026-12-07",
                        "end_time": "06:00", "reason": ""})
    assert bad.status_code == 422
    assert "Giờ kết thúc phải sau giờ bắt đầu." in bad.get_data(as_text=True)
    assert 'value="12:00"' in bad.get_data(as_text=True)  # what was typed is kept
    empty = b.post(url, {"start_date": "", "start_time": "", "end_date": "x", "end_time": "y"})
    assert empty.status_code == 422 and "Bắt buộc." in empty.get_data(as_text=True)

    ok = b.post(url, {"start_date": "2026-12-07", "start_time": "06:00", "end_date": "2026-12-07",
                    "end_time": "12:00", "reason": "Thay <codec>"})
    assert ok.status_code == 302
    listing = b.get(url).get_data(as_text=True)
    assert "1 buổi họp đã đặt bị ảnh hưởng" in listing and "Giao ban &lt;tuần&gt; (07:30 07/12/2026)" in listing
    assert "Thay &lt;codec&gt;" in listing and "06:00 07/12/2026" in listing
    with session_factory() as s:
        (blackout,) = s.scalars(select(Blackout)).all()
        assert blackout.start == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # 06:00 in Hà Nội
        assert s.scalar(select(Alarm).where(Alarm.kind == "blackout_overlap", Alarm.cleared_at.is_(None)))

    # without the form token nothing is deleted
    raw = b.client.post(f"{url}/{blackout.id}/delete")
    assert raw.status_code == 400
    assert b.post(f"{url}/{blackout.id}/delete").status_code == 302
    assert "Đã xóa lịch ngừng phục vụ." in b.get(url).get_data(as_text=True)
    with session_factory() as s:
        assert s.scalars(select(Blackout)).all() == []
        assert s.scalar(select(Alarm).where(Alarm.kind == "blackout_overlap", Alarm.cleared_at.is_(None))) is None

    other = browser_for(secretary)
    assert other.get(url).status_code == 403


def test_the_page_reads_in_english(browser_for: Any, admin: Any, session_factory: sessionmaker[Session],
                                   frozen_clock: object) -> None:
    with session_factory.begin() as s:
        (ep,) = make_endpoints(s, 1)
    b = browser_for(admin)
    b.post("/language", {"locale": "en", "next": "/calendar"})
    page = b.get(f"/admin/endpoints/{ep}/blackouts").get_data(as_text=True)
    assert "Add a blackout" in page and "No maintenance scheduled." in page
