"""GET /api/v1/alarms and POST /api/v1/alarms/{id}/ack, with role checks per object."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.booking.models import Meeting
from confbridge.notices import reason


def _meeting(factory: sessionmaker[Session], organiser_id: int) -> int:
    now = clock.now()
    with factory.begin() as s:
        m = Meeting(uid=uuid.uuid4().hex, title="Giao ban", organiser_id=organiser_id, start=now,
                    end=now + timedelta(hours=1), timezone="Asia/Ho_Chi_Minh", setup_minutes=15)
        s.add(m)
        s.flush()
        return m.id


def _alarms(factory: sessionmaker[Session], mine: int, theirs: int) -> dict[str, int]:
    with factory.begin() as s:
        a = raise_alarm(s, "call_dropped", "k1", "alarm.call_dropped",
                        {"endpoint": "UBND huyện Phú Quốc", "meeting": "Giao ban", "reason": reason("busy")},
                        meeting_id=mine)
        b = raise_alarm(s, "packet_loss", "k2", "alarm.packet_loss",
                        {"endpoint": "UBND huyện Giang Thành", "meeting": "Giao ban"}, meeting_id=theirs)
        c = raise_alarm(s, "scheduler_heartbeat", "k3", "alarm.scheduler_heartbeat",
                        {"at": "07:00:00", "holder": "sched-1"}, severity="critical")
        clear_alarm(s, "k3")
        return {"mine": a.id, "theirs": b.id, "cleared": c.id}


def test_technician_lists_all_and_filters_open(
    client: FlaskClient, technician: Any, secretary: Any, make_user: Any,
    session_factory: sessionmaker[Session],
) -> None:
    other = make_user("secretary", "thuky9")
    mine, theirs = _meeting(session_factory, secretary.id), _meeting(session_factory, other.id)
    ids = _alarms(session_factory, mine, theirs)
    everything = client.get("/api/v1/alarms", headers=technician.headers).get_json()["alarms"]
    assert {a["id"] for a in everything} == set(ids.values())
    open_only = client.get("/api/v1/alarms?open=true", headers=technician.headers).get_json()["alarms"]
    assert {a["id"] for a in open_only} == {ids["mine"], ids["theirs"]}
    by_kind = client.get("/api/v1/alarms?kind=packet_loss", headers=technician.headers).get_json()["alarms"]
    assert [a["id"] for a in by_kind] == [ids["theirs"]]


def test_secretary_sees_only_alarms_of_her_meetings_and_cannot_ack(
    client: FlaskClient, secretary: Any, make_user: Any, session_factory: sessionmaker[Session],
) -> None:
    other = make_user("secretary", "thuky9")
    mine, theirs = _meeting(session_factory, secretary.id), _meeting(session_factory, other.id)
    ids = _alarms(session_factory, mine, theirs)
    seen = client.get("/api/v1/alarms", headers=secretary.headers).get_json()["alarms"]
    assert [a["id"] for a in seen] == [ids["mine"]]
    response = client.post(f"/api/v1/alarms/{ids['mine']}/ack", headers=secretary.headers)
    assert response.status_code == 403


def test_ack_records_who_and_when_once(
    frozen_clock: clock.FrozenClock, client: FlaskClient, technician: Any, admin: Any,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        alarm_id = raise_alarm(s, "endpoint_offline", "off:1", "alarm.endpoint_offline",
                               {"endpoint": "UBND huyện Phú Quốc", "meeting": "Giao ban", "at": "07:40"}).id
    first = client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=technician.headers)
    assert first.status_code == 200
    body = first.get_json()
    assert body["acknowledged_by"] == technician.id
    assert body["acknowledged_at"] == frozen_clock.now().isoformat()
    assert body["cleared_at"] is None  # acknowledged is not cleared
    frozen_clock.advance(minutes=5)
    again = client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=admin.headers).get_json()
    assert (again["acknowledged_by"], again["acknowledged_at"]) == (technician.id, body["acknowledged_at"])


def test_bad_input_gets_field_errors(client: FlaskClient, technician: Any) -> None:
    response = client.get("/api/v1/alarms?kind=zombie&limit=0", headers=technician.headers)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"kind", "limit"}
    assert client.post("/api/v1/alarms/999/ack", headers=technician.headers).status_code == 404
    assert client.get("/api/v1/alarms").status_code == 401


def test_alarms_are_rendered_in_the_callers_language(
    client: FlaskClient, technician: Any, secretary: Any, make_user: Any,
    session_factory: sessionmaker[Session],
) -> None:
    other = make_user("secretary", "thuky9")
    ids = _alarms(session_factory, _meeting(session_factory, secretary.id), _meeting(session_factory, other.id))

    def mine(language: str) -> dict[str, Any]:
        headers = {**technician.headers, "Accept-Language": language}
        alarms = client.get("/api/v1/alarms", headers=headers).get_json()["alarms"]
        return next(a for a in alarms if a["id"] == ids["mine"])

    english, vietnamese = mine("en-GB,en;q=0.9"), mine("vi")
    assert english["message"] == "UBND huyện Phú Quốc dropped out of “Giao ban” (busy)"
    assert vietnamese["message"] == "UBND huyện Phú Quốc rớt khỏi «Giao ban» (máy bận)"
    assert english["code"] == vietnamese["code"] == "alarm.call_dropped"
    assert english["params"]["endpoint"] == "UBND huyện Phú Quốc"
