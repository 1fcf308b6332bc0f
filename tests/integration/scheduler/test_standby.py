"""Two scheduler processes on one database: one launches, the other stands by and takes over on death.
Runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confbridge.booking.models import Occurrence
from confbridge.launch.models import ConferenceRun, RunState, SchedulerLease
from tests.integration.launch.helpers import book, make_endpoints
from tests.integration.scheduler.procs import SchedulerProc, wait_until, write_config

pytestmark = pytest.mark.slow


def _lease(factory: Any) -> SchedulerLease | None:
    with factory() as s:
        return s.get(SchedulerLease, "launch")


def _run(factory: Any, occ_id: int) -> ConferenceRun | None:
    with factory() as s:
        return s.scalars(select(ConferenceRun).where(ConferenceRun.occurrence_id == occ_id)).first()


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_standby_never_launches_and_takes_over_within_15_seconds(
        tmp_path: Path, db_url: str, session_factory: Any, mcu_emulator: Any) -> None:
    eps = make_endpoints(session_factory, 2)
    # Default lease (10 s): the take-over bound of the issue (15 s) is tested with production settings.
    config = write_config(tmp_path / "scheduler.toml", db_url, mcu_emulator, lease_seconds=10)
    a = SchedulerProc(config, tmp_path / "a.log")
    b: SchedulerProc | None = None
    try:
        wait_until(lambda: _lease(session_factory) is not None, 15, "the first scheduler to lead")
        lease = _lease(session_factory)
        assert lease is not None and f":{a.pid}:" in lease.holder
        b = SchedulerProc(config, tmp_path / "b.log")
        # A first meeting, launched while both run: only the leader acts.
        start = datetime.now(UTC) + timedelta(seconds=2)
        _m1, occ1 = book(session_factory, start, minutes=10, setup=0, endpoints=eps[:1])
        wait_until(lambda: (r := _run(session_factory, occ1)) is not None and r.state == RunState.LIVE, 20,
                   "meeting 1 live")
        time.sleep(1.0)  # B had time to do something wrong, if it would
        assert "is active" not in b.log()
        lease = _lease(session_factory)
        assert lease is not None and f":{a.pid}:" in lease.holder and lease.token == 1

        a.kill()
        killed_at = time.monotonic()
        wait_until(lambda: (l_ := _lease(session_factory)) is not None and f":{b.pid}:" in l_.holder, 16,
                   "the standby to take over")
        takeover = time.monotonic() - killed_at
        assert takeover <= 15.0
        lease = _lease(session_factory)
        assert lease is not None and lease.token == 2  # a new fencing token
        # The new leader drives a meeting booked after the take-over and ends the first one.
        _m2, occ2 = book(session_factory, datetime.now(UTC) + timedelta(seconds=1), minutes=10, setup=0,
                         endpoints=eps[1:])
        wait_until(lambda: (r := _run(session_factory, occ2)) is not None and r.state == RunState.LIVE, 20,
                   "meeting 2 live under the new leader")
        with session_factory.begin() as s:
            occ = s.get(Occurrence, occ1)
            occ.end = datetime.now(UTC)  # the organiser ends meeting 1 early
        wait_until(lambda: (r := _run(session_factory, occ1)) is not None and r.state == RunState.ENDED, 20,
                   "meeting 1 ended by the new leader")
    finally:
        a.kill() if a.proc.poll() is None else None
        if b is not None:
            b.stop()
    per_participant = Counter(c["participant"] for c in mcu_emulator.calls())
    assert per_participant == Counter({f"cb-ep-{e}": 1 for e in eps})
    print(f"take-over after SIGKILL: {takeover:.1f}s")
