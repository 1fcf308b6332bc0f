"""Recurrence expansion agrees with independent implementations (dateutil on local wall time, and
recurring_ical_events over an iCalendar built from the same rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, vRecur

from confbridge.booking.recurrence import expand, normalise_rrule

CASES = [
    ("Asia/Ho_Chi_Minh", datetime(2026, 12, 7, 7, 30), "FREQ=WEEKLY;BYDAY=MO;COUNT=20"),
    ("Asia/Ho_Chi_Minh", datetime(2026, 12, 7, 8, 0), "FREQ=MONTHLY;BYDAY=1MO;COUNT=12"),
    ("Asia/Ho_Chi_Minh", datetime(2026, 12, 1, 14, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20270131"),
    ("Europe/Berlin", datetime(2027, 3, 1, 7, 30), "FREQ=WEEKLY;BYDAY=MO;COUNT=10"),
    ("Europe/Berlin", datetime(2027, 10, 18, 7, 30), "FREQ=DAILY;INTERVAL=3;COUNT=10"),
    ("America/New_York", datetime(2027, 3, 9, 19, 0), "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8"),
]


@pytest.mark.parametrize(("zone_name", "local_start", "rule"), CASES)
def test_expansion_matches_recurring_ical_events(zone_name: str, local_start: datetime, rule: str) -> None:
    zone = ZoneInfo(zone_name)
    start = local_start.replace(tzinfo=zone)
    canonical = normalise_rrule(rule, zone)
    ours = expand(start, zone, canonical)

    cal = Calendar()
    event = Event()
    event.add("uid", "x@test")
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("rrule", vRecur.from_ical(canonical))
    cal.add_component(event)
    theirs = [
        e["DTSTART"].dt.astimezone(UTC)
        for e in recurring_ical_events.of(cal).between(start - timedelta(days=1), start + timedelta(days=400))
    ]
    assert ours == sorted(theirs)
    # And against dateutil on naive local wall time, localised afterwards.
    naive = [d.replace(tzinfo=zone).astimezone(UTC) for d in rrulestr(
        canonical.replace("UNTIL=", "UNTIL=").split("UNTIL=")[0].rstrip(";") if "UNTIL" in canonical else canonical,
        dtstart=local_start)]
    if "UNTIL" not in canonical:
        assert ours == naive


def test_until_as_local_date_includes_that_day() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    rule = normalise_rrule("RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261228", zone)
    assert rule.endswith("UNTIL=20261228T165959Z")
    starts = expand(datetime(2026, 12, 7, 7, 30, tzinfo=zone), zone, rule)
    assert [s.astimezone(zone).day for s in starts] == [7, 14, 21, 28]


def test_exdates_are_skipped() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    start = datetime(2026, 12, 7, 7, 30, tzinfo=zone)
    starts = expand(start, zone, "FREQ=WEEKLY;COUNT=3", [start + timedelta(weeks=1)])
    assert starts == [start.astimezone(UTC), (start + timedelta(weeks=2)).astimezone(UTC)]
