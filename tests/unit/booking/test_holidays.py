"""Public holidays (the VN calendar of the ``holidays`` package) and the EXDATEs of a weekly series."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from confbridge.booking import recurrence
from confbridge.booking.holidays import holiday_exdates, holiday_name, is_public_holiday

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_tet_2027_and_the_fixed_holidays() -> None:
    assert is_public_holiday(date(2027, 2, 8))  # Monday, the third day of Tết Đinh Mùi
    assert "Tết" in (holiday_name(date(2027, 2, 8)) or "")
    for day in (date(2027, 1, 1), date(2027, 4, 30), date(2027, 5, 1), date(2027, 9, 2)):
        assert is_public_holiday(day), day
    assert not is_public_holiday(date(2027, 2, 15))
    assert not is_public_holiday(date(2026, 12, 7))


def test_a_weekly_briefing_skips_tet() -> None:
    start = datetime(2026, 12, 7, 7, 30, tzinfo=HCM)
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=12"
    skipped = holiday_exdates(start, HCM, rule)
    assert [s.astimezone(HCM).date() for s in skipped] == [date(2027, 2, 8)]
    assert skipped[0] == datetime(2027, 2, 8, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội, as the series
    kept = recurrence.expand(start, HCM, rule, skipped)
    assert date(2027, 2, 8) not in {s.astimezone(HCM).date() for s in kept}
    assert len(kept) == 11


def test_the_holiday_is_taken_in_the_series_zone() -> None:
    # 23:30 on Wednesday 1 Sep 2027 in Berlin is 04:30 on Thursday 2 Sep (National Day) in Hà Nội.
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2027, 9, 1, 23, 30, tzinfo=berlin)
    assert holiday_exdates(start, berlin, "FREQ=WEEKLY;COUNT=3") == []
    assert len(holiday_exdates(start, HCM, "FREQ=WEEKLY;COUNT=3")) == 1


def test_a_single_meeting_has_no_exdates() -> None:
    assert holiday_exdates(datetime(2027, 2, 8, 8, 0, tzinfo=HCM), HCM, None) == []
