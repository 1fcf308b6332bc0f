"""What calendars will show equals what confbridge booked: the REQUEST (and the feed) expanded by
recurring_ical_events yields exactly the stored planned occurrences — across a DST change abroad, with a
moved and a cancelled occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from confbridge.booking.models import OccurrenceStatus
from confbridge.invites import ics
from confbridge.settings import Settings
from tests.integration.invites.conftest import Booker


def _expanded(cal: icalendar.Calendar) -> list[tuple[datetime, datetime]]:
    events = recurring_ical_events.of(cal).between(datetime(2026, 1, 1, tzinfo=UTC),
                                                   datetime(2028, 12, 31, tzinfo=UTC))
    return sorted((e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC)) for e in events)


def _booked(booker: Booker, meeting_id: int) -> list[tuple[datetime, datetime]]:
    meeting = booker.meeting(meeting_id)
    return sorted((o.start, o.end) for o in meeting.occurrences if o.status == OccurrenceStatus.PLANNED)


@pytest.mark.parametrize(("zone", "first"), [
    ("Asia/Ho_Chi_Minh", datetime(2027, 3, 1, 7, 30)),
    # Berlin changes to summer time on 2027-03-28: 07:30 stays 07:30 local, the UTC instant moves.
    ("Europe/Berlin", datetime(2027, 3, 1, 7, 30)),
])
def test_request_and_feed_expand_to_the_booked_occurrences(
    booker: Booker, settings: Settings, frozen_clock: object, zone: str, first: datetime,
) -> None:
    tz = ZoneInfo(zone)
    start = first.replace(tzinfo=tz)
    mid = booker.create(start, start + timedelta(hours=1), timezone=zone, rrule="FREQ=WEEKLY;COUNT=8")
    moved = (start + timedelta(weeks=2)).astimezone(UTC)
    booker.move_occurrence(mid, moved, moved + timedelta(days=2), moved + timedelta(days=2, hours=1))
    booker.cancel_occurrence(mid, (start + timedelta(weeks=5)).astimezone(UTC))

    booked = _booked(booker, mid)
    assert len(booked) == 7
    local_times = {s.astimezone(tz).time() for s, _ in booked}
    assert local_times == {start.timetz().replace(tzinfo=None)}  # wall-clock time kept across DST

    meeting = booker.meeting(mid)
    request = icalendar.Calendar.from_ical(ics.to_bytes(ics.request_calendar(meeting, settings.mail)))
    assert _expanded(request) == booked
    feed = icalendar.Calendar.from_ical(ics.to_bytes(ics.feed_calendar([meeting], settings.mail, name="x")))
    assert _expanded(feed) == booked
    if zone == "Europe/Berlin":
        (vtimezone,) = request.walk("VTIMEZONE")
        assert vtimezone.walk("DAYLIGHT"), "the VTIMEZONE must describe the summer-time change"


def test_series_update_keeps_expansion_in_step(booker: Booker, settings: Settings) -> None:
    start = datetime(2026, 12, 8, 14, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    mid = booker.create(start, start + timedelta(hours=2), rrule="FREQ=DAILY;COUNT=10")
    booker.cancel_occurrence(mid, (start + timedelta(days=3)).astimezone(UTC))
    booker.update(mid, rrule="FREQ=DAILY;COUNT=6")  # cut short: later occurrences go away
    meeting = booker.meeting(mid)
    cal = icalendar.Calendar.from_ical(ics.to_bytes(ics.request_calendar(meeting, settings.mail)))
    assert _expanded(cal) == _booked(booker, mid)
    assert len(_booked(booker, mid)) == 5
