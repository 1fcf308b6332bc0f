"""The launch engine's one hook for approval (the rule itself: ``booking.approval``).

A meeting waiting for approval is never launched nor pre-flighted: :func:`launchable` is the SQL
condition the planner and the pre-flight planner add to their candidate queries.  Each planner tick,
:func:`flag_overdue` raises ``approval_overdue`` for every pending occurrence whose setup time has come
(instead of a launch), and clears it once the meeting is decided or the occurrence is over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from confbridge import limits
from confbridge.alarms.models import Alarm
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.booking.approval import PENDING, is_pending, pending_clause
from confbridge.booking.models import Meeting, Occurrence, OccurrenceStatus

KIND = "approval_overdue"


def launchable() -> ColumnElement[bool]:
    """SQL over ``Meeting``: not waiting for approval (NULL ``approval``: nothing to approve; a bare
    ``NOT (approval = 'pending')`` would be NULL, i.e. false, for those)."""
    return or_(Meeting.approval.is_(None), Meeting.approval != PENDING)


def alarm_key(occurrence_id: int) -> str:
    return f"{KIND}:occ={occurrence_id}"


def flag_overdue(session: Session, now: datetime, owns: Callable[[Meeting], bool] | None = None) -> None:
    """Raise the alarm for pending occurrences in their setup window (with *owns*: only those of the
    calling engine's bridges); clear the ones no longer due."""
    due = session.scalars(
        select(Occurrence).join(Meeting, Meeting.id == Occurrence.meeting_id).where(
            pending_clause(), Occurrence.status == OccurrenceStatus.PLANNED,
            Occurrence.start <= now + timedelta(minutes=limits.MAX_SETUP_MINUTES), Occurrence.end > now)
    ).all()
    keys: set[str] = set()
    for occ in due:
        if occ.window_start > now or (owns is not None and not owns(occ.meeting)):
            continue
        keys.add(alarm_key(occ.id))
        zone = occ.meeting.timezone
        raise_alarm(session, KIND, alarm_key(occ.id), "alarm.approval_overdue",
                    {"meeting": occ.meeting.title, "at": _local(occ.window_start, zone)},
                    severity="major", meeting_id=occ.meeting_id, occurrence_id=occ.id)
    for alarm in session.scalars(select(Alarm).where(Alarm.kind == KIND, Alarm.cleared_at.is_(None))).all():
        if alarm.key in keys:
            continue
        meeting = session.get(Meeting, alarm.meeting_id) if alarm.meeting_id is not None else None
        if meeting is None or not is_pending(meeting) or _over(session, alarm, now):
            clear_alarm(session, alarm.key)


def _over(session: Session, alarm: Alarm, now: datetime) -> bool:
    occ_id = (alarm.details or {}).get("occurrence_id")
    occ = session.get(Occurrence, occ_id) if occ_id is not None else None
    return occ is None or occ.end <= now or occ.status != OccurrenceStatus.PLANNED


def _local(instant: datetime, zone: str) -> str:
    return f"{instant.astimezone(ZoneInfo(zone)):%H:%M %d/%m/%Y}"
