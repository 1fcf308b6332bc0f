"""Issue 13, point 5: an urgent meeting (its setup window already began when booked) launches at once.

The real scheduler (leader election, APScheduler ticks) runs on the real clock against the emulator; the
meeting is booked through the REST API; the first bridge call follows within 2 s, and the launch is not
"late" (lateness counts from the booking), so no ``launch_late`` alarm.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.app import create_app
from confbridge.booking.models import Meeting
from confbridge.launch.models import ConferenceRun, SchedulerLease
from confbridge.scheduler.process import run_scheduler
from tests.factories import seed_endpoints


def _wait(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_urgent_meeting_launches_within_two_seconds_and_is_not_late(
        settings: Any, engine: Any, session_factory: Any, mcu_emulator: Any, make_user: Any) -> None:
    eps = seed_endpoints(session_factory, 2)
    settings = settings.with_overrides(**{
        "bridges": [{**mcu_emulator.bridge_settings().model_dump(), "default": True}],
        "launch.lease_seconds": 3, "launch.poll_seconds": 0.5, "launch.late_after_seconds": 5,
    })
    secretary = make_user("secretary", "thuky")
    client = create_app(settings, engine=engine, testing=True).test_client()
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(settings, stop), daemon=True)
    thread.start()
    try:
        def leading() -> bool:  # the leader is elected and ticking
            with session_factory() as s:
                return s.scalars(select(SchedulerLease)).first() is not None

        _wait(leading, 20)
        time.sleep(1.5)
        now = clock.now().replace(microsecond=0)
        start = now + timedelta(minutes=3)  # its 15-minute setup began 12 minutes ago
        r = client.post("/api/v1/meetings", headers=secretary.headers, json={
            "title": "Họp đột xuất phòng chống bão", "start": start.isoformat(),
            "end": (start + timedelta(minutes=60)).isoformat(), "endpoint_ids": eps,
            "host_endpoint_id": eps[0], "setup_minutes": 15})
        assert r.status_code == 201, r.get_json()
        meeting_id = r.get_json()["id"]

        def first_call() -> ConferenceRun | None:
            with session_factory() as s:
                run = s.scalars(select(ConferenceRun).where(ConferenceRun.meeting_id == meeting_id)).first()
                return run if run is not None and run.first_call_at is not None else None

        run = _wait(first_call, 10)
        with session_factory() as s:
            booked_at = s.get(Meeting, meeting_id).created_at  # type: ignore[union-attr]
            alarms = [a.kind for a in s.scalars(select(Alarm))]
        assert (run.first_call_at - booked_at).total_seconds() < 2.0
        assert run.late is False and run.lateness_ms is not None and run.lateness_ms < 2000
        assert "launch_late" not in alarms
        assert _wait(lambda: mcu_emulator.conference(run.conference_name), 5)
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
