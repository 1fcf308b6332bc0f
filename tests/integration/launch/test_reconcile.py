"""Reconcile with what the bridge reports: adopt ours, re-create what vanished, remove leftovers of ours,
never touch conferences we did not create."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.bridges.registry import make_driver
from confbridge.launch.models import RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for


def test_foreign_conferences_are_never_touched_and_our_leftovers_are_removed(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    driver = make_driver(mcu_emulator.bridge_settings())
    driver.ensure_conference("Hop khan Tinh uy")  # someone else's conference
    driver.ensure_conference("cb-999-20261129T0100Z")  # ours, for an occurrence nobody books any more
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        engine.reconcile()
        names = [c["name"] for c in mcu_emulator.state()["conferences"]]
        assert names == ["Hop khan Tinh uy"]
    finally:
        engine.close()
        driver.close()


def test_a_conference_that_vanished_from_the_bridge_is_recreated_and_redialled(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    _m, occ = book(session_factory, fc.now() + timedelta(minutes=5), setup=5, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    driver = make_driver(mcu_emulator.bridge_settings())
    try:
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.LIVE)
        name = run_for(session_factory, occ).conference_name
        driver.destroy_conference(name)  # the MCU restarted, or someone deleted it by hand
        engine.reconcile()
        drive(engine, fc, lambda: all(leg.state == "connected"
                                      for leg in legs(session_factory, run_for(session_factory, occ).id))
              and bool(mcu_emulator.state()["conferences"]))
        assert [c["name"] for c in mcu_emulator.state()["conferences"]] == [name]
        assert len(mcu_emulator.calls()) == 4  # each endpoint dialled once per conference incarnation
    finally:
        engine.close()
        driver.close()
