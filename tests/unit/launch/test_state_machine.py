"""The run state machine: allowed transitions as data, a timeline entry and an event per change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from confbridge import events
from confbridge.bridges.base import (
    AuthError,
    CapacityExceeded,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    TransientError,
)
from confbridge.launch.faults import FaultKind, classify
from confbridge.launch.models import TERMINAL_STATES, ConferenceRun, RunState, TimelineEntry
from confbridge.launch.state import ALLOWED, IllegalTransition, transition


class Collect:
    def __init__(self) -> None:
        self.events: list[events.Event] = []

    def publish(self, event: events.Event) -> None:
        self.events.append(event)


@pytest.fixture
def published() -> Any:
    collector = Collect()
    events.set_publisher(collector)
    yield collector.events
    events.set_publisher(None)


def _run(session: Any, frozen_clock: Any) -> ConferenceRun:
    run = ConferenceRun(bridge_name="mcu", conference_name="cb-1-20261130T0100Z", state=RunState.SCHEDULED,
                        planned_start=frozen_clock.now(), planned_end=frozen_clock.now() + timedelta(hours=1))
    session.add(run)
    session.flush()
    return run


def test_terminal_states_have_no_way_out() -> None:
    for state in TERMINAL_STATES:
        assert ALLOWED[state] == frozenset()
    assert set(ALLOWED) == set(RunState)


def test_the_happy_path_is_allowed_and_each_step_is_recorded_and_published(
        session: Any, frozen_clock: Any, published: Any) -> None:
    run = _run(session, frozen_clock)
    for state in (RunState.STARTING, RunState.LIVE, RunState.ENDING, RunState.ENDED):
        transition(session, run, state)
    session.commit()
    entries = session.query(TimelineEntry).filter_by(run_id=run.id).order_by(TimelineEntry.id).all()
    assert [e.outcome for e in entries] == ["starting", "live", "ending", "ended"]
    assert entries[1].message == "Đang khởi tạo → Đang diễn ra"  # the Vietnamese text, for plain readers
    assert entries[1].text("en") == "Starting → Live"  # rendered in the reader's language
    assert entries[1].as_dict("en")["code"] == "state.changed"
    assert [(e.type, e.payload["state"]) for e in published] == [
        ("conference.state", "starting"), ("conference.state", "live"), ("conference.state", "ending"),
        ("conference.state", "ended")]
    assert published[0].payload["conference_id"] == run.id
    assert run.started_at and run.live_at and run.ended_at


@pytest.mark.parametrize(("start", "target"), [
    (RunState.SCHEDULED, RunState.LIVE), (RunState.SCHEDULED, RunState.ENDED),
    (RunState.LIVE, RunState.STARTING), (RunState.ENDED, RunState.STARTING),
    (RunState.CANCELLED, RunState.STARTING), (RunState.MISSED, RunState.LIVE),
])
def test_illegal_transitions_are_refused(session: Any, frozen_clock: Any, start: RunState,
                                         target: RunState) -> None:
    run = _run(session, frozen_clock)
    run.state = start
    with pytest.raises(IllegalTransition):
        transition(session, run, target)
    assert run.state == start


def test_events_of_a_rolled_back_change_are_never_published(session: Any, frozen_clock: Any,
                                                           published: Any) -> None:
    run = _run(session, frozen_clock)
    transition(session, run, RunState.STARTING)
    session.rollback()
    assert published == []


@pytest.mark.parametrize(("error", "kind"), [
    (AuthError("x"), FaultKind.AUTH), (CapacityExceeded("x"), FaultKind.CAPACITY),
    (TransientError("x"), FaultKind.UNREACHABLE), (OutcomeUnknown("x"), FaultKind.UNKNOWN_OUTCOME),
    (NotFound("x"), FaultKind.NOT_FOUND), (InvalidRequest("x"), FaultKind.FATAL),
    (RuntimeError("x"), FaultKind.FATAL),
])
def test_bridge_errors_are_classified_for_retry_decisions(error: Exception, kind: FaultKind) -> None:
    assert classify(error) == kind
