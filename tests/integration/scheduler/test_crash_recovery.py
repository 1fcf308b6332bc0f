"""kill -9 of the scheduler at each launch state, then a restart: one conference, one dial per endpoint,
and the run ends ``ended``.  Real subprocesses on the system clock; emulator delays widen the windows.
Every case runs on SQLite and on the real PostgreSQL (the production database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confbridge.launch.models import CallLeg, ConferenceRun, RunState
from tests.integration.launch.helpers import book, make_endpoints, timeline
from tests.integration.scheduler.procs import SchedulerProc, wait_until, write_config

pytestmark = pytest.mark.slow


def _run(factory: Any, occ_id: int) -> ConferenceRun | None:
    with factory() as s:
        return s.scalars(select(ConferenceRun).where(ConferenceRun.occurrence_id == occ_id)).first()


def _legs(factory: Any, run_id: int) -> list[CallLeg]:
    with factory() as s:
        return list(s.scalars(select(CallLeg).where(CallLeg.run_id == run_id)))


CASES = {
    # fault injected before the kill, condition to kill at
    "before_create": ({"latency_ms": 1500},
                      lambda run, legs, emu: run is not None and run.state == RunState.STARTING),
    "after_create": ({"timeout": {"method": "conference.create", "seconds": 4, "count": 1}},
                     lambda run, legs, emu: run is not None and bool(emu.state()["conferences"])),
    "mid_dial": ({"timeout": {"method": "participant.add", "seconds": 4, "count": 1}},
                 lambda run, legs, emu: len(emu.calls()) >= 3 and any(not leg.on_bridge for leg in legs)),
    "live": ({}, lambda run, legs, emu: run is not None and run.state == RunState.LIVE),
    "mid_teardown": ({"timeout": {"method": "participant.disconnect", "seconds": 4, "count": 1}},
                     lambda run, legs, emu: run is not None and run.state == RunState.ENDING),
}


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("case", list(CASES))
def test_sigkill_then_restart_converges(case: str, tmp_path: Path, db_url: str, session_factory: Any,
                                        mcu_emulator: Any) -> None:
    fault, kill_when = CASES[case]
    eps = make_endpoints(session_factory, 3)
    now = datetime.now(UTC)
    start = now + timedelta(seconds=3)
    # after_create waits out a 4 s create timeout before the kill: leave the restarted scheduler time to dial.
    length = {"mid_teardown": 6, "after_create": 12}.get(case, 9)
    _mid, occ_id = book(session_factory, start, minutes=0, setup=0, endpoints=eps)
    # Short meetings: set the end in seconds (rows written directly, as the booking service would).
    with session_factory.begin() as s:
        from confbridge.booking.models import EndpointSlot, Occurrence

        occ = s.get(Occurrence, occ_id)
        occ.end = start + timedelta(seconds=length)
        occ.meeting.end = occ.end
        for slot in s.scalars(select(EndpointSlot).where(EndpointSlot.occurrence_id == occ_id)):
            slot.window_end = occ.end
    config = write_config(tmp_path / "scheduler.toml", db_url, mcu_emulator)
    first = SchedulerProc(config, tmp_path / "first.log")
    try:
        # Faults go in once the scheduler has planned the run (its start-up reconcile is over).
        wait_until(lambda: _run(session_factory, occ_id) is not None, 15, "the run to be planned")
        if fault:
            mcu_emulator.faults(**fault)
        def ready() -> bool:
            run = _run(session_factory, occ_id)
            return kill_when(run, _legs(session_factory, run.id) if run else [], mcu_emulator)

        try:
            wait_until(ready, 20, f"the run to reach the {case} crash point")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{first.log()[-4000:]}") from None
    finally:
        first.kill()
    mcu_emulator.faults(clear=True, latency_ms=0)
    second = SchedulerProc(config, tmp_path / "second.log")
    try:
        wait_until(lambda: (r := _run(session_factory, occ_id)) is not None and r.state == RunState.ENDED,
                   40, "the run to end after the restart", interval=0.2)
    finally:
        second.stop()
    run = _run(session_factory, occ_id)
    assert run is not None
    calls = mcu_emulator.calls()
    per_participant = Counter(c["participant"] for c in calls)
    assert per_participant == Counter({f"cb-ep-{e}": 1 for e in eps}), (per_participant, second.log()[-3000:])
    assert {c["conference"] for c in calls} == {run.conference_name}
    assert mcu_emulator.state()["conferences"] == []
    states = [e.outcome for e in timeline(session_factory, run.id) if e.kind == "state"]
    assert states[-2:] == ["ending", "ended"]
    assert "live" in states
