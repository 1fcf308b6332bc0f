"""Dates and times as the province writes them: dd/mm/yyyy, 24-hour clock, in the viewer's zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from flask_babel import get_locale

from confbridge.ui.i18n import user_zone


def local(instant: datetime, zone: ZoneInfo | None = None) -> datetime:
    """An aware instant in the viewer's zone."""
    return instant.astimezone(zone or user_zone())


def fmt_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")


def fmt_time(value: time | datetime) -> str:
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%H:%M")


def fmt_datetime(value: datetime) -> str:
    v = local(value)
    return v.strftime("%d/%m/%Y %H:%M")


def fmt_weekday(value: date | datetime) -> str:
    """'Thứ Hai' / 'Monday' in the viewer's language."""
    if isinstance(value, datetime):
        value = local(value).date()
    name = babel_format_date(value, "EEEE", locale=str(get_locale() or "vi"))
    return name[:1].upper() + name[1:]


def fmt_range(start: datetime, end: datetime) -> str:
    """'07:15–09:00' on one day, with the date of the end when it falls on another."""
    s, e = local(start), local(end)
    if s.date() == e.date():
        return f"{s:%H:%M}–{e:%H:%M}"
    return f"{s:%H:%M}–{e:%d/%m/%Y %H:%M}"


MIN_YEAR, MAX_YEAR = 1970, 9000


class DateOutOfRange(ValueError):
    """A well-formed date too far away for any meeting (weeks around year 1 or 9999 overflow)."""


def parse_date(text: str) -> date:
    """dd/mm/yyyy (what users type) or yyyy-mm-dd (what <input type=date> sends), years 1970–9000."""
    text = text.strip()
    day = datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else date.fromisoformat(text)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise DateOutOfRange(text)
    return day


def parse_time(text: str) -> time:
    return datetime.strptime(text.strip(), "%H:%M").time()
