"""Done-when: a meeting booked through the REST API for two minutes from now appears on the emulator at
its setup time with every endpoint dialled, ends on time, and the timeline shows each step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.app import create_app
from confbridge.launch.models import LegState, RunState
from tests.conftest import both_databases
from tests.integration.launch.helpers import drive, engine_for, legs, make_endpoints


@both_databases
def test_meeting_booked_through_the_api_is_launched_and_ended(
        settings: Any, engine: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any,
        make_user: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 3)
    settings, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    client = create_app(settings, engine=engine, testing=True).test_client()
    secretary, tech = make_user("secretary"), make_user("technician")
    start = (fc.now() + timedelta(minutes=2)).replace(microsecond=0)
    created = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Giao ban trực tuyến <script>", "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(), "endpoint_ids": eps, "setup_minutes": 1,
    })
    assert created.status_code == 201, created.get_json()
    try:
        launch.tick(wait=True)
        runs = client.get("/api/v1/conferences", headers=tech.headers).get_json()
        assert len(runs) == 1 and runs[0]["state"] == "scheduled"
        run_id = runs[0]["id"]
        assert runs[0]["planned_start"] == (start - timedelta(minutes=1)).isoformat()

        fc.set(start - timedelta(minutes=1, seconds=1))
        launch.tick(wait=True)
        assert mcu_emulator.state()["conferences"] == []
        fc.set(start - timedelta(minutes=1))  # the setup time
        launch.tick(wait=True)
        assert [c["name"] for c in mcu_emulator.state()["conferences"]] == [runs[0]["conference_name"]]
        drive(launch, fc, lambda: all(leg.state == LegState.CONNECTED
                                      for leg in legs(session_factory, run_id)))
        assert sorted(c["participant"] for c in mcu_emulator.calls()) == sorted(f"cb-ep-{e}" for e in eps)
        body = client.get(f"/api/v1/conferences/{run_id}", headers=tech.headers).get_json()
        assert body["state"] == RunState.LIVE and body["lateness_ms"] < 2000

        fc.set(start + timedelta(minutes=30))
        launch.tick(wait=True)
        launch.tick(wait=True)
        assert mcu_emulator.state()["conferences"] == []
        steps = client.get(f"/api/v1/conferences/{run_id}/timeline", headers=tech.headers).get_json()
        assert [e["outcome"] for e in steps if e["kind"] == "state"] == [
            "scheduled", "starting", "live", "ending", "ended"]
        calls = [e["message"].split()[0] for e in steps if e["kind"] == "bridge_call"]
        assert calls == ["conference.create", *["participant.add"] * 3, *["participant.disconnect"] * 3,
                         "conference.destroy"]
        assert all(e["outcome"] == "ok" for e in steps if e["kind"] == "bridge_call")
    finally:
        launch.close()


def test_cancelling_through_the_api_cancels_the_launch(
        settings: Any, engine: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any,
        make_user: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    settings, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    client = create_app(settings, engine=engine, testing=True).test_client()
    secretary = make_user("secretary")
    start = (fc.now() + timedelta(minutes=30)).replace(microsecond=0)
    meeting = client.post("/api/v1/meetings", headers=secretary.headers, json={
        "title": "Họp", "start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat(),
        "endpoint_ids": eps, "setup_minutes": 10}).get_json()
    try:
        launch.tick(wait=True)
        deleted = client.delete(f"/api/v1/meetings/{meeting['id']}", headers=secretary.headers)
        assert deleted.status_code == 200
        fc.set(start - timedelta(minutes=10))
        launch.tick(wait=True)
        from sqlalchemy import select

        from confbridge.launch.models import ConferenceRun

        with session_factory() as s:
            assert s.scalars(select(ConferenceRun.state)).all() == ["cancelled"]
        assert mcu_emulator.state()["conferences"] == [] and mcu_emulator.calls() == []
    finally:
        launch.close()
