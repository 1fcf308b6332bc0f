"""Point 1 of issue 15: a leg's final outcome survives the end of the conference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.directory.models import Endpoint
from confbridge.launch.models import LegState, RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for


def test_busy_leg_stays_failed_busy_after_three_attempts_and_the_end(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    start = fc.now() + timedelta(minutes=1)
    _m, occ = book(session_factory, start, minutes=2, setup=1, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                                  launch={"dial_attempts": 3, "dial_backoff_seconds": 5, "poll_seconds": 1})
    with session_factory() as s:
        busy = s.get(Endpoint, eps[0])
        assert busy is not None
        mcu_emulator.set_endpoint(busy.address, "busy", answer_delay=0.02)
    try:
        drive(engine, fc, lambda: legs(session_factory, run_for(session_factory, occ).id)[0].state
              == LegState.FAILED, step=2, max_steps=80)
        connected_at = legs(session_factory, run_for(session_factory, occ).id)[1].first_connected_at
        assert connected_at is not None
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.ENDED, step=5, max_steps=80)
        run = run_for(session_factory, occ)
        failed, good = legs(session_factory, run.id)
        # The teardown's "ended" does not overwrite what happened.
        assert (failed.outcome, failed.fail_reason, failed.attempts) == ("failed", "busy", 3)
        assert failed.first_connected_at is None and failed.connected_seconds == 0
        assert good.state == LegState.DISCONNECTED and good.last_reason == "ended"
        assert good.outcome == "connected" and good.first_connected_at == connected_at
        assert good.fail_reason is None and good.drops == 0
        # Connected from its first connect until the teardown hung it up (the clock is frozen in steps).
        assert 60 <= good.connected_seconds <= int((run.ended_at - connected_at).total_seconds())
    finally:
        engine.close()
