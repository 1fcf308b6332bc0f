"""A series in words, in the reader's language: "Hằng tuần vào Thứ Hai lúc 07:30, 12 buổi" /
"Every week on Monday at 07:30, 12 occurrences".

The one description of a recurrence rule, used wherever a person reads it: the meeting page, the booking
form (its summary and its invitation preview), the invitation e-mail and the iCalendar DESCRIPTION.  It
reads the stored RRULE (never the form's choices), so what the page says is what the mail says.

Every rule the booking service accepts (``recurrence.normalise_rrule``: FREQ DAILY/WEEKLY/MONTHLY/YEARLY
with any BYxxx part, INTERVAL, WKST, COUNT or UNTIL) is described: the common shapes in the page's own
words, anything else as "every <period> at <time>" followed by one clause per BYxxx part.  Parts the rule
leaves out take the series' start, as RFC 5545 (and dateutil, which expands our series) prescribe: a
weekly rule without BYDAY repeats on the start's weekday, a monthly one on the start's day of the month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from itertools import product
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from confbridge.i18n import N_, translate

if TYPE_CHECKING:
    from confbridge.booking.models import Meeting

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKING_DAYS = ["MO", "TU", "WE", "TH", "FR"]
WEEKDAY_NAMES = {
    "MO": N_("Thứ Hai"), "TU": N_("Thứ Ba"), "WE": N_("Thứ Tư"), "TH": N_("Thứ Năm"),
    "FR": N_("Thứ Sáu"), "SA": N_("Thứ Bảy"), "SU": N_("Chủ Nhật"),
}
NTH_NAMES = {1: N_("đầu tiên"), 2: N_("thứ hai"), 3: N_("thứ ba"), 4: N_("thứ tư"), -1: N_("cuối cùng")}

ONCE = N_("Một lần, lúc %(time)s")
DAILY = N_("Hằng ngày lúc %(time)s")
WORKING_WEEK = N_("Mọi ngày làm việc (Thứ Hai – Thứ Sáu) lúc %(time)s")
WEEKLY_ON = N_("Hằng tuần vào %(days)s lúc %(time)s")
MONTHLY_NTH = N_("%(weekday)s %(nth)s của mỗi tháng lúc %(time)s")
UNTIL = N_("đến hết ngày %(date)s")
COUNT = N_("%(count)d buổi")
SKIPPING = N_("bỏ qua %(dates)s")

# The general form: "<period> at <times>", then one clause per BYxxx part.
EVERY = {
    "DAILY": (N_("Hằng ngày"), N_("Cách %(n)d ngày một lần")),
    "WEEKLY": (N_("Hằng tuần"), N_("Cách %(n)d tuần một lần")),
    "MONTHLY": (N_("Hằng tháng"), N_("Cách %(n)d tháng một lần")),
    "YEARLY": (N_("Hằng năm"), N_("Cách %(n)d năm một lần")),
}
AT_TIMES = N_("%(period)s lúc %(time)s")
ON_WEEKDAYS = N_("vào %(days)s")
ON_MONTH_DAYS = N_("vào ngày %(days)s trong tháng")
IN_MONTHS = N_("trong tháng %(months)s")
ON_YEAR_DAYS = N_("vào ngày %(days)s trong năm")
IN_WEEKS = N_("trong tuần %(weeks)s của năm")
NTH_OF_SET = N_("chỉ lần thứ %(positions)s trong mỗi kỳ")
WEEKDAY_NTH = N_("%(weekday)s %(nth)s")
NTH_NUMBER = N_("thứ %(n)d")
NTH_FROM_END = N_("thứ %(n)d tính từ cuối")
LAST_DAY = N_("cuối")
DAY_FROM_END = N_("thứ %(n)d tính từ cuối")
AND = N_("%(items)s và %(last)s")


def parse_rule(rule: str) -> dict[str, str]:
    """``FREQ=WEEKLY;BYDAY=MO`` (with or without ``RRULE:``) as its parts, keys upper-case."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        key, sep, value = piece.partition("=")
        if sep:
            parts[key.strip().upper()] = value.strip().upper()
    return parts


def _ints(value: str | None) -> list[int]:
    return [int(v) for v in (value or "").split(",") if v.strip().lstrip("+-").isdigit()]


def _byday(value: str | None) -> list[tuple[int | None, str]]:
    """``"1MO,-1FR,WE"`` → ``[(1, "MO"), (-1, "FR"), (None, "WE")]``."""
    out: list[tuple[int | None, str]] = []
    for item in (value or "").split(","):
        item = item.strip()
        code, nth = item[-2:], item[:-2]
        if code in WEEKDAYS:
            out.append((int(nth) if nth.lstrip("+-").isdigit() else None, code))
    return out


def _nth(locale: str | None, n: int) -> str:
    if n in NTH_NAMES:
        return translate(locale, NTH_NAMES[n])
    return translate(locale, NTH_NUMBER if n > 0 else NTH_FROM_END, n=abs(n))


def _weekday(locale: str | None, nth: int | None, code: str) -> str:
    name = translate(locale, WEEKDAY_NAMES[code])
    if nth is None:
        return name
    return translate(locale, WEEKDAY_NTH, weekday=name, nth=_nth(locale, nth))


def _month_day(locale: str | None, day: int) -> str:
    if day > 0:
        return str(day)
    return translate(locale, LAST_DAY) if day == -1 else translate(locale, DAY_FROM_END, n=-day)


def _join(locale: str | None, items: list[str]) -> str:
    """"1, 2 và 3": a list inside a clause, so the clauses' own commas stay unambiguous."""
    if len(items) < 2:
        return "".join(items)
    return translate(locale, AND, items=", ".join(items[:-1]), last=items[-1])


def _until_date(value: str, zone: ZoneInfo) -> date | None:
    try:
        if value.endswith("Z"):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).astimezone(zone).date()
        return datetime.strptime(value[:8], "%Y%m%d").date()  # a local date or date-time
    except ValueError:
        return None


def describe_series(
    rrule: str | None, start: datetime, zone: ZoneInfo, locale: str | None,
    exdates: Iterable[datetime] = (),
) -> str:
    """The series starting at *start* (aware) in words, in *locale*, times and dates in *zone*.

    *exdates* are the skipped occurrences (aware instants) the description names at its end.
    """
    first = start.astimezone(zone)
    if not rrule:
        return translate(locale, ONCE, time=f"{first:%H:%M}")
    parts = parse_rule(rrule)
    text = _pattern(parts, first, locale)
    if "UNTIL" in parts:
        until = _until_date(parts["UNTIL"], zone)
        if until is not None:
            text += ", " + translate(locale, UNTIL, date=f"{until:%d/%m/%Y}")
    elif "COUNT" in parts and parts["COUNT"].isdigit():
        text += ", " + translate(locale, COUNT, count=int(parts["COUNT"]))
    # Stored EXDATEs without an offset are UTC (see ``ics.exdates_of``).
    skipped = sorted({(e if e.tzinfo else e.replace(tzinfo=UTC)).astimezone(zone).date() for e in exdates})
    if skipped:
        text += ", " + translate(locale, SKIPPING, dates=", ".join(f"{d:%d/%m/%Y}" for d in skipped))
    return text


def describe_meeting(meeting: Meeting, locale: str | None) -> str:
    """A booked meeting's repetition in words: its rule from its first start, its skipped days."""
    skipped = [datetime.fromisoformat(text) for text in meeting.exdates or []]
    return describe_series(meeting.rrule, meeting.start, ZoneInfo(meeting.timezone), locale, skipped)


def _pattern(parts: dict[str, str], first: datetime, locale: str | None) -> str:
    """The repeating pattern and its times, without the end."""
    freq = parts.get("FREQ", "DAILY")
    if freq not in EVERY:
        freq = "DAILY"
    interval = (_ints(parts.get("INTERVAL")) or [1])[0]
    hours = _ints(parts.get("BYHOUR")) or [first.hour]
    minutes = _ints(parts.get("BYMINUTE")) or [first.minute]
    at = _join(locale, [f"{h:02d}:{m:02d}" for h, m in sorted(product(hours, minutes))])
    byday = _byday(parts.get("BYDAY"))
    month_days = _ints(parts.get("BYMONTHDAY"))
    months = _ints(parts.get("BYMONTH"))
    year_days, weeks, positions = (_ints(parts.get(k)) for k in ("BYYEARDAY", "BYWEEKNO", "BYSETPOS"))
    # What the rule leaves out comes from the start (RFC 5545 §3.3.10; dateutil does the same).
    if not (byday or month_days or year_days or weeks):
        if freq == "WEEKLY":
            byday = [(None, WEEKDAYS[first.weekday()])]
        elif freq == "MONTHLY":
            month_days = [first.day]
        elif freq == "YEARLY":
            month_days, months = [first.day], months or [first.month]
    filters = bool(month_days or months or year_days or weeks or positions)
    if interval == 1 and not filters:
        if freq == "DAILY" and not byday:
            return translate(locale, DAILY, time=at)
        if freq == "WEEKLY" and all(nth is None for nth, _ in byday):
            codes = [code for code in WEEKDAYS if code in {c for _, c in byday}]
            if codes == WORKING_DAYS:
                return translate(locale, WORKING_WEEK, time=at)
            days = ", ".join(translate(locale, WEEKDAY_NAMES[c]) for c in codes)
            return translate(locale, WEEKLY_ON, days=days, time=at)
        if freq == "MONTHLY" and len(byday) == 1 and byday[0][0] is not None:
            nth, code = byday[0]
            return translate(locale, MONTHLY_NTH, weekday=translate(locale, WEEKDAY_NAMES[code]),
                             nth=_nth(locale, nth or 1), time=at)
    once, every_n = EVERY[freq]
    period = translate(locale, once) if interval == 1 else translate(locale, every_n, n=interval)
    def listed(values: list[str]) -> str:
        return _join(locale, values)

    clauses = [translate(locale, AT_TIMES, period=period, time=at)]
    if months:
        clauses.append(translate(locale, IN_MONTHS, months=listed([str(m) for m in months])))
    if weeks:
        clauses.append(translate(locale, IN_WEEKS, weeks=listed([str(w) for w in weeks])))
    if year_days:
        clauses.append(translate(locale, ON_YEAR_DAYS, days=listed([_month_day(locale, d) for d in year_days])))
    if month_days:
        clauses.append(translate(locale, ON_MONTH_DAYS, days=listed([_month_day(locale, d) for d in month_days])))
    if byday:
        clauses.append(translate(locale, ON_WEEKDAYS, days=listed([_weekday(locale, n, c) for n, c in byday])))
    if positions:
        clauses.append(translate(locale, NTH_OF_SET, positions=listed([_nth(locale, p) for p in positions])))
    return ", ".join(clauses)
