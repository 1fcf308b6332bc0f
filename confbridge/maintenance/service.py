"""Create, list and delete blackout windows.

A blackout is allowed over existing bookings (the room *is* down, whatever the calendar says): the
occurrences it overlaps are returned as ``affected`` and each raises a ``blackout_overlap`` alarm so a
technician moves or cancels them.  Deleting the blackout clears those alarms.  New bookings that would
overlap it are refused by :func:`confbridge.booking.conflicts.find_conflicts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.audit.models import record
from confbridge.booking.blackout_models import REASON_MAX, Blackout
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence, OccurrenceStatus
from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.settings import Settings
from confbridge.text import check_line

MAX_LENGTH = timedelta(days=366)


@dataclass(frozen=True)
class Target:
    """What is blacked out: one endpoint or one configured bridge."""

    endpoint: Endpoint | None = None
    bridge_name: str | None = None

    @property
    def label(self) -> str:
        return self.endpoint.name if self.endpoint is not None else f"MCU {self.bridge_name}"


def endpoint_target(session: Session, endpoint_id: int) -> Target:
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound.said(N_("Không có điểm cầu số %(id)s."), id=endpoint_id)
    return Target(endpoint=endpoint)


def bridge_target(settings: Settings, name: str) -> Target:
    bridge = settings.bridge(name) if name else None
    if bridge is None:
        raise NotFound.said(N_("Không có MCU tên “%(name)s”."), name=name)
    return Target(bridge_name=bridge.name)


def _where(target: Target) -> Any:
    if target.endpoint is not None:
        return Blackout.endpoint_id == target.endpoint.id
    return Blackout.bridge_name == target.bridge_name


def list_blackouts(session: Session, target: Target, *, include_past: bool = False) -> list[Blackout]:
    """The target's blackouts by start (ended ones only with *include_past*)."""
    query = select(Blackout).where(_where(target)).order_by(Blackout.start, Blackout.id)
    if not include_past:
        query = query.where(Blackout.end > clock.now())
    return list(session.scalars(query))


def get_blackout(session: Session, target: Target, blackout_id: int) -> Blackout:
    blackout = session.scalars(select(Blackout).where(_where(target), Blackout.id == blackout_id)).first()
    if blackout is None:
        raise NotFound.said(N_("Không có lịch ngừng phục vụ số %(id)s."), id=blackout_id)
    return blackout


def check_window(start: datetime | None, end: datetime | None, reason: str | None) -> tuple[datetime, datetime, str]:
    """The window and reason as given, or 422 naming each bad field."""
    errors: list[FieldError] = []
    text = check_line(reason or "", "reason", errors, max_len=REASON_MAX, required=False)
    if start is None:
        errors.append(FieldError.of("start", "required"))
    elif start.tzinfo is None:
        errors.append(FieldError.of("start", "needs_offset"))
    if end is None:
        errors.append(FieldError.of("end", "required"))
    elif end.tzinfo is None:
        errors.append(FieldError.of("end", "needs_offset"))
    if not errors and start is not None and end is not None:
        if end <= start:
            errors.append(FieldError.of("end", "before_start"))
        elif end - start > MAX_LENGTH:
            errors.append(FieldError.of("end", "blackout_too_long", max_days=MAX_LENGTH.days))
        elif end <= clock.now():
            errors.append(FieldError.of("end", "in_past"))
    if errors:
        raise InvalidInput.of(errors)
    assert start is not None and end is not None
    return start, end, text


@dataclass(frozen=True)
class Affected:
    occurrence: Occurrence
    meeting: Meeting

    def as_dict(self) -> dict[str, Any]:
        occ = self.occurrence
        return {
            "meeting_id": self.meeting.id, "meeting_title": self.meeting.title, "occurrence_id": occ.id,
            "occurrence_start": occ.original_start.isoformat(), "start": occ.start.isoformat(),
            "end": occ.end.isoformat(),
        }


def affected_occurrences(session: Session, blackout: Blackout) -> list[Affected]:
    """Planned occurrences whose endpoint slots (setup included) overlap *blackout* on its endpoint or
    its bridge, in time order."""
    target = (EndpointSlot.endpoint_id == blackout.endpoint_id if blackout.endpoint_id is not None
              else EndpointSlot.bridge_name == blackout.bridge_name)
    ids = select(EndpointSlot.occurrence_id).where(
        target, EndpointSlot.window_start < blackout.end, EndpointSlot.window_end > blackout.start)
    rows = session.execute(
        select(Occurrence, Meeting).join(Meeting, Meeting.id == Occurrence.meeting_id)
        .where(Occurrence.id.in_(ids), Occurrence.status == OccurrenceStatus.PLANNED)
        .order_by(Occurrence.start, Occurrence.id)
    ).all()
    return [Affected(occ, meeting) for occ, meeting in rows]


def _alarm_key(blackout_id: int, occurrence_id: int) -> str:
    return f"blackout_overlap:blackout={blackout_id}:occurrence={occurrence_id}"


def create_blackout(
    session: Session, settings: Settings, target: Target, *, start: datetime | None, end: datetime | None,
    reason: str | None, actor_id: int,
) -> tuple[Blackout, list[Affected]]:
    """Record the blackout; every planned occurrence it overlaps is returned and raises an alarm."""
    start, end, text = check_window(start, end, reason)
    blackout = Blackout(
        endpoint_id=target.endpoint.id if target.endpoint is not None else None,
        bridge_name=target.bridge_name, start=start, end=end, reason=text, created_by=actor_id,
        created_at=clock.now(),
    )
    session.add(blackout)
    session.flush()
    affected = affected_occurrences(session, blackout)
    zone = ZoneInfo(settings.timezone)
    for item in affected:
        occ, meeting = item.occurrence, item.meeting
        raise_alarm(
            session, "blackout_overlap", _alarm_key(blackout.id, occ.id), "alarm.blackout_overlap",
            {"meeting": meeting.title, "at": f"{occ.start.astimezone(zone):%H:%M %d/%m/%Y}",
             "target": target.label, "start": f"{start.astimezone(zone):%H:%M %d/%m/%Y}",
             "end": f"{end.astimezone(zone):%H:%M %d/%m/%Y}", "reason": text or "—"},
            severity="major", meeting_id=meeting.id, bridge_name=target.bridge_name,
            endpoint_id=target.endpoint.id if target.endpoint is not None else None,
            blackout_id=blackout.id, occurrence_id=occ.id,
        )
    record(session, actor_id, "blackout.create", "blackout", blackout.id, target=target.label,
           start=start.isoformat(), end=end.isoformat(), reason=text, affected=len(affected))
    return blackout, affected


def delete_blackout(session: Session, blackout: Blackout, actor_id: int) -> None:
    """Remove the blackout and clear the alarms it raised."""
    prefix = f"blackout_overlap:blackout={blackout.id}:"
    keys = session.scalars(select(Alarm.key).where(
        Alarm.key.like(prefix + "%"), Alarm.cleared_at.is_(None))).all()
    for key in set(keys):
        clear_alarm(session, key)
    record(session, actor_id, "blackout.delete", "blackout", blackout.id, reason=blackout.reason)
    session.delete(blackout)
    session.flush()


def blackouts_for(session: Session, endpoint_ids: list[int], bridge_names: list[str]) -> list[Blackout]:
    """Current and future blackouts of any of these endpoints or bridges (pages)."""
    conditions = []
    if endpoint_ids:
        conditions.append(Blackout.endpoint_id.in_(endpoint_ids))
    if bridge_names:
        conditions.append(Blackout.bridge_name.in_(bridge_names))
    if not conditions:
        return []
    return list(session.scalars(select(Blackout).where(or_(*conditions), Blackout.end > clock.now())
                                .order_by(Blackout.start, Blackout.id)))
