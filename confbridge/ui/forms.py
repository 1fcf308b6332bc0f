"""Parse the booking form: keep what was typed (to show it again), turn it into a ``MeetingInput``,
and collect field errors in the user's language.  CSRF is checked for every POST by
``confbridge.api.common`` (``csrf.protect()``); templates carry ``csrf_token()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from confbridge.booking.models import Meeting
from confbridge.booking.validation import MeetingInput
from confbridge.ui.format import parse_date, parse_time
from confbridge.ui.recurrence_form import (
    RecurrenceChoice,
    build_rrule,
    choice_from_rrule,
    skip_instants,
)

PIN_RE = re.compile(r"^[0-9]{4,16}$")
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
            pin=self.get("pin").strip() or None,
        )

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
        if not m or not email or "@" not in email or email.startswith("@") or "." not in email.split("@")[-1]:
            bad.append(chunk.strip())
            continue
        pairs.append((email, (m.group("name") or "").strip().strip('"')))
    return pairs, bad


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


def parse_booking_form(form: MultiDict[str, str], zone: ZoneInfo) -> BookingForm:
    bf = BookingForm(values=form, zone=zone)
    errors = bf.errors
    if not form.get("title", "").strip():
        errors["title"] = _("Nhập tên cuộc họp.")
    elif len(form.get("title", "")) > 200:
        errors["title"] = _("Tên cuộc họp tối đa 200 ký tự.")
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
    if not 5 <= duration <= 12 * 60:
        errors["duration"] = _("Thời lượng từ 5 phút đến 12 giờ.")
    setup_raw = form.get("setup_minutes", "").strip()
    if setup_raw and (not setup_raw.isdigit() or int(setup_raw) > 240):
        errors["setup_minutes"] = _("Thời gian chuẩn bị từ 0 đến 240 phút.")
    pin = form.get("pin", "").strip()
    if pin and not PIN_RE.match(pin):
        errors["pin"] = _("Mã PIN gồm 4 đến 16 chữ số.")
    ids = [int(v) for v in form.getlist("endpoint_ids") if v.isdigit()]
    bf.endpoint_ids = list(dict.fromkeys(ids))
    if not bf.endpoint_ids:
        errors["endpoint_ids"] = _("Chọn ít nhất một điểm cầu.")
    host = form.get("host_endpoint_id", "")
    if host.isdigit() and int(host) not in bf.endpoint_ids:
        errors["host_endpoint_id"] = _("Điểm cầu chính phải nằm trong các điểm cầu đã chọn.")
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
        bf.rrule, rule_errors = build_rrule(choice, day)
        errors.update(rule_errors)
        bf.exdates = skip_instants(choice, start_time, zone)
    return bf


# Service field names → form field names, for the errors the service finds (dates in the past, …).
SERVICE_FIELDS = {
    "start": "date", "end": "duration", "rrule": "repeat", "endpoint_ids": "endpoint_ids", "title": "title",
    "pin": "pin", "setup_minutes": "setup_minutes", "host_endpoint_id": "host_endpoint_id",
    "description": "description", "timezone": "date", "bridge_name": "endpoint_ids",
}


def service_errors(fields: dict[str, str]) -> dict[str, str]:
    """Place the service's field errors on the form's fields, in the user's language where known."""
    known = {
        "the meeting would already be over": _("Thời gian này đã qua."),
        "required": _("Bắt buộc."),
        "4 to 16 digits": _("Mã PIN gồm 4 đến 16 chữ số."),
        "choose at least one endpoint": _("Chọn ít nhất một điểm cầu."),
        "the rule produces no occurrence": _("Quy tắc lặp không tạo ra buổi nào."),
    }
    out: dict[str, str] = {}
    for key, message in fields.items():
        target = "attendees" if key.startswith("attendees") else SERVICE_FIELDS.get(key.split(".")[0], "form")
        text = known.get(message)
        days = re.search(r"\d+", message)
        if text is None and message.startswith("bookings are accepted up to") and days:
            text = _("Chỉ nhận đặt lịch trong vòng %(days)s ngày tới.", days=days.group(0))
        out[target] = text or message
    return out


def form_from_meeting(meeting: Meeting, zone: ZoneInfo) -> MultiDict[str, str]:
    """The edit form's initial values for a whole series."""
    local = meeting.start.astimezone(ZoneInfo(meeting.timezone))
    choice = choice_from_rrule(meeting.rrule, [datetime.fromisoformat(e) for e in meeting.exdates],
                               ZoneInfo(meeting.timezone))
    items: list[tuple[str, Any]] = [
        ("title", meeting.title), ("description", meeting.description), ("date", f"{local:%d/%m/%Y}"),
        ("start_time", f"{local:%H:%M}"), ("duration", str(int(meeting.duration.total_seconds() // 60))),
        ("setup_minutes", str(meeting.setup_minutes)), ("pin", meeting.pin or ""),
        ("host_endpoint_id", str(meeting.host_endpoint_id or "")),
        ("attendees", "\n".join(f"{a.name} <{a.email}>" if a.name else a.email for a in meeting.attendees)),
        ("repeat", choice.kind), ("nth", str(choice.nth)), ("nth_weekday", choice.nth_weekday),
        ("end_kind", choice.end_kind), ("count", str(choice.count or "")),
        ("until", f"{choice.until:%d/%m/%Y}" if choice.until else ""),
        ("skip_dates", ", ".join(f"{d:%d/%m/%Y}" for d in choice.skip_dates)),
    ]
    items += [("endpoint_ids", str(e.id)) for e in meeting.endpoints]
    items += [("weekdays", d) for d in choice.weekdays]
    return MultiDict(items)
