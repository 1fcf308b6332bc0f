"""Approval of bookings: the rule, once.

An endpoint with ``requires_approval`` (the provincial hall, say) is booked only with an approver's
consent.  A meeting that books such an endpoint is **pending** until an administrator or an approver
approves or rejects it (``booking.decisions``).  While pending it holds its slots (conflicts see it),
its invitations are held (``invites.hooks``), it is never launched and, still pending at its setup time,
it raises an ``approval_overdue`` alarm (both in ``launch.approval_gate``).

``Meeting.approval`` is NULL when no booked endpoint needs approval, else ``pending``, ``approved`` or
``rejected`` (a rejected meeting is cancelled).  Decided here:

* a booking by someone who may approve (an administrator) is approved at once, by them;
* a change that adds an endpoint needing approval to a meeting puts it back to pending (the approver
  agreed to the rooms they saw); other changes (time, title, attendees) keep the decision;
* a pending meeting whose endpoints no longer need approval stops waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_

from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, MeetingStatus

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def requiring(meeting: Meeting) -> set[int]:
    """The meeting's endpoints that require approval."""
    return {e.id for e in meeting.endpoints if e.requires_approval}


def decide_on_booking(meeting: Meeting, actor: User, now: datetime,
                      previous_endpoint_ids: Iterable[int] | None = None) -> None:
    """Set the meeting's approval after it was booked (*previous_endpoint_ids* None) or changed."""
    needed = requiring(meeting)
    if not needed:
        if meeting.approval == PENDING:
            _set(meeting, None, None, None)
        return
    before = set(previous_endpoint_ids) if previous_endpoint_ids is not None else set()
    fresh = previous_endpoint_ids is None or meeting.approval is None or bool(needed - before)
    if not fresh:
        return
    if access.may_approve(actor):
        _set(meeting, APPROVED, actor, now)
    else:
        _set(meeting, PENDING, None, None)


def _set(meeting: Meeting, state: str | None, by: User | None, at: datetime | None) -> None:
    meeting.approval, meeting.approval_by, meeting.approval_at = state, by, at
    meeting.approval_reason = None


def is_pending(meeting: Meeting) -> bool:
    return meeting.approval == PENDING and meeting.status == MeetingStatus.PLANNED


def status_of(meeting: Meeting) -> str:
    """The status a person reads: ``pending`` and ``rejected`` besides ``planned`` / ``cancelled``."""
    if meeting.approval == REJECTED:
        return REJECTED
    if is_pending(meeting):
        return PENDING
    return str(meeting.status)


def pending_clause() -> ColumnElement[bool]:
    """SQL: the meeting waits for approval (for the launch gate and the ``status=pending`` list)."""
    return and_(Meeting.approval == PENDING, Meeting.status == MeetingStatus.PLANNED)
