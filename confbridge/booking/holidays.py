"""Vietnamese public holidays, and the rule that a regular series skips them.

The calendar is the ``holidays`` package's Vietnam calendar (Tết Nguyên Đán with its lunar dates, Giỗ Tổ
Hùng Vương, 30/4, 1/5, 2/9 and the days the government adds to them), not a list of our own.  A weekly
briefing does not happen on Tết: the occurrences of a series that fall on a public holiday (in the series'
own zone) become its EXDATEs, so invitations, feeds and the calendar all leave them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from confbridge.booking import recurrence

COUNTRY = "VN"


@lru_cache(maxsize=64)
def _year(year: int, country: str) -> dict[date, str]:
    return dict(holiday_calendars.country_holidays(country, years=year, language="vi").items())


def holiday_name(day: date, country: str = COUNTRY) -> str | None:
    """The holiday's Vietnamese name (e.g. "Mùng ba Tết Nguyên Đán"), or None on a working day."""
    return _year(day.year, country).get(day)


def is_public_holiday(day: date, country: str = COUNTRY) -> bool:
    return holiday_name(day, country) is not None


def holiday_exdates(
    start: datetime, zone: ZoneInfo, rule: str | None, exdates: Iterable[datetime] = (),
    country: str = COUNTRY,
) -> list[datetime]:
    """The occurrence starts (aware UTC) of a series that fall on a public holiday in *zone*."""
    if not rule:
        return []
    return [s for s in recurrence.expand(start, zone, rule, exdates)
            if is_public_holiday(s.astimezone(zone).date(), country)]
