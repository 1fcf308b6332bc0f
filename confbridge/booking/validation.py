"""Every booking rule, once: turn a booking request into checked values, or an ``InvalidInput`` whose
field errors are codes with parameters (``FieldError("end", "too_long", max_hours=12)``).

The REST API renders them in the caller's language; the booking form calls the same rules
(:func:`check_basics`) and shows the same translated messages.  Fixed limits come from
``confbridge.limits``, tunable ones from ``settings.booking``; text and e-mail rules from
``confbridge.text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from confbridge import limits
from confbridge.booking import recurrence
from confbridge.directory.addresses import PROTOCOLS, check_address
from confbridge.directory.choice import chosen_endpoints
from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError, InvalidInput
from confbridge.settings import Settings
from confbridge.text import check_email, check_line, check_text

PIN_RE = re.compile(rf"^[0-9]{{{limits.PIN_MIN_DIGITS},{limits.PIN_MAX_DIGITS}}}$")


def check_zone(name: str | None, default: str, errors: list[FieldError]) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError.of("timezone", "unknown_timezone", value=str(name)))
        return ZoneInfo(default)


def check_duration(settings: Settings, duration: timedelta, errors: list[FieldError]) -> None:
    """A meeting ends after it starts, lasts at least the minimum and at most ``booking.max_duration_hours``."""
    max_hours = settings.booking.max_duration_hours
    if duration <= timedelta(0):
        errors.append(FieldError.of("end", "before_start"))
    elif duration < timedelta(minutes=limits.MIN_DURATION_MINUTES):
        errors.append(FieldError.of("end", "too_short", min_minutes=limits.MIN_DURATION_MINUTES))
    elif duration > timedelta(hours=max_hours):
        errors.append(FieldError.of("end", "too_long", max_hours=f"{max_hours:g}"))


def check_setup(settings: Settings, setup_minutes: int | None, errors: list[FieldError]) -> int:
    setup = settings.booking.default_setup_minutes if setup_minutes is None else setup_minutes
    if not 0 <= setup <= limits.MAX_SETUP_MINUTES:
        errors.append(FieldError.of("setup_minutes", "out_of_range", max_minutes=limits.MAX_SETUP_MINUTES))
    return setup


def check_pin(raw: str | None, errors: list[FieldError]) -> str | None:
    pin = (raw or "").strip() or None
    if pin is not None and not PIN_RE.match(pin):
        errors.append(FieldError.of("pin", "invalid_pin", min_digits=limits.PIN_MIN_DIGITS,
                                    max_digits=limits.PIN_MAX_DIGITS))
    return pin


def check_endpoint_choice(endpoint_ids: list[int], host_endpoint_id: int | None,
                          errors: list[FieldError]) -> list[int]:
    """At least one endpoint; the host endpoint among them.  Returns the ids without repeats."""
    ids = list(dict.fromkeys(endpoint_ids))
    if not ids:
        errors.append(FieldError.of("endpoint_ids", "required"))
    if host_endpoint_id is not None and host_endpoint_id not in ids:
        errors.append(FieldError.of("host_endpoint_id", "not_chosen"))
    return ids


def check_basics(settings: Settings, *, title: str, description: str, duration: timedelta | None,
                 setup_minutes: int | None, pin: str | None, endpoint_ids: list[int],
                 host_endpoint_id: int | None, errors: list[FieldError]) -> None:
    """The rules that need neither the database nor a complete date: the booking form runs them on
    whatever it could parse, so a person sees every problem at once."""
    check_line(title, "title", errors, max_len=limits.MAX_TITLE_LENGTH)
    check_text(description, "description", errors, max_len=limits.MAX_DESCRIPTION_LENGTH)
    if duration is not None:
        check_duration(settings, duration, errors)
    check_setup(settings, setup_minutes, errors)
    check_pin(pin, errors)
    check_endpoint_choice(endpoint_ids, host_endpoint_id, errors)


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
    join_muted: bool = False
    external_participants: list[dict[str, Any]] = field(default_factory=list)
    on_holidays: str | None = None  # "skip" (default) | "keep": see booking.holiday_policy


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
    join_muted: bool = False
    external_participants: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def check_attendees(raw: list[tuple[str, str]], errors: list[FieldError]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    if len(raw) > limits.MAX_ATTENDEES:
        errors.append(FieldError.of("attendees", "too_many", max_attendees=limits.MAX_ATTENDEES))
        return out
    for i, (email, name) in enumerate(raw):
        before = len(errors)
        email = check_email(email, f"attendees.{i}.email", errors)
        if len(errors) > before:
            continue
        clean_name = check_line(name or "", f"attendees.{i}.name", errors,
                                max_len=limits.MAX_ATTENDEE_NAME_LENGTH, required=False)
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        out.append((email, clean_name))
    return out


def check_external_participants(raw: list[dict[str, Any]], errors: list[FieldError],
                                taken: set[str] | None = None) -> list[dict[str, Any]]:
    """Participants outside the directory: a name, an address the bridge can dial (the one address rule,
    ``directory.addresses``), the protocol, at most one ``uplink``; no address twice (nor one of the
    chosen endpoints' addresses, given in *taken*).  The uplink is listed first."""
    out: list[dict[str, Any]] = []
    if len(raw) > limits.MAX_EXTERNAL_PARTICIPANTS:
        errors.append(FieldError.of("external_participants", "too_many",
                                    max_external=limits.MAX_EXTERNAL_PARTICIPANTS))
        return out
    seen = {a.lower() for a in taken or set()}
    for i, item in enumerate(raw):
        where = f"external_participants.{i}"
        name = check_line(str(item.get("name") or ""), f"{where}.name", errors,
                          max_len=limits.MAX_ATTENDEE_NAME_LENGTH)
        protocol = item.get("protocol") or "sip"
        if protocol not in PROTOCOLS:
            errors.append(FieldError.of(f"{where}.protocol", "one_of", choices="sip, h323"))
            continue
        before = len(errors)
        address = check_address(protocol, str(item.get("address") or ""), f"{where}.address", errors)
        if len(errors) == before and address.lower() in seen:
            errors.append(FieldError.of(f"{where}.address", "duplicate_address"))
        seen.add(address.lower())
        out.append({"name": name, "address": address, "protocol": protocol, "uplink": item.get("uplink") is True})
    if sum(1 for x in out if x["uplink"]) > 1:
        errors.append(FieldError.of("external_participants", "too_many_uplinks"))
    return sorted(out, key=lambda x: not x["uplink"])


def check_meeting(session: Session, settings: Settings, data: MeetingInput, now: datetime,
                  *, allow_past: bool = False) -> CheckedMeeting:
    errors: list[FieldError] = []
    title = check_line(data.title, "title", errors, max_len=limits.MAX_TITLE_LENGTH)
    description = check_text(data.description or "", "description", errors,
                             max_len=limits.MAX_DESCRIPTION_LENGTH)
    zone = check_zone(data.timezone, settings.timezone, errors)
    booking = settings.booking

    if data.start.tzinfo is None:
        errors.append(FieldError.of("start", "needs_offset"))
    if data.end.tzinfo is None:
        errors.append(FieldError.of("end", "needs_offset"))
    if data.start.tzinfo is not None and data.end.tzinfo is not None:
        check_duration(settings, data.end - data.start, errors)
        if not allow_past and data.end <= now:
            errors.append(FieldError.of("start", "in_past"))

    setup = check_setup(settings, data.setup_minutes, errors)
    pin = check_pin(data.pin, errors)

    ids = check_endpoint_choice(data.endpoint_ids, data.host_endpoint_id, errors)
    endpoints = chosen_endpoints(session, ids or [], errors)

    bridge_name = data.bridge_name
    if bridge_name is not None and settings.bridge(bridge_name) is None:
        errors.append(FieldError.of("bridge_name", "unknown", value=bridge_name))
    bridge = settings.bridge(bridge_name)
    wanted_ports = len(ids) + len(data.external_participants)
    if bridge is not None and bridge.video_ports is not None and wanted_ports > bridge.video_ports:
        errors.append(FieldError.of("endpoint_ids", "too_many_for_bridge", bridge=bridge.name,
                                    ports=bridge.video_ports, count=wanted_ports))

    attendees = check_attendees(data.attendees, errors)
    allowed = {d.lower().lstrip("@") for d in settings.mail.allowed_recipient_domains}
    outside = [e for e, _ in attendees if allowed and e.rsplit("@", 1)[-1].lower() not in allowed]
    if outside:
        errors.append(FieldError.of("attendees", "outside_domains", domains=", ".join(sorted(allowed)),
                                    addresses=", ".join(outside[:5])))
    externals = check_external_participants(data.external_participants, errors,
                                            {e.address for e in endpoints})

    rule: str | None = None
    if data.rrule:
        try:
            rule = recurrence.normalise_rrule(data.rrule, zone)
        except InvalidInput as exc:
            errors.extend(exc.errors)
        else:
            count = re.search(r"(?:^|;)COUNT=(\d+)", rule)
            if count and int(count.group(1)) > booking.max_occurrences:
                errors.append(FieldError.of("rrule", "too_many", max_occurrences=booking.max_occurrences))
    exdates = []
    if len(data.exdates) > booking.max_occurrences:
        errors.append(FieldError.of("exdates", "too_many", max_occurrences=booking.max_occurrences))
    for i, ex in enumerate(data.exdates[: booking.max_occurrences + 1]):
        if ex.tzinfo is None:
            errors.append(FieldError.of(f"exdates.{i}", "needs_offset"))
        else:
            exdates.append(ex)

    starts: list[datetime] = []
    if not errors:
        horizon = now + timedelta(days=booking.horizon_days)
        starts = recurrence.expand(data.start, zone, rule, exdates, limit=booking.max_occurrences,
                                   not_after=max(horizon, data.start))
        if not starts:
            errors.append(FieldError.of("rrule", "no_occurrence"))
        elif rule and starts[0] != data.start.astimezone(starts[0].tzinfo) and not exdates:
            # RFC 5545 counts DTSTART as an instance even when the rule would not produce it, and
            # calendar clients disagree on it: refuse rather than book something else than they show.
            errors.append(FieldError.of("start", "not_an_occurrence"))
        elif len(starts) > booking.max_occurrences:
            errors.append(FieldError.of("rrule", "too_many", max_occurrences=booking.max_occurrences))
        elif starts[-1] > horizon:
            errors.append(FieldError.of("rrule" if rule else "start", "beyond_horizon", days=booking.horizon_days))
    if errors:
        raise InvalidInput.of(_first_per_field(errors))
    return CheckedMeeting(
        title=title, description=description, start=data.start, end=data.end, zone=zone,
        endpoints=endpoints, host_endpoint_id=data.host_endpoint_id, attendees=attendees, rrule=rule,
        exdates=exdates, setup_minutes=setup, pin=pin, bridge_name=bridge_name, starts=starts,
        join_muted=bool(data.join_muted),
        external_participants=externals,
    )


def _first_per_field(errors: list[FieldError]) -> list[FieldError]:
    """One error per field (the last found wins, as the rules are ordered from general to specific)."""
    by_field: dict[str, FieldError] = {}
    for error in errors:
        by_field[error.field] = error
    return list(by_field.values())
