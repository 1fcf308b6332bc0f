"""The run state machine (allowed transitions as data) and the timeline writers.

Every state change goes through :func:`transition`, which appends a timeline entry and queues a
``conference.state`` event (published after the commit), so the flight recorder can never miss a step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.events import queue_event
from confbridge.launch.models import CallLeg, ConferenceRun, RunState, TimelineEntry, TimelineKind

S = RunState
ALLOWED: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.STARTING, S.MISSED, S.CANCELLED}),
    S.STARTING: frozenset({S.LIVE, S.ENDING, S.FAILED}),
    S.LIVE: frozenset({S.ENDING}),
    S.ENDING: frozenset({S.ENDED, S.FAILED}),
    S.ENDED: frozenset(),
    S.FAILED: frozenset(),
    S.MISSED: frozenset(),
    S.CANCELLED: frozenset(),
}

STATE_LABELS = {  # Vietnamese first: the timeline is read by technicians
    S.SCHEDULED: "Đã lên lịch / scheduled",
    S.STARTING: "Đang khởi tạo / starting",
    S.LIVE: "Đang diễn ra / live",
    S.ENDING: "Đang kết thúc / ending",
    S.ENDED: "Đã kết thúc / ended",
    S.FAILED: "Thất bại / failed",
    S.MISSED: "Bị lỡ / missed",
    S.CANCELLED: "Đã huỷ / cancelled",
}


class IllegalTransition(Exception):
    pass


def note(
    session: Session, run: ConferenceRun, kind: str, message: str, *, outcome: str | None = None,
    endpoint_id: int | None = None, user_id: int | None = None, **details: Any,
) -> TimelineEntry:
    """Append one timeline entry to *run* (committed with the change it describes)."""
    entry = TimelineEntry(
        run_id=run.id, at=clock.now(), kind=kind, message=message, outcome=outcome,
        endpoint_id=endpoint_id, user_id=user_id, details=details,
    )
    session.add(entry)
    return entry


def transition(
    session: Session, run: ConferenceRun, new: RunState, message: str = "", *,
    user_id: int | None = None, **details: Any,
) -> None:
    """Move *run* to *new* (refusing transitions the machine does not allow) and record it."""
    old = run.state
    if new == old:
        return
    if new not in ALLOWED[RunState(old)]:
        raise IllegalTransition(f"conference run {run.id}: {old} -> {new} is not allowed")
    now = clock.now()
    run.state = new
    if new == S.STARTING:
        run.started_at = now
    elif new == S.LIVE:
        run.live_at = now
    elif new in (S.ENDED, S.FAILED, S.MISSED, S.CANCELLED):
        run.ended_at = now
    text = f"{STATE_LABELS[RunState(old)]} → {STATE_LABELS[new]}"
    note(session, run, TimelineKind.STATE, f"{text}: {message}" if message else text,
         outcome=str(new), user_id=user_id, previous=old, **details)
    queue_event(session, "conference.state", conference_id=run.id, meeting_id=run.meeting_id,
                occurrence_id=run.occurrence_id, state=str(new), previous=old,
                conference_name=run.conference_name, bridge=run.bridge_name, late=run.late)


def leg_event(session: Session, leg: CallLeg) -> None:
    """Queue a ``participant.state`` event for *leg* (published after the commit)."""
    queue_event(session, "participant.state", conference_id=leg.run_id, endpoint_id=leg.endpoint_id,
                state=leg.state, reason=leg.last_reason, attempts=leg.attempts,
                audio_muted=leg.audio_muted, video_muted=leg.video_muted)
