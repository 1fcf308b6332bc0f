"""kill -9 of the scheduler in the middle of a pre-flight test call, then a restart: the test conference is
adopted, no endpoint is dialled twice, results are recorded and the conference is destroyed (real
subprocesses, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from confbridge.booking.models import Occurrence
from confbridge.launch.preflight import create_preflight
from confbridge.launch.preflight_models import PreflightPhase, PreflightRun
from tests.integration.launch.helpers import book, make_endpoints
from tests.integration.scheduler.procs import SchedulerProc, wait_until, write_config

pytestmark = pytest.mark.slow


def _pf(factory: Any, pf_id: int) -> PreflightRun:
    with factory() as s:
        pf = s.get(PreflightRun, pf_id)
        assert pf is not None
        _ = pf.results
        return pf


CASES = {
    "mid_dial": ({"timeout": {"method": "participant.add", "seconds": 4, "count": 1}},
                 lambda pf, emu: pf.phase == PreflightPhase.DIALLING and len(emu.calls()) >= 1),
    "mid_teardown": ({"timeout": {"method": "conference.destroy", "seconds": 4, "count": 1}},
                     lambda pf, emu: pf.phase == PreflightPhase.TEARDOWN),
}


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("case", list(CASES))
def test_sigkill_during_preflight_then_restart_finishes_it_once(
        case: str, tmp_path: Path, db_url: str, session_factory: Any, mcu_emulator: Any) -> None:
    fault, kill_when = CASES[case]
    eps = make_endpoints(session_factory, 3)
    _mid, occ_id = book(session_factory, datetime.now(UTC) + timedelta(hours=3), minutes=60, setup=30,
                        endpoints=eps)
    config = write_config(tmp_path / "scheduler.toml", db_url, mcu_emulator,
                          preflight_answer_seconds=30)
    first = SchedulerProc(config, tmp_path / "first.log")
    try:
        mcu_emulator.faults(**fault)
        with session_factory.begin() as s:
            from confbridge.settings import load_settings

            settings = load_settings(str(config), environ={})
            occ = s.get(Occurrence, occ_id)
            assert occ is not None
            pf_id = create_preflight(s, settings, occ, trigger="manual").id
        try:
            wait_until(lambda: kill_when(_pf(session_factory, pf_id), mcu_emulator), 20,
                       f"the pre-flight to reach the {case} crash point")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{first.log()[-4000:]}") from None
    finally:
        first.kill()
    mcu_emulator.faults(clear=True, latency_ms=0)
    second = SchedulerProc(config, tmp_path / "second.log")
    try:
        wait_until(lambda: _pf(session_factory, pf_id).phase == PreflightPhase.DONE, 40,
                   "the pre-flight to finish after the restart", interval=0.2)
    finally:
        second.stop()
    pf = _pf(session_factory, pf_id)
    assert [r.status for r in pf.results] == ["ready", "ready", "ready"]
    assert pf.torn_down_at is not None
    assert pf.conference_name not in [c["name"] for c in mcu_emulator.state()["conferences"]]
    dials = Counter(c["participant"] for c in mcu_emulator.calls() if c.get("conference") == pf.conference_name)
    assert dials == Counter({f"cb-ep-{e}": 1 for e in eps})
    with session_factory() as s:
        assert s.scalars(select(PreflightRun)).all() == [s.get(PreflightRun, pf_id)]
