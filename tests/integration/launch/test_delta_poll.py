"""The engine's participant poll reads only what changed (delta enumeration) and still sees every change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.launch.models import LegState, RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for


def test_engine_polls_by_delta_and_its_view_equals_a_full_read(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator_factory: Any) -> None:
    fc = frozen_clock
    emulator = mcu_emulator_factory(page_size=2)
    eps = make_endpoints(session_factory, 5)
    start = fc.now() + timedelta(minutes=10)
    _meeting_id, occ_id = book(session_factory, start, minutes=30, setup=5, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, emulator.bridge_settings())
    bridge = settings.bridges[0].name
    driver = engine.drivers[bridge]
    view = engine.views[bridge]
    try:
        # Start-up reconcile reads the bridge in full through the view: the polls then start from its
        # revision (so the first poll of a storm is not a full read competing with the dials).
        engine.reconcile(wait=True)
        assert (view.full_reads, view.delta_reads) == (1, 0)
        fc.set(start - timedelta(minutes=5))
        drive(engine, fc, lambda: run_for(session_factory, occ_id).state == RunState.LIVE and all(
            leg.state == LegState.CONNECTED for leg in legs(session_factory, run_for(session_factory, occ_id).id)))
        run = run_for(session_factory, occ_id)
        assert view.full_reads == 1 and view.delta_reads > 0  # every poll asked only for changes
        deltas = view.delta_reads

        # A far-end hang-up is a change the next delta poll must carry into the leg.
        dropped = legs(session_factory, run.id)[2]
        emulator.drop(run.conference_name, dropped.participant_name)
        drive(engine, fc, lambda: legs(session_factory, run.id)[2].state != LegState.CONNECTED)
        assert view.full_reads == 1 and view.delta_reads > deltas
        states = {leg.participant_name: leg.state for leg in legs(session_factory, run.id)}
        assert states.pop(dropped.participant_name) != LegState.CONNECTED
        assert set(states.values()) == {LegState.CONNECTED}

        # The cached view after those deltas is exactly what a full read returns.
        assert {p.key: p for p in view.read()} == {p.key: p for p in driver.list_participants()}
        # And a delta poll of 5 participants in pages of 2 costs one call, not three.
        before = emulator.state()["stats"]["calls"]["participant.enumerate"]
        view.read()
        assert emulator.state()["stats"]["calls"]["participant.enumerate"] - before == 1

        # The periodic reconcile (the scheduler's, every reconcile interval) reads the view's changes,
        # not every page again, and still carries a change into the leg.
        other = legs(session_factory, run.id)[3]
        emulator.drop(run.conference_name, other.participant_name)
        before = emulator.state()["stats"]["calls"]["participant.enumerate"]
        engine.reconcile(wait=True, full=False)
        assert emulator.state()["stats"]["calls"]["participant.enumerate"] - before == 1
        assert view.full_reads == 1
        assert legs(session_factory, run.id)[3].state != LegState.CONNECTED
    finally:
        engine.close()
