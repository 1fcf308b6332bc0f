"""Turn a booking request into checked values, or an InvalidInput that names every bad field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge.auth.service import EMAIL_RE
from confbridge.booking import recurrence
from confbridge.directory.models import Endpoint
from confbridge.errors import InvalidInput
from confbridge.settings import Settings

# Control characters (C0 and DEL); single-line text refuses all, multi-line text allows TAB/LF/CR.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PIN_RE = re.compile(r"^[0-9]{4,16}$")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_ATTENDEES = 500


def check_line(value: str, name: str, fields: dict[str, str], *, max_len: int, required: bool = True) -> str:
    """A single line of user text: trimmed, no control characters, bounded."""
    text = value.strip()
    if required and not text:
        fields[name] = "required"
    elif len(text) > max_len:
        fields[name] = f"at most {max_len} characters"
    elif _CONTROL.search(text):
        fields[name] = "control characters (line breaks, NUL) are not allowed"
    return text


def check_text(value: str, name: str, fields: dict[str, str], *, max_len: int) -> str:
    if len(value) > max_len:
        fields[name] = f"at most {max_len} characters"
    elif _CONTROL_MULTILINE.search(value):
        fields[name] = "control characters (NUL and the like) are not allowed"
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check_zone(name: str | None, default: str, fields: dict[str, str]) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        fields["timezone"] = f"unknown time zone {name!r}"
        return ZoneInfo(default)


@dataclass
class MeetingInput:
    """A meeting as requested (aware datetimes, ids), before it is checked."""

    title: str
    start: datetime
    end: datetime
    endpoint_ids: list[int]
    description: str = ""
    timezone: str | None = None
    host_endpoint_id: int | None = None
    attendees: list[tuple[str, str]] = field(default_factory=list)
    rrule: str | None = None
    exdates: list[datetime] = field(default_factory=list)
    setup_minutes: int | None = None
    pin: str | None = None
    bridge_name: str | None = None


@dataclass
class CheckedMeeting:
    title: str
    description: str
    start: datetime
    end: datetime
    zone: ZoneInfo
    endpoints: list[Endpoint]
    host_endpoint_id: int | None
    attendees: list[tuple[str, str]]
    rrule: str | None
    exdates: list[datetime]
    setup_minutes: int
    pin: str | None
    bridge_name: str | None
    starts: list[datetime]  # every occurrence start (aware UTC)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def check_attendees(raw: list[tuple[str, str]], fields: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    if len(raw) > MAX_ATTENDEES:
        fields["attendees"] = f"at most {MAX_ATTENDEES} attendees"
        return out
    for i, (email, name) in enumerate(raw):
        email = email.strip()
        if not EMAIL_RE.match(email) or len(email) > 254:
            fields[f"attendees.{i}.email"] = "not a valid e-mail address"
            continue
        clean_name = check_line(name or "", f"attendees.{i}.name", fields, max_len=200, required=False)
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        out.append((email, clean_name))
    return out


def check_meeting(session: Session, settings: Settings, data: MeetingInput, now: datetime,
                  *, allow_past: bool = False) -> CheckedMeeting:
    fields: dict[str, str] = {}
    title = check_line(data.title, "title", fields, max_len=MAX_TITLE)
    description = check_text(data.description or "", "description", fields, max_len=MAX_DESCRIPTION)
    zone = check_zone(data.timezone, settings.timezone, fields)
    booking = settings.booking

    if data.start.tzinfo is None:
        fields["start"] = "needs a UTC offset (RFC 3339)"
    if data.end.tzinfo is None:
        fields["end"] = "needs a UTC offset (RFC 3339)"
    if "start" not in fields and "end" not in fields:
        if data.end <= data.start:
            fields["end"] = "must be after start"
        elif data.end - data.start > timedelta(hours=booking.max_duration_hours):
            fields["end"] = f"a meeting lasts at most {booking.max_duration_hours:g} hours"
        if not allow_past and data.end <= now:
            fields["start"] = "the meeting would already be over"

    setup = booking.default_setup_minutes if data.setup_minutes is None else data.setup_minutes
    if not 0 <= setup <= 240:
        fields["setup_minutes"] = "between 0 and 240 minutes"

    pin = (data.pin or "").strip() or None
    if pin is not None and not PIN_RE.match(pin):
        fields["pin"] = "4 to 16 digits"

    ids = list(dict.fromkeys(data.endpoint_ids))
    endpoints: list[Endpoint] = []
    if not ids:
        fields["endpoint_ids"] = "choose at least one endpoint"
    else:
        found = {e.id: e for e in session.scalars(select(Endpoint).where(Endpoint.id.in_(ids)))}
        missing = [i for i in ids if i not in found]
        disabled = [found[i].name for i in ids if i in found and not found[i].enabled]
        if missing:
            fields["endpoint_ids"] = "unknown endpoint id(s): " + ", ".join(map(str, missing))
        elif disabled:
            fields["endpoint_ids"] = "disabled endpoint(s): " + ", ".join(disabled)
        endpoints = [found[i] for i in ids if i in found]
    if data.host_endpoint_id is not None and data.host_endpoint_id not in ids:
        fields["host_endpoint_id"] = "must be one of endpoint_ids"

    bridge_name = data.bridge_name
    if bridge_name is not None and settings.bridge(bridge_name) is None:
        fields["bridge_name"] = f"no bridge named {bridge_name!r} is configured"
    bridge = settings.bridge(bridge_name)
    if bridge is not None and bridge.video_ports is not None and len(ids) > bridge.video_ports:
        fields["endpoint_ids"] = (
            f"bridge {bridge.name!r} has {bridge.video_ports} video ports; {len(ids)} endpoints requested"
        )

    attendees = check_attendees(data.attendees, fields)

    rule: str | None = None
    if data.rrule:
        try:
            rule = recurrence.normalise_rrule(data.rrule, zone)
        except InvalidInput as exc:
            fields.update(exc.fields)
    exdates = []
    for i, ex in enumerate(data.exdates):
        if ex.tzinfo is None:
            fields[f"exdates.{i}"] = "needs a UTC offset (RFC 3339)"
        else:
            exdates.append(ex)

    starts: list[datetime] = []
    if not fields:
        starts = recurrence.expand(data.start, zone, rule, exdates, limit=booking.max_occurrences)
        horizon = now + timedelta(days=booking.horizon_days)
        if not starts:
            fields["rrule"] = "the rule produces no occurrence"
        elif rule and starts[0] != data.start.astimezone(starts[0].tzinfo) and not exdates:
            # RFC 5545 counts DTSTART as an instance even when the rule would not produce it, and
            # calendar clients disagree on it: refuse rather than book something else than they show.
            fields["start"] = "the start must itself be an occurrence of the recurrence rule"
        elif len(starts) > booking.max_occurrences:
            fields["rrule"] = f"a series has at most {booking.max_occurrences} occurrences"
        elif starts[-1] > horizon:
            where = "rrule" if rule else "start"
            fields[where] = f"bookings are accepted up to {booking.horizon_days} days ahead"
    if fields:
        raise InvalidInput("invalid meeting: " + ", ".join(sorted(fields)), fields)
    return CheckedMeeting(
        title=title, description=description, start=data.start, end=data.end, zone=zone,
        endpoints=endpoints, host_endpoint_id=data.host_endpoint_id, attendees=attendees, rrule=rule,
        exdates=exdates, setup_minutes=setup, pin=pin, bridge_name=bridge_name, starts=starts,
    )
