"""REST /api/v1/conferences: reading with roles, operator actions reaching the emulator, extend and end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from confbridge.app import create_app
from confbridge.launch.models import LegState, RunState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for, timeline


@pytest.fixture
def live(settings: Any, engine: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any,
         make_user: Any) -> Any:
    """A live conference of the secretary 'thuky' with two connected endpoints, and a client."""
    secretary = make_user("secretary", "thuky")
    eps = make_endpoints(session_factory, 3)
    _m, occ = book(session_factory, frozen_clock.now() + timedelta(minutes=5), minutes=30, setup=5,
                   endpoints=eps[:2], organiser_id=secretary.id)
    s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    drive(launch, frozen_clock, lambda: all(
        leg.state == LegState.CONNECTED for leg in legs(session_factory, run_for(session_factory, occ).id)))
    app = create_app(s2, engine=engine, testing=True)

    class Live:
        client: FlaskClient = app.test_client()
        run = run_for(session_factory, occ)
        endpoints = eps
        occurrence_id = occ
        engine_ = launch

    Live.secretary = secretary  # type: ignore[attr-defined]
    yield Live
    launch.close()


def test_reading_conferences_by_role(live: Any, make_user: Any) -> None:
    tech, other_secretary = make_user("technician"), make_user("secretary")
    c, run = live.client, live.run
    assert c.get("/api/v1/conferences").status_code == 401
    listed = c.get("/api/v1/conferences?state=live", headers=tech.headers).get_json()
    assert [r["id"] for r in listed] == [run.id]
    assert c.get("/api/v1/conferences?state=ended", headers=tech.headers).get_json() == []
    body = c.get(f"/api/v1/conferences/{run.id}", headers=tech.headers).get_json()
    assert body["state"] == "live" and body["title"] == "Giao ban tuần <b>"
    parts = {p["endpoint_id"]: p for p in body["participants"]}
    assert set(parts) == set(live.endpoints[:2])
    assert all(p["state"] == "connected" and p["attempts"] == 1 and p["audio_muted"] is False
               and p["video_muted"] is False and "reason" in p for p in parts.values())
    steps = c.get(f"/api/v1/conferences/{run.id}/timeline", headers=tech.headers).get_json()
    assert [e["outcome"] for e in steps if e["kind"] == "state"] == ["scheduled", "starting", "live"]
    # The organiser sees her conference; another secretary neither sees nor learns it exists.
    assert c.get(f"/api/v1/conferences/{run.id}", headers=live.secretary.headers).status_code == 200
    assert c.get(f"/api/v1/conferences/{run.id}", headers=other_secretary.headers).status_code == 404
    assert c.get("/api/v1/conferences", headers=other_secretary.headers).get_json() == []
    bad = c.get("/api/v1/conferences?state=bogus&from=yesterday", headers=tech.headers)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"state", "from"}


def test_operator_actions_reach_the_bridge_and_the_timeline(live: Any, make_user: Any, mcu_emulator: Any,
                                                            session_factory: Any, frozen_clock: Any) -> None:
    tech = make_user("technician")
    c, run, ep = live.client, live.run, live.endpoints[0]
    base = f"/api/v1/conferences/{run.id}/participants/{ep}"
    assert c.post(f"{base}/mute", headers=live.secretary.headers).status_code == 403
    r = c.post(f"{base}/mute", headers=tech.headers, json={"audio": True, "video": True})
    assert r.status_code == 200 and r.get_json()["audio_muted"] and r.get_json()["video_muted"]
    p = mcu_emulator.participant(run.conference_name, f"cb-ep-{ep}")
    assert p["audioRxMuted"] and p["videoRxMuted"]
    r = c.post(f"{base}/unmute", headers=tech.headers)
    assert r.status_code == 200 and not r.get_json()["audio_muted"] and r.get_json()["video_muted"]
    assert not mcu_emulator.participant(run.conference_name, f"cb-ep-{ep}")["audioRxMuted"]

    r = c.post(f"{base}/disconnect", headers=tech.headers)
    assert r.status_code == 200 and r.get_json()["state"] == "disconnected"
    assert mcu_emulator.participant(run.conference_name, f"cb-ep-{ep}")["callState"] == "disconnected"
    for _ in range(3):  # the scheduler leaves an operator's hang-up alone
        frozen_clock.advance(seconds=5)
        live.engine_.tick(wait=True)
    assert len(mcu_emulator.calls()) == 2
    r = c.post(f"{base}/redial", headers=tech.headers)
    assert r.status_code == 200
    assert len(mcu_emulator.calls()) == 3
    drive(live.engine_, frozen_clock, lambda: legs(session_factory, run.id)[0].state == LegState.CONNECTED)

    assert c.post(f"{base}/jump", headers=tech.headers).status_code == 422
    assert c.post(f"/api/v1/conferences/{run.id}/participants/{live.endpoints[2]}/mute",
                  headers=tech.headers).status_code == 404
    ops = [e for e in timeline(session_factory, run.id) if e.kind == "operator"]
    assert [e.details["action"] for e in ops] == ["mute", "unmute", "disconnect", "redial"]
    assert all(e.user_id == tech.id for e in ops)


def test_extend_is_refused_when_an_endpoint_is_needed_elsewhere(live: Any, make_user: Any,
                                                                session_factory: Any) -> None:
    tech = make_user("technician")
    c, run = live.client, live.run
    url = f"/api/v1/conferences/{run.id}/extend"
    bad = c.post(url, headers=tech.headers, json={"minutes": "lots"})
    assert bad.status_code == 422 and "minutes" in bad.get_json()["fields"]
    assert c.post(url, headers=tech.headers, json={"minutes": 0}).status_code == 422
    # Endpoint 1 is booked by another meeting 10 minutes after this one ends.
    end = run_for(session_factory, live.occurrence_id).planned_end
    book(session_factory, end + timedelta(minutes=15), minutes=30, setup=5, endpoints=[live.endpoints[0]],
         title="Họp Sở TT&TT")
    refused = c.post(url, headers=tech.headers, json={"minutes": 15})
    assert refused.status_code == 409
    assert "Họp Sở TT&TT" in refused.get_json()["message"]
    assert run_for(session_factory, live.occurrence_id).planned_end == end
    ok = c.post(url, headers=tech.headers, json={"minutes": 10})
    assert ok.status_code == 200
    assert run_for(session_factory, live.occurrence_id).planned_end == end + timedelta(minutes=10)


def test_extended_conference_outlives_its_booked_end_and_end_now_ends_it(
        live: Any, make_user: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> None:
    tech = make_user("technician")
    c, run = live.client, live.run
    end = run.planned_end
    assert c.post(f"/api/v1/conferences/{run.id}/extend", headers=tech.headers,
                  json={"minutes": 20}).status_code == 200
    frozen_clock.set(end + timedelta(minutes=1))
    live.engine_.tick(wait=True)
    assert run_for(session_factory, live.occurrence_id).state == RunState.LIVE
    assert c.post(f"/api/v1/conferences/{run.id}/end", headers=live.secretary.headers).status_code == 403
    r = c.post(f"/api/v1/conferences/{run.id}/end", headers=tech.headers)
    assert r.status_code == 202 and r.get_json()["state"] == "ending"
    live.engine_.tick(wait=True)
    assert run_for(session_factory, live.occurrence_id).state == RunState.ENDED
    assert mcu_emulator.state()["conferences"] == []
    again = c.post(f"/api/v1/conferences/{run.id}/end", headers=tech.headers)
    assert again.status_code == 409


def test_the_timeline_reads_in_the_callers_language_and_names_the_meeting(live: Any, make_user: Any) -> None:
    tech = make_user("technician")
    url = f"/api/v1/conferences/{live.run.id}/timeline"
    english = live.client.get(url, headers={**tech.headers, "Accept-Language": "en-US,en;q=0.8"}).get_json()
    vietnamese = live.client.get(url, headers={**tech.headers, "Accept-Language": "vi"}).get_json()
    assert [e["code"] for e in english] == [e["code"] for e in vietnamese]
    scheduled_en, scheduled_vi = english[0]["message"], vietnamese[0]["message"]
    assert scheduled_en.startswith("Scheduled “Giao ban tuần <b>”: launch at ")
    assert scheduled_vi.startswith("Đã lên lịch «Giao ban tuần <b>»: khởi tạo lúc ")
    assert live.run.conference_name not in scheduled_en  # the meeting by its title, not the bridge's id
    states_en = [e["message"] for e in english if e["kind"] == "state"][1:]
    assert states_en == ["Planned → Starting", "Starting → Live"]
    assert [e["message"] for e in vietnamese if e["kind"] == "state"][1:] == [
        "Đã lên lịch → Đang khởi tạo", "Đang khởi tạo → Đang diễn ra"]
    connected = [e for e in english if e["code"] == "leg.connected"]
    assert len(connected) == 2 and all(e["message"].endswith(": connected") for e in connected)
