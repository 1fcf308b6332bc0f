"""Approving and rejecting pending bookings (the rule of what needs approval is ``booking.approval``).

Both run in the caller's unit of work: they check the right (``auth.access.may_approve``), record the
decision with an audit entry and tell the booking listeners (``approved`` / ``rejected``: the
invitation mailer sends the held invitations, or the cancellation, and e-mails the organiser).  A
rejected meeting is cancelled: its slots are freed at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock, limits
from confbridge.audit.models import record
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking import approval, hooks
from confbridge.booking.models import Meeting, MeetingStatus
from confbridge.booking.service import lock_bookings, materialise
from confbridge.errors import Conflict, FieldError, Forbidden, InvalidInput
from confbridge.i18n import N_
from confbridge.settings import Settings
from confbridge.text import check_text

MAX_REASON_LENGTH = limits.MAX_DESCRIPTION_LENGTH


def require_approver(user: User) -> None:
    if not access.may_approve(user):
        raise Forbidden.said(N_("Chỉ người phê duyệt hoặc quản trị viên mới được phê duyệt lịch họp."))


def _require_pending(meeting: Meeting) -> None:
    if not approval.is_pending(meeting):
        raise Conflict.said(N_("Cuộc họp «%(title)s» không chờ phê duyệt."), title=meeting.title)


def approve(session: Session, settings: Settings, actor: User, meeting: Meeting) -> Meeting:
    require_approver(actor)
    _require_pending(meeting)
    now = clock.now()
    meeting.approval, meeting.approval_by, meeting.approval_at = approval.APPROVED, actor, now
    meeting.approval_reason = None
    session.flush()
    record(session, actor.id, "meeting.approve", "meeting", meeting.id, title=meeting.title)
    hooks.notify(session, hooks.BookingChange("approved", meeting, actor.id))
    return meeting


def reject(session: Session, settings: Settings, actor: User, meeting: Meeting, reason: str) -> Meeting:
    require_approver(actor)
    errors: list[FieldError] = []
    text = check_text(reason or "", "reason", errors, max_len=MAX_REASON_LENGTH).strip()
    if not text and not errors:
        errors.append(FieldError.of("reason", "required"))
    if errors:
        raise InvalidInput.of(errors)
    _require_pending(meeting)
    now = clock.now()
    lock_bookings(session)
    meeting.approval, meeting.approval_by, meeting.approval_at = approval.REJECTED, actor, now
    meeting.approval_reason = text
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    materialise(session, settings, meeting, now)  # frees its slots
    record(session, actor.id, "meeting.reject", "meeting", meeting.id, title=meeting.title, reason=text)
    hooks.notify(session, hooks.BookingChange("rejected", meeting, actor.id,
                                              [(a.email, a.name) for a in meeting.attendees]))
    return meeting


def list_pending(session: Session) -> list[Meeting]:
    """Meetings waiting for a decision, the soonest first."""
    return list(session.scalars(select(Meeting).where(approval.pending_clause()).order_by(Meeting.start, Meeting.id)))
