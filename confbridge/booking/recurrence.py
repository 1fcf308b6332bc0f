"""RRULE validation and expansion in the organiser's time zone (python-dateutil does the expanding).

Series are expanded from a zone-aware DTSTART, so wall-clock times hold across DST: a 07:30 meeting in
Europe/Berlin stays at 07:30 local in summer and winter (its UTC instant moves).  Every series must end
(COUNT or UNTIL) inside the booking horizon, so every occurrence is materialised and conflict-checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from confbridge.errors import InvalidInput

ALLOWED_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_RRULE_LINE = re.compile(r"^[A-Z0-9=;,+\-]+$")


def normalise_rrule(text: str, zone: ZoneInfo) -> str:
    """Validate an RRULE (with or without the ``RRULE:`` prefix) and return it in canonical form.

    ``UNTIL`` given as a local date or date-time is converted to the UTC form RFC 5545 requires when
    DTSTART carries a TZID (a date means "until the end of that day" in the meeting's zone).
    """
    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    raw = raw.upper()
    if not raw or not _RRULE_LINE.match(raw):
        raise InvalidInput("invalid recurrence rule", {"rrule": "not an RFC 5545 RRULE"})
    parts: dict[str, str] = {}
    for piece in raw.split(";"):
        key, sep, value = piece.partition("=")
        if not sep or not value or key in parts:
            raise InvalidInput("invalid recurrence rule", {"rrule": f"malformed part {piece!r}"})
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise InvalidInput(
            "invalid recurrence rule", {"rrule": "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"}
        )
    if "DTSTART" in parts:
        raise InvalidInput("invalid recurrence rule", {"rrule": "DTSTART is given by the start field"})
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidInput("invalid recurrence rule", {"rrule": "COUNT and UNTIL cannot both be set"})
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise InvalidInput(
            "the series must end", {"rrule": "add an end date (UNTIL) or a number of occurrences (COUNT)"}
        )
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_utc(parts["UNTIL"], zone)
    canonical = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(canonical, dtstart=datetime(2026, 1, 5, 7, 30, tzinfo=zone))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid recurrence rule", {"rrule": str(exc)}) from None
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
    except ValueError:
        raise InvalidInput("invalid recurrence rule", {"rrule": f"bad UNTIL value {value!r}"}) from None
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def expand(
    start: datetime, zone: ZoneInfo, rule: str | None, exdates: Iterable[datetime] = (),
    limit: int | None = None,
) -> list[datetime]:
    """Occurrence starts (aware UTC) of a series whose first start is *start* (aware, any zone).

    Without a rule the single start is returned.  ``limit`` stops early (count guard): one more than the
    limit is returned at most, so callers can tell "too many".
    """
    first_local = start.astimezone(zone)
    if not rule:
        return [start.astimezone(UTC)]
    excluded = {e.astimezone(UTC) for e in exdates}
    recurrence: rrule = rrulestr(rule, dtstart=first_local)  # type: ignore[assignment]
    out: list[datetime] = []
    for local in recurrence:
        # dateutil keeps the wall-clock time and the tzinfo; fold/gap resolution is zoneinfo's.
        instant = local.replace(tzinfo=zone).astimezone(UTC)
        if instant in excluded:
            continue
        out.append(instant)
        if limit is not None and len(out) > limit:
            break
    return out
