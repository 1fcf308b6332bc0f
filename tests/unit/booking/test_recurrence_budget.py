"""Recurrence rules: only the supported parts, rules that can never match refused, every expansion bounded
(measured in CPU time of this process, so a busy machine does not make the test flaky)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from confbridge.booking import recurrence
from confbridge.errors import InvalidInput

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)  # a Monday
HORIZON = datetime(2027, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize("rule", [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1",  # the reported ~3 s rule
    "FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31;COUNT=1",
    "FREQ=WEEKLY;BYDAY=5MO;COUNT=3",  # numbered weekdays only for MONTHLY/YEARLY
    "FREQ=MONTHLY;BYDAY=6MO;COUNT=3",
    "FREQ=DAILY;BYHOUR=7;COUNT=3",  # unsupported part
    "FREQ=DAILY;BYSECOND=1;COUNT=3",
    "FREQ=DAILY;INTERVAL=0;COUNT=3",
    "FREQ=DAILY;INTERVAL=100000;COUNT=3",
    "FREQ=DAILY;COUNT=999999",
    "FREQ=DAILY;BYSETPOS=1;COUNT=3",
    "FREQ=DAILY;WKST=XX;COUNT=3",
    "FREQ=DAILY;UNTIL=99991231",
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=2",  # every 7th day from a Monday is never a Tuesday
    "FREQ=WEEKLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29;COUNT=2",
])
def test_unsupported_or_unsatisfiable_rules_are_refused_at_once(rule: str) -> None:
    began = time.process_time()
    with pytest.raises(InvalidInput) as caught:
        recurrence.normalise_rrule(rule, HCM)
    assert "rrule" in caught.value.fields
    assert time.process_time() - began < 0.1


def test_until_in_year_9999_behind_utc_is_a_field_error_not_an_overflow() -> None:
    with pytest.raises(InvalidInput) as caught:
        recurrence.normalise_rrule("FREQ=WEEKLY;UNTIL=99991231", NEW_YORK)
    assert "UNTIL" in caught.value.fields["rrule"]


@pytest.mark.parametrize("rule", [
    "FREQ=WEEKLY;INTERVAL=7;BYDAY=TU;COUNT=2",
    "FREQ=MONTHLY;INTERVAL=12;BYMONTH=3;COUNT=2",  # every December, never March
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=2",  # a Monday 29 February: once in 28 years
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;UNTIL=20301231",
])
def test_any_accepted_rule_expands_in_under_100_ms(rule: str) -> None:
    canonical = recurrence.normalise_rrule(rule, HCM)
    began = time.process_time()
    recurrence.expand(START, HCM, canonical, limit=400, not_after=HORIZON)
    assert time.process_time() - began < 0.1


def test_expansion_keeps_wall_clock_time_across_dst_and_stops_past_the_cut() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2027, 3, 22, 7, 30, tzinfo=berlin)
    starts = recurrence.expand(start, berlin, recurrence.normalise_rrule("FREQ=WEEKLY;COUNT=3", berlin))
    assert [s.astimezone(berlin).hour for s in starts] == [7, 7, 7]
    assert [s.hour for s in starts] == [6, 5, 5]  # CET, then CEST
    daily = recurrence.normalise_rrule("FREQ=DAILY;UNTIL=20301231", HCM)
    cut = datetime(2026, 12, 20, tzinfo=UTC)
    out = recurrence.expand(START, HCM, daily, not_after=cut)
    assert out[-1] > cut and out[-2] <= cut  # the first one past the cut tells "beyond the horizon"
