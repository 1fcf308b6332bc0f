"""Late and missed launches after downtime; moves, cancellations and endpoint changes follow the booking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from confbridge.alarms.models import Alarm
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.launch.models import LegState, RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for, timeline


def _alarm_kinds(factory: Any) -> list[str]:
    with factory() as s:
        return [a.kind for a in s.scalars(select(Alarm))]


def test_after_downtime_a_running_occurrence_is_launched_late_and_flagged(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    _m, occ = book(session_factory, fc.now() - timedelta(minutes=5), minutes=30, setup=10, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.LIVE)
        run = run_for(session_factory, occ)
        assert run.late and run.lateness_ms is not None and run.lateness_ms >= 15 * 60 * 1000
        assert any(e.outcome == "late" for e in timeline(session_factory, run.id))
        assert "launch_late" in _alarm_kinds(session_factory)
        assert len(mcu_emulator.state()["conferences"]) == 1
    finally:
        engine.close()


def test_after_downtime_an_ended_occurrence_is_marked_missed_with_an_alarm(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    _m, occ = book(session_factory, fc.now() - timedelta(hours=2), minutes=60, setup=10, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        engine.tick(wait=True)
        assert run_for(session_factory, occ).state == RunState.MISSED
        assert "launch_missed" in _alarm_kinds(session_factory)
        assert mcu_emulator.state()["conferences"] == [] and mcu_emulator.calls() == []
    finally:
        engine.close()


def test_moving_an_occurrence_replans_its_launch(settings: Any, session_factory: Any, frozen_clock: Any,
                                                 mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 1)
    start = fc.now() + timedelta(minutes=20)
    _m, occ = book(session_factory, start, minutes=30, setup=5, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        engine.tick(wait=True)
        with session_factory.begin() as s:  # the secretary moves it 30 minutes later
            o = s.get(Occurrence, occ)
            o.start, o.end = o.start + timedelta(minutes=30), o.end + timedelta(minutes=30)
        fc.set(start - timedelta(minutes=5))  # the old setup time
        engine.tick(wait=True)
        run = run_for(session_factory, occ)
        assert run.state == RunState.SCHEDULED
        assert run.planned_start == start + timedelta(minutes=25)
        assert mcu_emulator.state()["conferences"] == []
        fc.set(run.planned_start)
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.LIVE)
    finally:
        engine.close()


def test_cancelling_an_occurrence_cancels_its_launch_and_a_live_one_ends(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    _m1, occ1 = book(session_factory, fc.now() + timedelta(minutes=30), setup=5, endpoints=eps[:1])
    m2, occ2 = book(session_factory, fc.now() + timedelta(minutes=5), setup=5, endpoints=eps[1:])
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        drive(engine, fc, lambda: run_for(session_factory, occ2).state == RunState.LIVE)
        with session_factory.begin() as s:
            s.get(Occurrence, occ1).status = "cancelled"  # type: ignore[union-attr]
            s.get(Meeting, m2).status = "cancelled"  # type: ignore[union-attr]
        engine.tick(wait=True)
        engine.tick(wait=True)
        assert run_for(session_factory, occ1).state == RunState.CANCELLED
        assert run_for(session_factory, occ2).state == RunState.ENDED
        assert mcu_emulator.state()["conferences"] == []
    finally:
        engine.close()


def test_endpoints_added_or_removed_live_are_dialled_or_hung_up(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 3)
    _m, occ = book(session_factory, fc.now() + timedelta(minutes=5), setup=5, endpoints=eps[:2])
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        run_id = 0

        def all_connected() -> bool:
            nonlocal run_id
            run_id = run_for(session_factory, occ).id
            return all(leg.state == LegState.CONNECTED for leg in legs(session_factory, run_id) if leg.wanted)

        drive(engine, fc, all_connected)
        with session_factory.begin() as s:
            o = s.get(Occurrence, occ)
            assert o is not None
            s.execute(delete(EndpointSlot).where(EndpointSlot.occurrence_id == occ,
                                                 EndpointSlot.endpoint_id == eps[0]))
            s.add(EndpointSlot(occurrence_id=occ, meeting_id=o.meeting_id, endpoint_id=eps[2],
                               window_start=o.window_start, window_end=o.end))
        drive(engine, fc, lambda: {leg.endpoint_id: leg.state for leg in legs(session_factory, run_id)} == {
            eps[0]: LegState.REMOVED, eps[1]: LegState.CONNECTED, eps[2]: LegState.CONNECTED})
        conf = run_for(session_factory, occ).conference_name
        assert mcu_emulator.participant(conf, f"cb-ep-{eps[0]}") is None
        assert mcu_emulator.participant(conf, f"cb-ep-{eps[2]}") is not None
    finally:
        engine.close()


def test_between_full_comparisons_a_last_minute_extension_or_move_is_followed_on_time(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    """The scheduler compares every open run with the booking every few seconds, not every tick; the
    runs about to start or end are compared at every tick.  A meeting extended a second before its end
    keeps going, and one moved a second before its start waits."""
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    _m, live_occ = book(session_factory, fc.now() - timedelta(minutes=29), minutes=30, setup=1, endpoints=eps[:1])
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        drive(engine, fc, lambda: run_for(session_factory, live_occ).state == RunState.LIVE)
        end = run_for(session_factory, live_occ).planned_end
        # The next meeting's setup begins a second after this one ends.
        _m, next_occ = book(session_factory, end + timedelta(minutes=1, seconds=1), minutes=30, setup=1,
                            endpoints=eps[1:])
        fc.advance(seconds=(end - fc.now()).total_seconds() - 1)
        engine.tick(wait=True)  # a full comparison now; the next ticks (within seconds) are not full
        assert run_for(session_factory, next_occ).state == RunState.SCHEDULED
        with session_factory.begin() as s:
            s.get(Occurrence, live_occ).extension_minutes = 15  # extended from the console
            s.get(Occurrence, next_occ).start += timedelta(hours=1)  # moved by the secretary
            s.get(Occurrence, next_occ).end += timedelta(hours=1)
        fc.advance(seconds=2)  # past the old end, and past the other meeting's old setup time
        engine.tick()
        engine.wait()
        run = run_for(session_factory, live_occ)
        assert (run.state, run.planned_end) == (RunState.LIVE, end + timedelta(minutes=15))
        assert run_for(session_factory, next_occ).state == RunState.SCHEDULED
        assert len(mcu_emulator.state()["conferences"]) == 1
    finally:
        engine.close()
