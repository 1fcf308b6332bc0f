"""RRULE validation and expansion in the organiser's time zone (python-dateutil does the expanding).

Series are expanded from DTSTART's wall-clock time in the meeting's zone, so wall-clock times hold across
DST: a 07:30 meeting in Europe/Berlin stays at 07:30 local in summer and winter (its UTC instant moves).
Every series must end (COUNT or UNTIL) inside the booking horizon, so every occurrence is materialised
and conflict-checked.

Cost is bounded, whatever the rule: only the parts the product supports are accepted (FREQ, INTERVAL,
BYDAY, BYSETPOS, BYMONTHDAY, BYMONTH, COUNT, UNTIL, WKST), each value range-checked; rules that can never
match (day 30 of February, the 5th Monday of a weekly rule) are refused outright; and expansion is cut at
an iteration budget.  dateutil walks period by period until year 9999 when a rule stops matching, so the
series is expanded shifted by whole 400-year Gregorian cycles (weekdays and leap years repeat exactly)
to end just before 9999: dateutil's own year limit becomes the budget (at most one cycle past the cut).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import MAXYEAR, UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from confbridge.errors import FieldError, InvalidInput

ALLOWED_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
ALLOWED_PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYSETPOS", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_INTERVAL = 1000
MAX_COUNT = 5000
# Expansion never looks further than this past its start (the horizon is at most 3660 days).
MAX_SPAN = timedelta(days=3660 + 400)
CYCLE_YEARS = 400  # the Gregorian calendar repeats exactly every 400 years
_RRULE_LINE = re.compile(r"^[A-Z0-9=;,+\-]+$")
_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_SIGNED_INT = re.compile(r"^[+-]?\d{1,3}$")


def _invalid(code: str, **params: Any) -> InvalidInput:
    return InvalidInput.of([FieldError.of("rrule", code, **params)])


def _ints(parts: dict[str, str], key: str, low: int, high: int, *, signed: bool) -> list[int]:
    values: list[int] = []
    for item in parts[key].split(","):
        if not _SIGNED_INT.match(item) or (not signed and not item.isdigit()):
            raise _invalid("part_range", part=key, range=f"{'±' if signed else ''}{low}..{high}")
        value = int(item)
        if not low <= abs(value) <= high or (not signed and value < 0):
            raise _invalid("part_range", part=key, range=f"{'±' if signed else ''}{low}..{high}")
        values.append(value)
    return values


def _check_parts(parts: dict[str, str]) -> None:
    """Supported parts only, each value in range, and a rule that can match at all."""
    unknown = [k for k in parts if k not in ALLOWED_PARTS]
    if unknown:
        raise _invalid("unsupported_parts", parts=", ".join(unknown), supported=", ".join(ALLOWED_PARTS))
    freq = parts["FREQ"]
    if "INTERVAL" in parts:
        _ints(parts, "INTERVAL", 1, MAX_INTERVAL, signed=False)
    if "COUNT" in parts:
        _ints(parts, "COUNT", 1, MAX_COUNT, signed=False)
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _invalid("bad_wkst")
    months = _ints(parts, "BYMONTH", 1, 12, signed=False) if "BYMONTH" in parts else list(range(1, 13))
    if "BYMONTHDAY" in parts:
        days = _ints(parts, "BYMONTHDAY", 1, 31, signed=True)
        longest = {m: calendar.monthrange(2024, m)[1] for m in months}  # 2024: February has 29 days
        if not any(abs(d) <= longest[m] for m in months for d in days):
            raise _invalid("no_such_monthday")
    if "BYDAY" in parts:
        ordinal_limit = 53 if freq == "YEARLY" and "BYMONTH" not in parts else 5
        for item in parts["BYDAY"].split(","):
            match = _BYDAY.match(item)
            if not match:
                raise _invalid("bad_byday", value=item[:20])
            if match.group(2) is not None:
                if freq not in ("MONTHLY", "YEARLY"):
                    raise _invalid("numbered_weekday_freq")
                if not 1 <= int(match.group(2)) <= ordinal_limit:
                    raise _invalid("numbered_weekday_range", max=ordinal_limit)
    interval = int(parts.get("INTERVAL", "1"))
    # A filtered rule that steps over days or weeks can drift out of phase with its filter for good
    # (every 7th day from a Monday is never a Tuesday): such rules say the same with another FREQ.
    if interval > 1 and freq == "DAILY" and any(k in parts for k in ("BYDAY", "BYMONTHDAY", "BYMONTH")):
        raise _invalid("daily_interval_filter")
    if interval > 1 and freq == "WEEKLY" and any(k in parts for k in ("BYMONTHDAY", "BYMONTH")):
        raise _invalid("weekly_interval_filter")
    if "BYSETPOS" in parts:
        _ints(parts, "BYSETPOS", 1, 366, signed=True)
        if not any(k in parts for k in ("BYDAY", "BYMONTHDAY", "BYMONTH")):
            raise _invalid("bysetpos_alone")


def normalise_rrule(text: str, zone: ZoneInfo) -> str:
    """Validate an RRULE (with or without the ``RRULE:`` prefix) and return it in canonical form.

    ``UNTIL`` given as a local date or date-time is converted to the UTC form RFC 5545 requires when
    DTSTART carries a TZID (a date means "until the end of that day" in the meeting's zone).
    """
    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    raw = raw.upper()
    if not raw or len(raw) > 500 or not _RRULE_LINE.match(raw):
        raise _invalid("not_rrule")
    parts: dict[str, str] = {}
    for piece in raw.split(";"):
        key, sep, value = piece.partition("=")
        if not sep or not value or key in parts:
            raise _invalid("malformed_part", part=piece[:40])
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise _invalid("bad_freq")
    if "DTSTART" in parts:
        raise _invalid("has_dtstart")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("count_and_until")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise _invalid("no_end")
    _check_parts(parts)
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_utc(parts["UNTIL"], zone)
    canonical = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(canonical, dtstart=datetime(2026, 1, 5, 7, 30, tzinfo=zone))
    except (ValueError, TypeError):
        raise _invalid("not_rrule") from None
    return canonical


def _until_utc(value: str, zone: ZoneInfo) -> str:
    try:
        if value.endswith("Z"):
            instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        elif "T" in value:
            instant = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        else:
            day = datetime.strptime(value, "%Y%m%d").date()
            instant = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
        if not 1970 <= instant.year <= MAXYEAR - 1:
            raise ValueError(value)
        return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    except (ValueError, OverflowError):
        raise _invalid("bad_until", value=value[:40]) from None


def _shift_years(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)  # whole 400-year cycles: Feb 29 stays valid


def expand(
    start: datetime, zone: ZoneInfo, rule: str | None, exdates: Iterable[datetime] = (),
    limit: int | None = None, not_after: datetime | None = None,
) -> list[datetime]:
    """Occurrence starts (aware UTC) of a series whose first start is *start* (aware, any zone).

    Without a rule the single start is returned.  ``limit`` stops early (count guard): one more than the
    limit is returned at most, so callers can tell "too many".  Nothing later than *not_after* (default:
    :data:`MAX_SPAN` after the start) is looked for, except the first occurrence past it, so callers can
    tell "beyond the horizon".
    """
    if not rule:
        return [start.astimezone(UTC)]
    excluded = {e.astimezone(UTC) for e in exdates}
    first_local = start.astimezone(zone).replace(tzinfo=None)
    parts = dict(piece.partition("=")[::2] for piece in rule.split(";"))
    until_local: datetime | None = None
    if "UNTIL" in parts:
        until_utc = datetime.strptime(parts.pop("UNTIL"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        until_local = until_utc.astimezone(zone).replace(tzinfo=None)
    cut_off = (not_after or start + MAX_SPAN).astimezone(zone).replace(tzinfo=None)
    last_year = min(until_local or cut_off, cut_off).year + 1
    shift = max(0, (MAXYEAR - 1 - last_year) // CYCLE_YEARS) * CYCLE_YEARS
    shifted_start = _shift_years(first_local, shift)
    recurrence: rrule = rrulestr(  # type: ignore[assignment]
        ";".join(f"{k}={v}" for k, v in parts.items()), dtstart=shifted_start,
    )
    if until_local is not None:
        recurrence = recurrence.replace(until=_shift_years(until_local, shift))
    out: list[datetime] = []
    for shifted in recurrence:
        local = _shift_years(shifted, -shift)
        # dateutil keeps the wall-clock time; fold/gap resolution is zoneinfo's.
        instant = local.replace(tzinfo=zone).astimezone(UTC)
        if instant in excluded:
            continue
        out.append(instant)
        if (limit is not None and len(out) > limit) or local > cut_off:
            break
    return out
