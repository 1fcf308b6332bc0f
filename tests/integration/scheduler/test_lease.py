"""The leader lease on SQLite and PostgreSQL: one leader, take-over after expiry, fencing of the old one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from confbridge.launch.fence import LostLease
from confbridge.launch.models import RunState
from confbridge.scheduler.lease import Lease
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, engine_for, make_endpoints, run_for


@both_databases
def test_one_leader_then_takeover_with_a_new_token(session_factory: Any, frozen_clock: Any) -> None:
    a = Lease(session_factory, "a", 10)
    b = Lease(session_factory, "b", 10)
    assert a.try_acquire() and a.token == 1
    assert not b.try_acquire()
    frozen_clock.advance(seconds=5)
    assert a.renew()
    frozen_clock.advance(seconds=9)
    assert not b.try_acquire()  # renewed: still A's
    frozen_clock.advance(seconds=2)
    assert b.try_acquire() and b.token == 2
    assert not a.renew()
    with session_factory() as s, pytest.raises(LostLease):
        a.check(s)
    with session_factory() as s:
        b.check(s)


@both_databases
def test_concurrent_acquisition_has_exactly_one_winner(session_factory: Any, frozen_clock: Any) -> None:
    leases = [Lease(session_factory, f"p{i}", 10) for i in range(8)]
    results: list[bool] = []
    barrier = threading.Barrier(len(leases))

    def attempt(lease: Lease) -> None:
        barrier.wait()
        try:
            results.append(lease.try_acquire())
        except Exception:  # a serialisation failure is a lost race, not a second leader
            results.append(False)

    threads = [threading.Thread(target=attempt, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_long_fenced_write_holds_back_a_take_over_but_not_the_holders_renewal(
    session_factory: Any, frozen_clock: Any,
) -> None:
    """A plan or reconcile of a big bridge is one long fenced transaction: the holder must still renew
    its lease meanwhile (or lose the bridge mid-storm), and a standby must not take it over until that
    write has ended."""
    a = Lease(session_factory, "a", 10)
    b = Lease(session_factory, "b", 10)
    assert a.try_acquire()
    unit = session_factory()
    a.check(unit)  # the fenced write transaction is open, holding the lease row
    renewed: list[bool] = []
    renewer = threading.Thread(target=lambda: renewed.append(a.renew()), daemon=True)
    renewer.start()
    renewer.join(5)
    assert renewed == [True], "the holder's renewal waited behind its own fenced write"
    frozen_clock.advance(seconds=11)  # the lease ran out (say the holder froze) while the write is open
    taken: list[bool] = []
    standby = threading.Thread(target=lambda: taken.append(b.try_acquire()), daemon=True)
    standby.start()
    standby.join(1.0)
    assert taken == [], "a take-over landed in the middle of the old holder's fenced write"
    unit.commit()
    unit.close()
    standby.join(10)
    assert taken == [True] and b.token == 2


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_renewals_do_not_queue_behind_engine_steps_holding_every_pooled_connection(
    session_factory: Any, settings: Any, frozen_clock: Any,
) -> None:
    """In a storm each bridge engine runs up to 12 steps at once, each in a transaction: a scheduler
    with several bridges held every connection of the shared pool, and its renewals waited for one
    until the lease ran out.  The scheduler's leases have connections of their own."""
    from sqlalchemy import text

    from confbridge.scheduler.process import _lease_sessions

    engine = session_factory.kw["bind"]
    lease_factory, lease_engine = _lease_sessions(engine, session_factory, settings)
    assert lease_engine is not None
    held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]  # type: ignore[attr-defined]
    try:
        for conn in held:
            conn.execute(text("SELECT 1"))
        lease = Lease(lease_factory, "a", 10)
        outcome: list[bool] = []
        worker = threading.Thread(target=lambda: outcome.extend([lease.try_acquire(), lease.renew()]), daemon=True)
        worker.start()
        worker.join(5)
        assert outcome == [True, True], "the lease waited for a connection of the engines' pool"
    finally:
        for conn in held:
            conn.close()
        lease_engine.dispose()


def test_old_leader_cannot_touch_the_bridge_after_losing_the_lease(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    eps = make_endpoints(session_factory, 2)
    _m, occ = book(session_factory, frozen_clock.now() + timedelta(seconds=70), setup=1, endpoints=eps)
    old = Lease(session_factory, "old", 10)
    assert old.try_acquire()
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(), fence=old)
    try:
        engine.tick(wait=True)  # planned while leader
        assert run_for(session_factory, occ).state == RunState.SCHEDULED
        frozen_clock.advance(seconds=11)  # old leader paused past its lease; a new one takes over
        new = Lease(session_factory, "new", 10)
        assert new.try_acquire()
        with pytest.raises(LostLease):
            engine.tick(wait=True)
        engine.wait()
        assert run_for(session_factory, occ).state == RunState.SCHEDULED
        assert mcu_emulator.state()["conferences"] == []
        assert mcu_emulator.calls() == []
    finally:
        engine.close()


def test_leader_whose_lease_ran_out_locally_stops_before_the_bridge_call(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    """The decision was committed, then the process stalled past its lease: the call is not made."""
    eps = make_endpoints(session_factory, 1)
    _m, occ = book(session_factory, frozen_clock.now() + timedelta(minutes=1), setup=1, endpoints=eps)
    lease = Lease(session_factory, "slow", 0.3)
    assert lease.try_acquire()
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(), fence=lease)
    try:
        frozen_clock.advance(seconds=0.1)
        real_check = lease.check

        def check_then_stall(session: Any) -> None:
            real_check(session)
            time.sleep(0.35)  # bounded: just past the 0.3 s lease, measured on the monotonic clock

        lease.check = check_then_stall  # type: ignore[method-assign]
        engine.tick(wait=True)
        assert run_for(session_factory, occ).state == RunState.STARTING  # the decision was committed
        assert mcu_emulator.state()["conferences"] == []  # but the bridge was never called
        assert mcu_emulator.calls() == []
    finally:
        engine.close()


@both_databases
def test_each_bridge_engine_is_fenced_by_its_own_bridge_lease(
        settings: Any, session_factory: Any, frozen_clock: Any, mcu_emulator_factory: Any) -> None:
    """Two engines, one per bridge lease: each launches only its bridge's meeting; when one bridge's lease
    is taken over, that engine stops (no write, no call) while the other bridge's engine carries on."""
    from confbridge.bridges.registry import make_driver
    from confbridge.launch.executor import LaunchEngine
    from confbridge.launch.scope import Scope
    from confbridge.scheduler.share import bridge_lease_name

    emus = {name: mcu_emulator_factory() for name in ("mcu-a", "mcu-b")}
    settings = settings.with_overrides(bridges=[
        emu.bridge_settings(name=name, default=name == "mcu-a").model_dump() for name, emu in emus.items()])
    eps = make_endpoints(session_factory, 2)
    occs = {name: book(session_factory, frozen_clock.now() + timedelta(minutes=1), setup=1, endpoints=[ep],
                       bridge=name)[1] for name, ep in zip(emus, eps, strict=True)}
    leases = {name: Lease(session_factory, f"holder-{name}", 10, name=bridge_lease_name(name)) for name in emus}
    assert all(lease.try_acquire() for lease in leases.values())
    engines = {name: LaunchEngine(session_factory, settings, {name: make_driver(settings.bridge(name))},  # type: ignore[arg-type]
                                  fence=leases[name], scope=Scope.bridge(name)) for name in emus}
    try:
        for _ in range(20):
            for engine in engines.values():
                engine.tick(wait=True)
            if all(run_for(session_factory, o).state == RunState.LIVE for o in occs.values()):
                break
            time.sleep(0.05)
            frozen_clock.advance(seconds=0.5)
        for name, emu in emus.items():
            assert [c["name"] for c in emu.state()["conferences"]] == [run_for(session_factory, occs[name])
                                                                            .conference_name]
            assert len(emu.calls()) == 1
        # mcu-a's holder stalls past its lease; another scheduler takes mcu-a (mcu-b's holder renewed).
        frozen_clock.advance(seconds=6)
        assert leases["mcu-b"].renew()
        frozen_clock.advance(seconds=5)
        assert leases["mcu-b"].renew()
        taker = Lease(session_factory, "taker", 10, name=bridge_lease_name("mcu-a"))
        assert taker.try_acquire() and taker.token == 2
        with session_factory.begin() as s:
            from confbridge.booking.models import Occurrence

            for occ_id in occs.values():
                s.get(Occurrence, occ_id).end = frozen_clock.now()  # both meetings end now
        with pytest.raises(LostLease):
            engines["mcu-a"].tick(wait=True)
        for _ in range(20):
            engines["mcu-b"].tick(wait=True)
            if run_for(session_factory, occs["mcu-b"]).state == RunState.ENDED:
                break
            time.sleep(0.05)
        assert run_for(session_factory, occs["mcu-b"]).state == RunState.ENDED
        assert run_for(session_factory, occs["mcu-a"]).state == RunState.LIVE  # untouched by the fenced engine
        assert len(emus["mcu-a"].state()["conferences"]) == 1  # never torn down by the old holder
        assert emus["mcu-b"].state()["conferences"] == []
    finally:
        for engine in engines.values():
            engine.close()
