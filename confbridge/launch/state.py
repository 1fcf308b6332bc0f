"""The run state machine (allowed transitions as data) and the timeline writers.

Every state change goes through :func:`transition`, which appends a timeline entry and queues a
``conference.state`` event (published after the commit), so the flight recorder can never miss a step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.booking.models import Meeting
from confbridge.events import queue_event
from confbridge.i18n import DEFAULT_LOCALE
from confbridge.launch.models import CallLeg, ConferenceRun, RunState, TimelineEntry, TimelineKind
from confbridge.notices import MESSAGES, coded, render

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


def state_code(state: str) -> str:
    """The notice code of a run state's label (``confbridge.notices``): ``"live"`` → ``"state.live"``."""
    return f"state.{state}"


class IllegalTransition(Exception):
    pass


def note(
    session: Session, run: ConferenceRun, kind: str, code: str, params: dict[str, Any] | None = None, *,
    outcome: str | None = None, endpoint_id: int | None = None, user_id: int | None = None, **details: Any,
) -> TimelineEntry:
    """Append one timeline entry to *run* (committed with the change it describes).

    *code* is a :mod:`confbridge.notices` code and *params* its parameters: the entry is rendered in the
    reader's language when it is read; ``message`` keeps the Vietnamese text for plain readers."""
    if code not in MESSAGES:
        raise ValueError(f"unknown notice code {code!r}")
    entry = TimelineEntry(
        run_id=run.id, at=clock.now(), kind=kind, code=code, params=params or {},
        message=render(code, params, DEFAULT_LOCALE, fallback=code), outcome=outcome,
        endpoint_id=endpoint_id, user_id=user_id, details=details,
    )
    session.add(entry)
    return entry


def transition(
    session: Session, run: ConferenceRun, new: RunState, why: dict[str, Any] | None = None, *,
    user_id: int | None = None, **details: Any,
) -> None:
    """Move *run* to *new* (refusing transitions the machine does not allow) and record it.

    *why* is an optional reason as a nested notice (``notices.coded("why.end_of_meeting")``)."""
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
    params: dict[str, Any] = {"old": coded(state_code(old)), "new": coded(state_code(new))}
    if why:
        params["why"] = why
    note(session, run, TimelineKind.STATE, "state.changed_why" if why else "state.changed", params,
         outcome=str(new), user_id=user_id, previous=old, **details)
    queue_event(session, "conference.state", conference_id=run.id, meeting_id=run.meeting_id,
                occurrence_id=run.occurrence_id, state=str(new), previous=old,
                conference_name=run.conference_name, bridge=run.bridge_name, late=run.late)


def leg_event(session: Session, leg: CallLeg) -> None:
    """Queue a ``participant.state`` event for *leg* (published after the commit)."""
    queue_event(session, "participant.state", conference_id=leg.run_id, endpoint_id=leg.endpoint_id,
                participant_name=leg.participant_name,
                state=leg.state, reason=leg.last_reason, attempts=leg.attempts,
                audio_muted=leg.audio_muted, video_muted=leg.video_muted)


def meeting_title(session: Session, run: ConferenceRun) -> str:
    """How people name *run*: its meeting's title (the bridge's conference name if the meeting is gone)."""
    meeting = session.get(Meeting, run.meeting_id) if run.meeting_id is not None else None
    return meeting.title if meeting is not None else run.conference_name
