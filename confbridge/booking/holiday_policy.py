"""The public-holiday rule of bookings (``[booking] holidays``, the ``holidays`` package's calendar).

- A series skips its occurrences that fall on a public holiday (in the series' own zone): they become
  EXDATEs of the meeting, so invitations, feeds and the calendar agree.  ``on_holidays = "keep"`` books
  them anyway.  A series made only of holidays is refused (``rrule``/``only_holidays``).
- A one-off meeting (or a kept occurrence) on a holiday is allowed, with a warning the edge shows.

The rule decides on dates; the words (holiday names in the reader's language, the warning) are made by
:func:`holiday_notes` for the response.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from confbridge.booking import recurrence
from confbridge.booking.holidays import holiday_exdates, holiday_name, is_public_holiday
from confbridge.booking.models import Meeting, OccurrenceStatus
from confbridge.booking.validation import CheckedMeeting
from confbridge.errors import FieldError, InvalidInput
from confbridge.i18n import N_, translate
from confbridge.settings import Settings

SKIP, KEEP = "skip", "keep"
CHOICES = (SKIP, KEEP)
WARNING_CODE = "public_holiday"
SKIPPED = N_("Buổi ngày %(date)s (%(name)s) rơi vào ngày nghỉ lễ và sẽ được bỏ qua.")
WARNING = N_("Ngày %(date)s là ngày nghỉ lễ (%(name)s): nhiều điểm cầu có thể không có người trực.")


def check_choice(value: str | None) -> str:
    """``on_holidays``: "skip" (default) or "keep"."""
    choice = SKIP if value is None else value
    if choice not in CHOICES:
        raise InvalidInput.of([FieldError.of("on_holidays", "one_of", choices=", ".join(CHOICES))])
    return choice


def skip_holidays(settings: Settings, checked: CheckedMeeting, on_holidays: str) -> list[datetime]:
    """Drop a series' occurrences on a public holiday from *checked* (they become EXDATEs) before the
    conflict check; returns the skipped starts (aware UTC).  One-offs and ``keep`` change nothing."""
    country = settings.booking.holidays
    if not country or on_holidays != SKIP or not checked.rrule:
        return []
    zone = checked.zone
    skipped = [s for s in checked.starts if is_public_holiday(s.astimezone(zone).date(), country)]
    if not skipped:
        return []
    if len(skipped) == len(checked.starts):
        raise InvalidInput.of([FieldError.of("rrule", "only_holidays")])
    gone = set(skipped)
    checked.starts = [s for s in checked.starts if s not in gone]
    checked.exdates = [*checked.exdates, *skipped]
    return skipped


def exdates_without_holidays(settings: Settings, meeting: Meeting) -> list[datetime]:
    """The meeting's EXDATEs minus those on a holiday: switching a series from "skip" to "keep"."""
    country = settings.booking.holidays
    zone = ZoneInfo(meeting.timezone)
    out = []
    for text in meeting.exdates or []:
        instant = datetime.fromisoformat(text)
        instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        if not country or not is_public_holiday(instant.astimezone(zone).date(), country):
            out.append(instant)
    return out


def _day(instant: datetime, zone: ZoneInfo) -> date:
    moment = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def holiday_notes(settings: Settings, meeting: Meeting, locale: str) -> dict[str, Any]:
    """``skipped_holidays`` (EXDATEs of a skipping series on a holiday) and ``warnings`` (planned
    occurrences on a holiday), holiday names and messages in *locale*."""
    country = settings.booking.holidays
    skipped: list[dict[str, str]] = []
    if not country:
        return {"skipped_holidays": skipped, "warnings": []}
    zone = ZoneInfo(meeting.timezone)
    if meeting.rrule and meeting.on_holidays == SKIP:
        for day in sorted({_day(datetime.fromisoformat(e), zone) for e in meeting.exdates or []}):
            name = holiday_name(day, country, locale)
            if name:
                skipped.append({"date": day.isoformat(), "name": name})
    days = {_day(o.start, zone) for o in meeting.occurrences if o.status == OccurrenceStatus.PLANNED}
    return {"skipped_holidays": skipped, "warnings": day_warnings(settings, days, locale)}


def day_warnings(settings: Settings, days: Iterable[date], locale: str) -> list[dict[str, str]]:
    """A ``public_holiday`` warning for each of *days* that is a public holiday."""
    country = settings.booking.holidays
    warnings: list[dict[str, str]] = []
    for day in sorted(set(days)) if country else []:
        name = holiday_name(day, country, locale)
        if name:
            warnings.append({"code": WARNING_CODE, "date": day.isoformat(), "name": name,
                             "message": translate(locale, WARNING, date=f"{day:%d/%m/%Y}", name=name)})
    return warnings


def form_notes(settings: Settings, start: datetime, zone: ZoneInfo, rule: str | None,
               exdates: Iterable[datetime], locale: str) -> list[str]:
    """The booking form's words: the holidays a series will skip, or the warning for a one-off."""
    country = settings.booking.holidays
    if not country:
        return []
    if not rule:
        return [w["message"] for w in day_warnings(settings, [start.astimezone(zone).date()], locale)]
    skipped = series_skips(settings, start, zone, rule, exdates)
    out = []
    for instant in skipped:
        day = instant.astimezone(zone).date()
        out.append(translate(locale, SKIPPED, date=f"{day:%d/%m/%Y}", name=holiday_name(day, country, locale) or ""))
    return out


def series_skips(settings: Settings, start: datetime, zone: ZoneInfo, rule: str | None,
                 exdates: Iterable[datetime]) -> list[datetime]:
    """The starts (aware UTC) a "skip" series made of *rule* leaves out for being public holidays."""
    country = settings.booking.holidays
    if not country or not rule:
        return []
    try:
        return holiday_exdates(start, zone, recurrence.normalise_rrule(rule, zone), exdates, country)
    except InvalidInput:
        return []
