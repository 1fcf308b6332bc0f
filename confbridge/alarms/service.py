"""Raise, acknowledge and clear alarms; every change is published as an ``alarm`` event after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.alarms.models import ALARM_KINDS, Alarm
from confbridge.errors import NotFound
from confbridge.events import queue_event
from confbridge.i18n import DEFAULT_LOCALE, N_
from confbridge.notices import MESSAGES, render


def _open(session: Session, key: str) -> Alarm | None:
    return session.scalars(
        select(Alarm).where(Alarm.key == key, Alarm.cleared_at.is_(None)).order_by(Alarm.id.desc())
    ).first()


def _refresh(alarm: Alarm, message: str, code: str, params: dict[str, Any], severity: str, now: Any,
             details: dict[str, Any]) -> None:
    alarm.message, alarm.code, alarm.params = message, code, params
    alarm.severity = severity
    alarm.last_seen_at = now
    alarm.count += 1
    alarm.details = {**alarm.details, **details}


def raise_alarm(
    session: Session, kind: str, key: str, code: str, params: dict[str, Any] | None = None, *,
    severity: str = "major", endpoint_id: int | None = None, meeting_id: int | None = None,
    conference_id: int | None = None, bridge_name: str | None = None, **details: Any,
) -> Alarm:
    """Open an alarm, or refresh the open one with the same key (no duplicates).

    *code* is a :mod:`confbridge.notices` code and *params* its parameters: the alarm is rendered in the
    reader's language when it is read; ``message`` keeps the Vietnamese text for plain readers."""
    if kind not in ALARM_KINDS:
        raise ValueError(f"unknown alarm kind {kind!r}")
    if code not in MESSAGES:
        raise ValueError(f"unknown notice code {code!r}")
    params = dict(params or {})
    message = render(code, params, DEFAULT_LOCALE)
    now = clock.now()
    alarm = _open(session, key)
    if alarm is None:
        alarm = Alarm(
            key=key, kind=kind, severity=severity, message=message, code=code, params=params, endpoint_id=endpoint_id,
            meeting_id=meeting_id, conference_id=conference_id, bridge_name=bridge_name,
            details=details, raised_at=now, last_seen_at=now, count=1,
        )
        try:
            with session.begin_nested():  # another raiser may open the same key at the same moment
                session.add(alarm)
        except IntegrityError:
            # Theirs won (one open alarm per key, ux_alarms_open_key): refresh it like any repeat.
            existing = _open(session, key)
            if existing is None:
                raise
            _refresh(existing, message, code, params, severity, now, details)
            alarm = existing
    else:
        _refresh(alarm, message, code, params, severity, now, details)
    session.flush()
    queue_event(session, "alarm", action="raised", alarm=alarm.as_dict())
    return alarm


def clear_alarm(session: Session, key: str) -> Alarm | None:
    alarm = _open(session, key)
    if alarm is None:
        return None
    alarm.cleared_at = clock.now()
    session.flush()
    queue_event(session, "alarm", action="cleared", alarm=alarm.as_dict())
    return alarm


def acknowledge(session: Session, alarm_id: int, user_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound.said(N_("Không có cảnh báo số %(id)s."), id=alarm_id)
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at = clock.now()
        alarm.acknowledged_by = user_id
        session.flush()
        queue_event(session, "alarm", action="acknowledged", alarm=alarm.as_dict())
    return alarm


def list_alarms(session: Session, *, open_only: bool = False, limit: int = 500, kind: str | None = None,
                endpoint_id: int | None = None, organiser_id: int | None = None) -> list[Alarm]:
    """Alarms, newest first.  *organiser_id* keeps only the alarms of that person's meetings (see
    ``auth.access.followed_organiser``: a secretary sees the alarms of her own meetings)."""
    query = select(Alarm).order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(limit)
    if open_only:
        query = query.where(Alarm.cleared_at.is_(None))
    if kind:
        query = query.where(Alarm.kind == kind)
    if endpoint_id:
        query = query.where(Alarm.endpoint_id == endpoint_id)
    if organiser_id is not None:
        from confbridge.booking.models import Meeting

        query = query.where(Alarm.meeting_id.in_(select(Meeting.id).where(Meeting.organiser_id == organiser_id)))
    return list(session.scalars(query))
