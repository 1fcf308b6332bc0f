"""The demo's first screen shows a believable day (issue 18): seeded at any moment of the week, there is a
meeting in progress, meetings today and on the following working days, the Monday briefing (which skips
Tết), a cancelled occurrence, and nothing is double-booked (asked of the booking service itself)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock, demo
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.booking.service import check_booking
from confbridge.booking.validation import MeetingInput
from confbridge.settings import Settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MOMENTS = {
    "monday-during-briefing": datetime(2026, 11, 30, 8, 0, tzinfo=HCM),
    "wednesday-morning": datetime(2026, 12, 2, 10, 20, tzinfo=HCM),
    "saturday-evening": datetime(2026, 12, 5, 20, 0, tzinfo=HCM),
    "before-tet": datetime(2027, 1, 28, 9, 5, tzinfo=HCM),
}


def _seed(session: Session, settings: Settings, now: datetime, frozen_clock: clock.FrozenClock) -> list[Meeting]:
    frozen_clock.set(now)
    result = demo.seed(session, settings)
    session.flush()
    assert result.endpoints_created == 20
    return list(session.scalars(select(Meeting).order_by(Meeting.id)))


def _planned(meetings: list[Meeting]) -> list[Occurrence]:
    return [o for m in meetings for o in m.occurrences if o.status == "planned"]


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_believable_week_from_the_day_of_start(
    session: Session, settings: Settings, frozen_clock: clock.FrozenClock, moment: str
) -> None:
    now = MOMENTS[moment]
    meetings = _seed(session, settings, now, frozen_clock)
    occurrences = _planned(meetings)
    assert len(meetings) >= 5

    in_progress = [o for o in occurrences if o.start <= now < o.end]
    assert in_progress, "a meeting is under way when the newcomer first looks"

    week = {o.start.astimezone(HCM).date() for o in occurrences if now < o.end <= now + timedelta(days=7)}
    assert now.date() in week, "today's calendar is not empty"
    assert len(week) >= 4, sorted(week)

    briefing = next(m for m in meetings if m.title == "Giao ban tuần UBND tỉnh")
    local_starts = [o.start.astimezone(HCM) for o in briefing.occurrences]
    assert all(s.weekday() == 0 and (s.hour, s.minute) == (7, 30) for s in local_starts)
    assert min(local_starts).date() - now.date() < timedelta(days=7)

    cancelled = [o for m in meetings for o in m.occurrences if o.status == "cancelled"]
    assert len(cancelled) == 1 and cancelled[0].start > now


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_the_demo_never_double_books(
    session: Session, settings: Settings, frozen_clock: clock.FrozenClock, moment: str
) -> None:
    now = MOMENTS[moment]
    meetings = _seed(session, settings, now, frozen_clock)
    upcoming = demo.ensure_upcoming(session, settings)  # the briefing `confbridge run` adds at start-up
    if moment == "wednesday-morning":
        assert upcoming is not None  # every endpoint the meeting in progress does not hold
    meetings = list(session.scalars(select(Meeting).order_by(Meeting.id)))
    for meeting in meetings:
        # The booking service's own check, as if each meeting were booked again beside all the others.
        conflicts, capacity, _ = check_booking(session, settings, MeetingInput(
            title=meeting.title, start=meeting.start, end=meeting.end, endpoint_ids=meeting.endpoint_ids,
            timezone=meeting.timezone, rrule=meeting.rrule, setup_minutes=meeting.setup_minutes,
            exdates=[datetime.fromisoformat(e) for e in meeting.exdates],
        ), exclude_meeting_id=meeting.id)
        assert conflicts == [] and capacity == [], meeting.title
    slots = list(session.scalars(select(EndpointSlot).order_by(EndpointSlot.endpoint_id, EndpointSlot.window_start)))
    for a, b in itertools.pairwise(slots):
        if a.endpoint_id == b.endpoint_id:
            assert a.window_end <= b.window_start, (a.meeting_id, b.meeting_id)


def test_the_weekly_briefing_skips_tet(
    session: Session, settings: Settings, frozen_clock: clock.FrozenClock
) -> None:
    meetings = _seed(session, settings, MOMENTS["before-tet"], frozen_clock)
    briefing = next(m for m in meetings if m.title == "Giao ban tuần UBND tỉnh")
    days = {o.start.astimezone(HCM).date() for o in briefing.occurrences}
    assert date(2027, 2, 1) in days and date(2027, 2, 15) in days
    assert date(2027, 2, 8) not in days  # Monday, the third day of Tết
    assert [datetime.fromisoformat(e).astimezone(HCM).date() for e in briefing.exdates] == [date(2027, 2, 8)]
    # No demo meeting at all on a public holiday.
    for o in _planned(meetings):
        assert o.start.astimezone(HCM).date() not in {date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)}
