"""A booked meeting is launched on the emulator at its setup time, every endpoint dialled, ended on time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.launch.models import LegState, RunState
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for, timeline


@both_databases
def test_conference_created_dialled_and_ended_on_time(settings: Any, session_factory: Any, frozen_clock: Any,
                                                      mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 3)
    start = fc.now() + timedelta(minutes=20)
    _meeting_id, occ_id = book(session_factory, start, minutes=30, setup=10, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        engine.tick(wait=True)
        run = run_for(session_factory, occ_id)
        assert run.state == RunState.SCHEDULED
        assert run.planned_start == start - timedelta(minutes=10)
        assert mcu_emulator.state()["conferences"] == []

        # One second before the setup time: nothing on the bridge yet.
        fc.set(run.planned_start - timedelta(seconds=1))
        engine.tick(wait=True)
        assert mcu_emulator.state()["conferences"] == []

        fc.set(run.planned_start)
        drive(engine, fc, lambda: run_for(session_factory, occ_id).state == RunState.LIVE and all(
            leg.state == LegState.CONNECTED for leg in legs(session_factory, run.id)))
        conf_names = [c["name"] for c in mcu_emulator.state()["conferences"]]
        assert conf_names == [run.conference_name]
        dialled = sorted(c["participant"] for c in mcu_emulator.calls())
        assert dialled == sorted(f"cb-ep-{e}" for e in eps)
        run = run_for(session_factory, occ_id)
        assert run.first_call_at is not None and run.lateness_ms is not None
        assert 0 <= run.lateness_ms < 2000

        # Still live one second before the end.
        fc.set(start + timedelta(minutes=30) - timedelta(seconds=1))
        engine.tick(wait=True)
        assert run_for(session_factory, occ_id).state == RunState.LIVE

        fc.set(start + timedelta(minutes=30))
        engine.tick(wait=True)
        engine.tick(wait=True)
        assert run_for(session_factory, occ_id).state == RunState.ENDED
        assert mcu_emulator.state()["conferences"] == []
        assert all(leg.state == LegState.DISCONNECTED for leg in legs(session_factory, run.id))
        assert len(mcu_emulator.calls()) == 3  # no duplicate dial

        entries = timeline(session_factory, run.id)
        states = [e.outcome for e in entries if e.kind == "state"]
        assert states == ["scheduled", "starting", "live", "ending", "ended"]
        calls = [e.message.split()[0] for e in entries if e.kind == "bridge_call"]
        assert calls.count("conference.create") == 1
        assert calls.count("participant.add") == 3
        assert calls.count("participant.disconnect") == 3
        assert calls.count("conference.destroy") == 1
    finally:
        engine.close()
