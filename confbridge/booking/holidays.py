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


# Our locales → the package's language codes (a calendar without the language uses its own default).
PACKAGE_LANGUAGES = {"vi": "vi", "en": "en_US"}


def _language(country: str, locale: str | None) -> str | None:
    calendar = holiday_calendars.country_holidays(country)
    wanted = PACKAGE_LANGUAGES.get(locale or "vi", "vi")
    supported = getattr(calendar, "supported_languages", ()) or ()
    if wanted in supported:
        return wanted
    return "vi" if "vi" in supported else None


@lru_cache(maxsize=128)
def _year(year: int, country: str, locale: str | None = "vi") -> dict[date, str]:
    language = _language(country, locale)
    return dict(holiday_calendars.country_holidays(country, years=year, language=language).items())


def holiday_name(day: date, country: str = COUNTRY, locale: str | None = "vi") -> str | None:
    """The holiday's name (e.g. "Mùng ba Tết Nguyên Đán"; in *locale* when the package has it, else in
    Vietnamese), or None on a working day."""
    return _year(day.year, country, locale).get(day)


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
