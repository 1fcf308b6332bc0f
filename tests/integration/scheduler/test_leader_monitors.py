"""The active scheduler also monitors endpoints: statuses appear without any other process."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from confbridge.monitor.models import EndpointStatus
from confbridge.scheduler.process import run_scheduler
from tests.factories import seed_endpoints


def test_leader_runs_the_monitor(settings, session_factory, mcu_emulator) -> None:  # type: ignore[no-untyped-def]
    ids = seed_endpoints(session_factory, 2)
    with session_factory() as s:
        from confbridge.directory.models import Endpoint

        offline_address = s.get(Endpoint, ids[1]).address
    mcu_emulator.set_endpoint(offline_address, "offline")
    settings = settings.with_overrides(**{
        "bridges": [mcu_emulator.bridge_settings().model_dump()],
        "monitor.probe": "emulator", "monitor.probe_url": mcu_emulator.control_url,
        "monitor.poll_seconds": 0.5, "launch.lease_seconds": 3,
    })
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(settings, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        statuses: dict[int, str] = {}
        while time.monotonic() < deadline and len(statuses) < 2:
            with session_factory() as s:
                statuses = {r.endpoint_id: r.status for r in s.scalars(select(EndpointStatus))}
            time.sleep(0.2)
        assert statuses == {ids[0]: "idle", ids[1]: "offline"}
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
