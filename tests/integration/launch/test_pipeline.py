"""The storm pipeline: a conference's dials are decided (``dialling``, committed) in one transaction
before any is sent, then sent in their own steps; a process that dies between the two re-sends each
lost dial once and never dials an endpoint twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from confbridge.launch import steps
from confbridge.launch.models import ConferenceRun, LegState, TimelineEntry
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for


def _adds(mcu_emulator: Any) -> Counter[str]:
    """Calls the bridge placed, by participant."""
    return Counter(c["participant"] for c in mcu_emulator.calls())


@both_databases
def test_dials_decided_in_one_transaction_then_sent(settings: Any, session_factory: Any, frozen_clock: Any,
                                                    mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 4)
    start = fc.now() + timedelta(minutes=10)
    _m, occ_id = book(session_factory, start, minutes=30, setup=5, endpoints=eps)
    _s, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        fc.set(start - timedelta(minutes=5))
        drive(engine, fc, lambda: all(leg.state == LegState.CONNECTED
                                      for leg in legs(session_factory, run_for(session_factory, occ_id).id)))
        run = run_for(session_factory, occ_id)
        assert sorted(_adds(mcu_emulator).values()) == [1, 1, 1, 1]
        with session_factory() as s:
            # Each leg's event "dialling" was queued by the one decision; every dial recorded once, ok.
            dials = s.scalar(select(func.count()).select_from(TimelineEntry).where(
                TimelineEntry.run_id == run.id, TimelineEntry.code == "call.dial"))
        assert dials == 4
        assert all(leg.attempts == 1 and leg.on_bridge for leg in legs(session_factory, run.id))
    finally:
        engine.close()


@both_databases
def test_dials_decided_but_never_sent_are_resent_once(settings: Any, session_factory: Any, frozen_clock: Any,
                                                      mcu_emulator: Any) -> None:
    """The decision committed, then the process died before sending: the next engine re-sends each."""
    fc = frozen_clock
    eps = make_endpoints(session_factory, 3)
    start = fc.now() + timedelta(minutes=10)
    _m, occ_id = book(session_factory, start, minutes=30, setup=5, endpoints=eps)
    _s, first = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        first.tick(wait=True)  # plans the run
        fc.set(start - timedelta(minutes=5))
        run_id = run_for(session_factory, occ_id).id
        driver = next(iter(first.drivers.values()))
        steps.start_run(first.ctx, driver, run_id)  # the conference exists on the bridge
        with first.ctx.write() as s:
            run = s.get(ConferenceRun, run_id)
            claimed = steps.claim_dials(s, run, fc.now(), lambda _leg_id: True)
        assert len(claimed) == 3  # decided and committed; none sent: the process "dies" here
    finally:
        first.close()
    assert all(leg.state == LegState.DIALLING and leg.attempts == 1 for leg in legs(session_factory, run_id))
    assert _adds(mcu_emulator) == Counter()

    _s, second = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        drive(second, fc, lambda: all(leg.state == LegState.CONNECTED for leg in legs(session_factory, run_id)))
        assert sorted(_adds(mcu_emulator).values()) == [1, 1, 1]  # each re-sent once, none twice
        assert all(leg.attempts == 1 for leg in legs(session_factory, run_id))
    finally:
        second.close()
