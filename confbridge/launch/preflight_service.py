"""Pre-flight test calls as the REST API and the console see them: request one, read the latest, the board.

The web process only records the request (a ``pending`` row, audited); the scheduler — the one process
that owns bridge lifecycles — runs it within a tick (``launch.preflight``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.audit.models import record
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, MeetingStatus, Occurrence, OccurrenceStatus
from confbridge.booking.service import get_occurrence
from confbridge.errors import Conflict, Forbidden, NotFound
from confbridge.i18n import N_
from confbridge.launch.models import ConferenceRun, RunState
from confbridge.launch.planner import desired_endpoints
from confbridge.launch.preflight import create_preflight, open_preflight
from confbridge.launch.preflight_models import PreflightRun
from confbridge.settings import Settings


def _occurrence(session: Session, user: User, meeting_id: int, start: datetime) -> Occurrence:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not access.may_see_meeting(user, meeting):
        raise NotFound.said(N_("Không có cuộc họp số %(id)d."), id=meeting_id)
    return get_occurrence(meeting, start)


def request_preflight(session: Session, settings: Settings, user: User, meeting_id: int,
                      start: datetime) -> tuple[PreflightRun, bool]:
    """Ask for a pre-flight now: ``(row, created)``; an open one for the occurrence is returned as is."""
    if user.role not in access.OPERATORS:
        raise Forbidden.said(N_("Gọi thử trước cần vai trò kỹ thuật viên hoặc quản trị viên."))
    occ = _occurrence(session, user, meeting_id, start)
    if occ.status != OccurrenceStatus.PLANNED or occ.meeting.status != MeetingStatus.PLANNED:
        raise Conflict.said(N_("Buổi họp này đã bị hủy."), extra={"state": occ.status})
    if occ.effective_end <= clock.now():
        raise Conflict.said(N_("Buổi họp này đã kết thúc."))
    run = session.scalars(select(ConferenceRun).where(ConferenceRun.occurrence_id == occ.id)).first()
    if run is not None and run.state in (RunState.STARTING, RunState.LIVE, RunState.ENDING):
        raise Conflict.said(N_("Hội nghị đã bắt đầu: các điểm cầu đang được gọi thật."),
                            extra={"state": run.state})
    if not desired_endpoints(session, occ):
        raise Conflict.said(N_("Buổi họp này không đặt điểm cầu nào."))
    existing = open_preflight(session, occ.id)
    if existing is not None:
        return existing, False
    pf = create_preflight(session, settings, occ, trigger="manual", user_id=user.id)
    record(session, user.id, "preflight.request", "meeting", meeting_id, occurrence_start=start.isoformat(),
           preflight_id=pf.id)
    return pf, True


def latest(session: Session, user: User, meeting_id: int, start: datetime) -> PreflightRun | None:
    occ = _occurrence(session, user, meeting_id, start)
    return latest_for(session, occ.id)


def latest_for(session: Session, occurrence_id: int) -> PreflightRun | None:
    return session.scalars(select(PreflightRun).where(PreflightRun.occurrence_id == occurrence_id)
                           .order_by(PreflightRun.id.desc())).first()


def board(session: Session, user: User, *, hours: int = 24) -> list[tuple[Occurrence, PreflightRun | None]]:
    """Upcoming (and running) occurrences in the next *hours*, each with its latest pre-flight."""
    now = clock.now()
    query = (select(Occurrence).join(Meeting, Meeting.id == Occurrence.meeting_id).where(
        Occurrence.status == OccurrenceStatus.PLANNED, Meeting.status == MeetingStatus.PLANNED,
        Occurrence.end > now, Occurrence.start <= now + timedelta(hours=hours))
        .order_by(Occurrence.start, Occurrence.id).limit(200))
    organiser_id = access.followed_organiser(user)
    if organiser_id is not None:
        query = query.where(Meeting.organiser_id == organiser_id)
    return [(occ, latest_for(session, occ.id)) for occ in session.scalars(query)]
