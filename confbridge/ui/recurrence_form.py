"""The recurrence builder: the form's plain choices ("every Monday", "every weekday", "first Monday of
the month", until a date or N times, skip dates) turned into an RFC 5545 RRULE and back into choices.

Pure functions: no request, no database.  Expansion and validation of the rule itself are the booking
service's (``confbridge.booking.recurrence``); this module only writes the rule a person asked for.  The
words for a rule are ``confbridge.booking.describe`` (one description for the page, the mail and the ICS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
REPEAT_KINDS = ("none", "daily", "weekdays", "weekly", "monthly_nth")
NTH_VALUES = (1, 2, 3, 4, -1)


@dataclass
class RecurrenceChoice:
    kind: str = "none"
    weekdays: list[str] = field(default_factory=list)  # for "weekly": MO..SU
    nth: int = 1  # for "monthly_nth": 1..4, -1 = last
    nth_weekday: str = "MO"
    end_kind: str = "count"  # "count" | "until"
    count: int | None = 10
    until: date | None = None
    skip_dates: list[date] = field(default_factory=list)


def weekday_names() -> dict[str, str]:
    return {
        "MO": _("Thứ Hai"), "TU": _("Thứ Ba"), "WE": _("Thứ Tư"), "TH": _("Thứ Năm"),
        "FR": _("Thứ Sáu"), "SA": _("Thứ Bảy"), "SU": _("Chủ Nhật"),
    }


def nth_names() -> dict[int, str]:
    return {1: _("đầu tiên"), 2: _("thứ hai"), 3: _("thứ ba"), 4: _("thứ tư"), -1: _("cuối cùng")}


def build_rrule(choice: RecurrenceChoice, first_day: date) -> tuple[str | None, dict[str, str]]:
    """(RRULE or None for a one-off, field errors).  ``first_day`` supplies defaults (its weekday)."""
    errors: dict[str, str] = {}
    if choice.kind not in REPEAT_KINDS:
        return None, {"repeat": _("Kiểu lặp không hợp lệ.")}
    if choice.kind == "none":
        return None, errors
    parts: list[str]
    if choice.kind == "daily":
        parts = ["FREQ=DAILY"]
    elif choice.kind == "weekdays":
        parts = ["FREQ=WEEKLY", "BYDAY=MO,TU,WE,TH,FR"]
    elif choice.kind == "weekly":
        days = [d for d in WEEKDAYS if d in choice.weekdays] or [WEEKDAYS[first_day.weekday()]]
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(days)]
    else:
        if choice.nth not in NTH_VALUES:
            errors["nth"] = _("Chọn tuần trong tháng.")
        if choice.nth_weekday not in WEEKDAYS:
            errors["nth_weekday"] = _("Chọn thứ trong tuần.")
        parts = ["FREQ=MONTHLY", f"BYDAY={choice.nth}{choice.nth_weekday}"]
    if choice.end_kind == "until":
        if choice.until is None:
            errors["until"] = _("Nhập ngày kết thúc (dd/mm/yyyy).")
        elif choice.until < first_day:
            errors["until"] = _("Ngày kết thúc phải sau ngày bắt đầu.")
        else:
            # A local date: the booking service reads it as "until the end of that day" in the zone.
            parts.append(f"UNTIL={choice.until:%Y%m%d}")
    else:
        if choice.count is None or not 1 <= choice.count <= 400:
            errors["count"] = _("Số buổi từ 1 đến 400.")
        else:
            parts.append(f"COUNT={choice.count}")
    return (";".join(parts) if not errors else None), errors


def skip_instants(choice: RecurrenceChoice, start_time: time, zone: ZoneInfo) -> list[datetime]:
    """The skipped days as the occurrence starts they remove (EXDATE), at the series' start time."""
    return [datetime.combine(d, start_time, tzinfo=zone) for d in choice.skip_dates]


def choice_from_rrule(rule: str | None, exdates: list[datetime], zone: ZoneInfo) -> RecurrenceChoice:
    """Best effort inverse for the edit form: the builder's choice that wrote *rule*."""
    if not rule:
        return RecurrenceChoice(kind="none")
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    choice = RecurrenceChoice(skip_dates=[e.astimezone(zone).date() for e in exdates])
    freq, byday = parts.get("FREQ"), parts.get("BYDAY", "")
    if freq == "DAILY":
        choice.kind = "daily"
    elif freq == "WEEKLY" and byday == "MO,TU,WE,TH,FR":
        choice.kind = "weekdays"
    elif freq == "WEEKLY":
        choice.kind, choice.weekdays = "weekly", [d for d in byday.split(",") if d in WEEKDAYS]
    elif freq == "MONTHLY" and byday:
        choice.kind = "monthly_nth"
        choice.nth_weekday = byday[-2:]
        try:
            choice.nth = int(byday[:-2] or "1")
        except ValueError:
            choice.nth = 1
    if "COUNT" in parts:
        choice.end_kind, choice.count = "count", int(parts["COUNT"])
    elif "UNTIL" in parts:
        raw = parts["UNTIL"]
        if raw.endswith("Z"):
            utc = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
            until = utc.astimezone(zone).date()
        else:
            until = datetime.strptime(raw[:8], "%Y%m%d").date()
        choice.end_kind, choice.until, choice.count = "until", until, None
    return choice
