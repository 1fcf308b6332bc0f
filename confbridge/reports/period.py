"""The reporting period: ``from``/``to`` as office-zone dates (``to`` inclusive) or aware instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from confbridge import clock
from confbridge.booking.holidays import is_public_holiday
from confbridge.errors import FieldError, InvalidInput

MAX_DAYS = 400  # a year and a bit: what one report may span


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def days(self, zone: ZoneInfo) -> list[date]:
        first = self.start.astimezone(zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _parse(value: str, field: str, zone: ZoneInfo, *, end: bool) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)  # a date as "to" includes that whole day
            return datetime.combine(day, time(0), zone)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.of([FieldError.of(field, "not_date")]) from None
    if instant.tzinfo is None:
        raise InvalidInput.of([FieldError.of(field, "needs_offset")])
    return instant


def parse_period(raw_from: str | None, raw_to: str | None, zone: ZoneInfo) -> Period:
    """The period asked for; without ``from``/``to`` the current month in *zone*."""
    today = clock.now().astimezone(zone).date()
    month_start = today.replace(day=1)
    start = (_parse(raw_from, "from", zone, end=False) if raw_from
             else datetime.combine(month_start, time(0), zone))
    if raw_to:
        end = _parse(raw_to, "to", zone, end=True)
    else:
        first = start.astimezone(zone).date().replace(day=1)
        end = datetime.combine((first + timedelta(days=32)).replace(day=1), time(0), zone)
    if end <= start:
        raise InvalidInput.of([FieldError.of("to", "before_from")])
    if (end - start).days > MAX_DAYS:
        raise InvalidInput.of([FieldError.of("to", "period_too_long", max_days=MAX_DAYS)])
    return Period(start, end)


def office_seconds(period: Period, zone: ZoneInfo, day_start: str, day_end: str) -> float:
    """Office time inside *period*: working days (Monday–Friday, no public holiday), day_start–day_end."""
    open_at, close_at = time.fromisoformat(day_start), time.fromisoformat(day_end)
    total = 0.0
    for day in period.days(zone):
        if day.weekday() >= 5 or is_public_holiday(day):
            continue
        lo = max(datetime.combine(day, open_at, zone), period.start)
        hi = min(datetime.combine(day, close_at, zone), period.end)
        total += max(0.0, (hi - lo).total_seconds())
    return total
