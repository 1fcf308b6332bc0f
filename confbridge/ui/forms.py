"""Parse the booking form: keep what was typed (to show it again), turn it into a ``MeetingInput``,
and collect field errors in the user's language.  CSRF is checked for every POST by
``confbridge.api.common`` (``csrf.protect()``); templates carry ``csrf_token()``.

The form only parses text ("is this a date?").  Booking rules (title length, duration against
``booking.max_duration_hours``, setup, PIN, endpoints) are the booking service's
(``confbridge.booking.validation``): the form runs them on what it parsed and shows their messages,
placed on its fields by field name and code, never by their wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from confbridge import limits
from confbridge.booking.models import Meeting
from confbridge.booking.validation import MeetingInput, check_basics, check_external_participants
from confbridge.errors import FieldError
from confbridge.settings import Settings
from confbridge.text import valid_email
from confbridge.ui.format import parse_date, parse_time
from confbridge.ui.recurrence_form import (
    RecurrenceChoice,
    build_rrule,
    choice_from_rrule,
    skip_instants,
)

_ADDRESS = re.compile(r"^\s*(?:(?P<name>[^<>]*?)\s*<(?P<angle>[^<>\s]+)>|(?P<plain>[^<>\s]+))\s*$")
DURATION_CHOICES = (30, 45, 60, 90, 120, 150, 180, 240)


@dataclass
class BookingForm:
    values: MultiDict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    endpoint_ids: list[int] = field(default_factory=list)
    recurrence: RecurrenceChoice = field(default_factory=RecurrenceChoice)
    rrule: str | None = None
    exdates: list[datetime] = field(default_factory=list)
    attendees: list[tuple[str, str]] = field(default_factory=list)
    # External participants as the rows of the form (blank rows dropped, in the order typed).
    externals: list[dict[str, Any]] = field(default_factory=list)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.values.getlist(name)

    @property
    def duration(self) -> timedelta | None:
        return self.end - self.start if self.start and self.end else None

    def to_input(self) -> MeetingInput:
        assert self.start is not None and self.end is not None
        host = self.values.get("host_endpoint_id", "")
        return MeetingInput(
            title=self.get("title"), description=self.get("description"), start=self.start, end=self.end,
            endpoint_ids=self.endpoint_ids, timezone=self.zone.key,
            host_endpoint_id=int(host) if host.isdigit() else None, attendees=self.attendees,
            rrule=self.rrule, exdates=self.exdates, setup_minutes=self._int("setup_minutes"),
            pin=self.get("pin").strip() or None, join_muted=self.get("join_muted") == "1",
            external_participants=self.externals,
        )

    @property
    def external_rows(self) -> int:
        """How many external-participant rows the form shows: those filled in and two blank ones."""
        filled = sum(1 for i in range(limits.MAX_EXTERNAL_PARTICIPANTS + 2)
                     if self.get(f"ext_name_{i}") or self.get(f"ext_address_{i}"))
        return min(limits.MAX_EXTERNAL_PARTICIPANTS, filled + 2)

    def external(self, row: int, key: str) -> str:
        return self.get(f"ext_{key}_{row}")

    def _int(self, name: str) -> int | None:
        raw = self.get(name).strip()
        return int(raw) if raw.isdigit() else None


def parse_attendees(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """'a@x.vn, Nguyễn Văn A <b@x.vn>' (commas, semicolons or lines) → pairs, and the bad entries."""
    pairs: list[tuple[str, str]] = []
    bad: list[str] = []
    for chunk in re.split(r"[,;\n]", text):
        if not chunk.strip():
            continue
        m = _ADDRESS.match(chunk)
        email = (m.group("angle") or m.group("plain")) if m else None
        if not m or not email or not valid_email(email):
            bad.append(chunk.strip())
            continue
        pairs.append((email, (m.group("name") or "").strip().strip('"')))
    return pairs, bad


def parse_externals(form: MultiDict[str, str]) -> tuple[list[dict[str, Any]], MultiDict[str, str]]:
    """The external-participant rows (``ext_name_<i>``, ``ext_address_<i>``, ``ext_protocol_<i>``,
    ``ext_uplink_<i>``) without the blank ones, and the form with those rows renumbered 0, 1, … so that
    row *i* is list item *i* (the rules' errors name ``external_participants.<i>``)."""
    rows: list[dict[str, Any]] = []
    for i in range(limits.MAX_EXTERNAL_PARTICIPANTS + 2):
        name, address = form.get(f"ext_name_{i}", "").strip(), form.get(f"ext_address_{i}", "").strip()
        if not name and not address:
            continue
        rows.append({"name": name, "address": address, "protocol": form.get(f"ext_protocol_{i}", "sip"),
                     "uplink": form.get(f"ext_uplink_{i}") == "1"})
    items = [(k, v) for k, v in form.items(multi=True) if not k.startswith("ext_")]
    for i, row in enumerate(rows):
        items += [(f"ext_name_{i}", row["name"]), (f"ext_address_{i}", row["address"]),
                  (f"ext_protocol_{i}", row["protocol"])]
        if row["uplink"]:
            items.append((f"ext_uplink_{i}", "1"))
    return rows, MultiDict(items)


def _parse_dates(text: str) -> tuple[list[date], list[str]]:
    days: list[date] = []
    bad: list[str] = []
    for chunk in re.split(r"[,;\s]+", text):
        if not chunk:
            continue
        try:
            days.append(parse_date(chunk))
        except ValueError:
            bad.append(chunk)
    return sorted(set(days)), bad


def parse_booking_form(form: MultiDict[str, str], zone: ZoneInfo,
                       settings: Settings | None = None) -> BookingForm:
    """Parse *form*; its errors are the parsing errors plus the booking rules' errors for what parsed.

    *settings* are the running app's (the duration limit is ``booking.max_duration_hours``); without
    them, the defaults.
    """
    settings = settings or Settings()
    externals, form = parse_externals(form)
    bf = BookingForm(values=form, zone=zone, externals=externals)
    errors = bf.errors
    rule_errors: list[FieldError] = []
    day: date | None = None
    start_time: time | None = None
    try:
        day = parse_date(form.get("date", ""))
    except ValueError:
        errors["date"] = _("Nhập ngày theo dạng dd/mm/yyyy.")
    try:
        start_time = parse_time(form.get("start_time", ""))
    except ValueError:
        errors["start_time"] = _("Nhập giờ bắt đầu theo dạng 24 giờ, ví dụ 07:30.")
    duration_raw = form.get("duration", "").strip()
    duration = int(duration_raw) if duration_raw.isdigit() else 0
    if not duration:
        rule_errors.append(FieldError.of("end", "too_short", min_minutes=limits.MIN_DURATION_MINUTES))
    setup_raw = form.get("setup_minutes", "").strip()
    if setup_raw and not setup_raw.isdigit():
        rule_errors.append(FieldError.of("setup_minutes", "out_of_range", max_minutes=limits.MAX_SETUP_MINUTES))
    ids = [int(v) for v in form.getlist("endpoint_ids") if v.isdigit()]
    bf.endpoint_ids = list(dict.fromkeys(ids))
    host = form.get("host_endpoint_id", "")
    check_basics(
        settings, title=form.get("title", ""), description=form.get("description", ""),
        duration=timedelta(minutes=duration) if duration else None,
        setup_minutes=int(setup_raw) if setup_raw.isdigit() else None,
        pin=form.get("pin", ""), endpoint_ids=bf.endpoint_ids,
        host_endpoint_id=int(host) if host.isdigit() else None, errors=rule_errors,
    )
    check_external_participants(externals, rule_errors)
    errors.update(service_errors(rule_errors))
    bf.attendees, bad = parse_attendees(form.get("attendees", ""))
    if bad:
        errors["attendees"] = _("Địa chỉ e-mail không hợp lệ: %(list)s", list=", ".join(bad[:5]))

    choice = RecurrenceChoice(kind=form.get("repeat", "none"))
    choice.weekdays = form.getlist("weekdays")
    nth = form.get("nth", "1")
    choice.nth = int(nth) if nth.lstrip("-").isdigit() else 0
    choice.nth_weekday = form.get("nth_weekday", "MO")
    choice.end_kind = "until" if form.get("end_kind") == "until" else "count"
    count_raw = form.get("count", "").strip()
    choice.count = int(count_raw) if count_raw.isdigit() else None
    if choice.end_kind == "until":
        try:
            choice.until = parse_date(form.get("until", ""))
        except ValueError:
            choice.until = None
    choice.skip_dates, bad_days = _parse_dates(form.get("skip_dates", ""))
    if bad_days:
        errors["skip_dates"] = _("Ngày bỏ qua không hợp lệ: %(list)s (dạng dd/mm/yyyy).",
                                 list=", ".join(bad_days[:5]))
    bf.recurrence = choice
    if day is not None and start_time is not None:
        bf.start = datetime.combine(day, start_time, tzinfo=zone)
        bf.end = bf.start + timedelta(minutes=duration or 60)
        bf.rrule, repeat_errors = build_rrule(choice, day)
        errors.update(repeat_errors)
        bf.exdates = skip_instants(choice, start_time, zone)
    return bf


# Service field names → form field names, for the rules' errors (dates in the past, …).
SERVICE_FIELDS = {
    "start": "date", "end": "duration", "rrule": "repeat", "endpoint_ids": "endpoint_ids", "title": "title",
    "pin": "pin", "setup_minutes": "setup_minutes", "host_endpoint_id": "host_endpoint_id",
    "description": "description", "timezone": "date", "bridge_name": "endpoint_ids", "exdates": "skip_dates",
    "organizer": "organizer", "co_organizers": "co_organizers",
}


def service_errors(errors: list[FieldError]) -> dict[str, str]:
    """Place the booking rules' field errors on the form's fields, in the user's language.

    Placed by field name, worded by code (``FieldError.message``): the same words the API gives."""
    locale = get_locale()
    out: dict[str, str] = {}
    for error in errors:
        key = error.field
        target = "attendees" if key.startswith("attendees") else SERVICE_FIELDS.get(key.split(".")[0], "form")
        if key.startswith("external_participants."):
            target = f"ext_{key.split('.')[1]}"  # one message per row
        elif key == "external_participants":
            target = "externals"
        out.setdefault(target, error.message(str(locale) if locale else None))
    return out


def form_from_meeting(meeting: Meeting, zone: ZoneInfo) -> MultiDict[str, str]:
    """The edit form's initial values for a whole series."""
    local = meeting.start.astimezone(ZoneInfo(meeting.timezone))
    exdates = [datetime.fromisoformat(e) for e in meeting.exdates]
    if meeting.on_holidays == "skip":  # the holidays the rule skips are not the person's own skip dates
        from confbridge.api.common import get_settings
        from confbridge.booking.holiday_policy import exdates_without_holidays

        exdates = exdates_without_holidays(get_settings(), meeting)
    choice = choice_from_rrule(meeting.rrule, exdates, ZoneInfo(meeting.timezone))
    items: list[tuple[str, Any]] = [
        ("title", meeting.title), ("description", meeting.description), ("date", f"{local:%d/%m/%Y}"),
        ("start_time", f"{local:%H:%M}"), ("duration", str(int(meeting.duration.total_seconds() // 60))),
        ("setup_minutes", str(meeting.setup_minutes)), ("pin", meeting.pin or ""),
        ("host_endpoint_id", str(meeting.host_endpoint_id or "")),
        ("join_muted", "1" if meeting.join_muted else ""),
        ("attendees", "\n".join(f"{a.name} <{a.email}>" if a.name else a.email for a in meeting.attendees)),
        ("repeat", choice.kind), ("nth", str(choice.nth)), ("nth_weekday", choice.nth_weekday),
        ("end_kind", choice.end_kind), ("count", str(choice.count or "")),
        ("until", f"{choice.until:%d/%m/%Y}" if choice.until else ""),
        ("skip_dates", ", ".join(f"{d:%d/%m/%Y}" for d in choice.skip_dates)),
    ]
    items += [("endpoint_ids", str(e.id)) for e in meeting.endpoints]
    for i, ext in enumerate(meeting.external_participants or []):
        items += [(f"ext_name_{i}", ext["name"]), (f"ext_address_{i}", ext["address"]),
                  (f"ext_protocol_{i}", ext["protocol"])]
        if ext.get("uplink"):
            items.append((f"ext_uplink_{i}", "1"))
    items += [("weekdays", d) for d in choice.weekdays]
    return MultiDict(items)
