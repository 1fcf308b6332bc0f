"""Dial retries and bridge faults, injected through the emulator's control API; alarms for each."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from confbridge.alarms.models import Alarm
from confbridge.launch.models import LegState, RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for, timeline


def _alarms(factory: Any, kind: str) -> list[Alarm]:
    with factory() as s:
        return list(s.scalars(select(Alarm).where(Alarm.kind == kind)))


def _ready(factory: Any, fc: Any, minutes_ahead: int = 10, n: int = 2, **kw: Any) -> tuple[list[int], int]:
    eps = make_endpoints(factory, n)
    start = fc.now() + timedelta(minutes=minutes_ahead)
    _m, occ = book(factory, start, setup=minutes_ahead, endpoints=eps, **kw)
    return eps, occ


def test_busy_endpoint_is_retried_with_backoff_then_failed_with_its_reason(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps, occ = _ready(session_factory, fc)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                                  launch={"dial_attempts": 3, "dial_backoff_seconds": 20, "poll_seconds": 1})
    with session_factory() as s:
        from confbridge.directory.models import Endpoint

        busy = s.get(Endpoint, eps[0])
        assert busy is not None
        mcu_emulator.set_endpoint(busy.address, "busy", answer_delay=0.02)
    try:
        run_id = None

        def busy_leg() -> Any:
            nonlocal run_id
            run_id = run_for(session_factory, occ).id
            return legs(session_factory, run_id)[0]

        drive(engine, fc, lambda: busy_leg().attempts == 1 and busy_leg().state == LegState.PENDING)
        leg = busy_leg()
        assert leg.last_reason and "busy" in leg.last_reason
        assert leg.next_attempt_at == fc.now() + timedelta(seconds=20)
        # No redial before the backoff has passed.
        fc.advance(seconds=19)
        engine.tick(wait=True)
        assert Counter(c["participant"] for c in mcu_emulator.calls())[leg.participant_name] == 1
        drive(engine, fc, lambda: busy_leg().state == LegState.FAILED, step=5, max_steps=40)
        leg = busy_leg()
        assert leg.attempts == 3
        assert Counter(c["participant"] for c in mcu_emulator.calls())[leg.participant_name] == 3
        alarms = _alarms(session_factory, "dial_failed")
        assert len(alarms) == 1 and alarms[0].endpoint_id == eps[0] and "máy bận" in alarms[0].message
        assert "busy" in alarms[0].text("en") and "máy bận" not in alarms[0].text("en")
        # The other endpoint is unaffected and the conference is live.
        assert legs(session_factory, run_id)[1].state == LegState.CONNECTED
        assert run_for(session_factory, occ).state == RunState.LIVE
        assert any(e.outcome == "retry" for e in timeline(session_factory, run_id))
    finally:
        engine.close()


def test_unreachable_bridge_is_retried_within_the_deadline_and_alarmed(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    _eps, occ = _ready(session_factory, fc)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(), attempts=1,
                                  launch={"unreachable_retry_seconds": 5})
    try:
        fc.advance(minutes=10)
        mcu_emulator.faults(http_500=2)
        engine.tick(wait=True)
        run = run_for(session_factory, occ)
        assert run.state == RunState.STARTING and not run.conference_ready
        assert run.retry_at == fc.now() + timedelta(seconds=5)
        alarms = _alarms(session_factory, "bridge_unreachable")
        assert len(alarms) == 1 and alarms[0].cleared_at is None
        engine.tick(wait=True)  # before retry_at: nothing sent
        assert mcu_emulator.state()["conferences"] == []
        fc.advance(seconds=5)
        engine.tick(wait=True)  # second 500
        assert mcu_emulator.state()["conferences"] == []
        fc.advance(seconds=5)
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.LIVE)
        assert [c["name"] for c in mcu_emulator.state()["conferences"]] == [run.conference_name]
        assert _alarms(session_factory, "bridge_unreachable")[0].cleared_at is not None
    finally:
        engine.close()


def test_unreachable_until_the_end_fails_the_run(settings: Any, session_factory: Any, frozen_clock: Any,
                                                mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 1)
    _m, occ = book(session_factory, fc.now() + timedelta(seconds=60), minutes=0.5, setup=1, endpoints=eps)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(), attempts=1,
                                  launch={"unreachable_retry_seconds": 10})
    try:
        mcu_emulator.faults(http_500=1000)
        for _ in range(12):
            engine.tick(wait=True)
            fc.advance(seconds=10)
        run = run_for(session_factory, occ)
        assert run.state == RunState.FAILED
        assert run.last_reason and "500" in run.last_reason
    finally:
        engine.close()


def test_reply_timeout_is_resolved_by_adopting_the_conference(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    fc = frozen_clock
    _eps, occ = _ready(session_factory, fc)
    bridge = mcu_emulator.bridge_settings(timeout_seconds=0.5)
    settings, engine = engine_for(settings, session_factory, bridge, attempts=1,
                                  launch={"unreachable_retry_seconds": 2})
    try:
        fc.advance(minutes=10)
        mcu_emulator.faults(timeout={"method": "conference.create", "seconds": 1.0, "count": 1})
        engine.tick(wait=True)
        run = run_for(session_factory, occ)
        assert not run.conference_ready and run.retry_at is not None  # outcome unknown: re-check later
        fc.advance(seconds=2)
        drive(engine, fc, lambda: run_for(session_factory, occ).state == RunState.LIVE)
        assert len(mcu_emulator.state()["conferences"]) == 1
    finally:
        engine.close()


def test_capacity_exceeded_waits_instead_of_storming(settings: Any, session_factory: Any, frozen_clock: Any,
                                                     mcu_emulator: Any) -> None:
    fc = frozen_clock
    _eps, occ = _ready(session_factory, fc, n=1)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(), attempts=1,
                                  launch={"capacity_retry_seconds": 60})
    try:
        fc.advance(minutes=10)
        mcu_emulator.faults(fail={"method": "participant.add", "code": 7, "count": 1})
        engine.tick(wait=True)
        engine.tick(wait=True)
        leg = legs(session_factory, run_for(session_factory, occ).id)[0]
        assert leg.state == LegState.PENDING and leg.attempts == 0  # the bridge's fault, not the endpoint's
        assert leg.next_attempt_at == fc.now() + timedelta(seconds=60)
        adds = mcu_emulator.state()["stats"]["calls"].get("participant.add", 0)
        for _ in range(5):  # a minute of ticks: no new dial
            fc.advance(seconds=10)
            engine.tick(wait=True)
        assert mcu_emulator.state()["stats"]["calls"].get("participant.add", 0) == adds
        assert len(_alarms(session_factory, "bridge_capacity")) == 1
        fc.advance(seconds=10)
        drive(engine, fc, lambda: legs(session_factory, leg.run_id)[0].state == LegState.CONNECTED)
    finally:
        engine.close()


def test_authentication_failure_is_not_retried(settings: Any, session_factory: Any, frozen_clock: Any,
                                               mcu_emulator: Any, monkeypatch: Any) -> None:
    fc = frozen_clock
    _eps, occ = _ready(session_factory, fc)
    monkeypatch.setenv(mcu_emulator.password_env, "wrong-password")
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    try:
        fc.advance(minutes=10)
        for _ in range(5):
            engine.tick(wait=True)
            fc.advance(seconds=30)
        run = run_for(session_factory, occ)
        assert run.state == RunState.FAILED
        assert mcu_emulator.state()["stats"]["auth_failures"] == 1
        alarms = _alarms(session_factory, "bridge_auth")
        assert len(alarms) == 1 and alarms[0].severity == "critical"
        assert "wrong-password" not in alarms[0].message
    finally:
        engine.close()


def test_dropped_call_raises_an_alarm_and_is_redialled(settings: Any, session_factory: Any, frozen_clock: Any,
                                                       mcu_emulator: Any) -> None:
    fc = frozen_clock
    _eps, occ = _ready(session_factory, fc, n=1)
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                                  launch={"dial_backoff_seconds": 5, "poll_seconds": 1})
    try:
        fc.advance(minutes=10)
        run_id = 0

        def leg() -> Any:
            nonlocal run_id
            run_id = run_for(session_factory, occ).id
            return legs(session_factory, run_id)[0]

        drive(engine, fc, lambda: leg().state == LegState.CONNECTED)
        mcu_emulator.drop(run_for(session_factory, occ).conference_name, leg().participant_name)
        drive(engine, fc, lambda: leg().state == LegState.PENDING)
        assert len(_alarms(session_factory, "call_dropped")) == 1
        drive(engine, fc, lambda: leg().state == LegState.CONNECTED and leg().attempts == 2, max_steps=30)
        assert len(mcu_emulator.calls()) == 2
    finally:
        engine.close()
