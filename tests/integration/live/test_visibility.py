"""What each user sees: technicians and admins everything, a secretary only her own meetings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.alarms.service import raise_alarm
from confbridge.booking.models import Meeting, meeting_endpoints
from confbridge.events import Event
from confbridge.launch.models import CallLeg, ConferenceRun
from confbridge.live.bus import MemoryBus
from confbridge.live.server import LiveServerThread
from tests.integration.live.conftest import TokenFor, add_endpoints, authed, recv_events


def make_meeting(factory: sessionmaker[Session], organiser_id: int, endpoint_ids: list[int],
                 title: str) -> tuple[int, int]:
    """A meeting of *organiser_id* with a live run: ``(meeting_id, run_id)``."""
    now = clock.now()
    with factory.begin() as s:
        meeting = Meeting(uid=uuid.uuid4().hex, title=title, organiser_id=organiser_id, start=now,
                          end=now + timedelta(hours=1), timezone="Asia/Ho_Chi_Minh", setup_minutes=15)
        s.add(meeting)
        s.flush()
        s.execute(insert(meeting_endpoints),
                  [{"meeting_id": meeting.id, "endpoint_id": e} for e in endpoint_ids])
        run = ConferenceRun(meeting_id=meeting.id, bridge_name="mcu", conference_name=f"cb-{meeting.id}",
                            state="live", planned_start=now - timedelta(minutes=15),
                            planned_end=now + timedelta(hours=1), started_at=now - timedelta(minutes=15))
        s.add(run)
        s.flush()
        for e in endpoint_ids:
            s.add(CallLeg(run_id=run.id, endpoint_id=e, participant_name=f"ep{e}", protocol="sip",
                          address=f"ep{e}@x.example", display_name=f"<b>ep{e}</b>", state="connected",
                          connected_at=now))
        return meeting.id, run.id


def test_secretary_sees_only_her_meetings(
    live: LiveServerThread, token_for: TokenFor, secretary: Any, technician: Any,
    make_user: Any, session_factory: sessionmaker[Session], bus: MemoryBus,
) -> None:
    other = make_user("secretary", "thuky2")
    mine = add_endpoints(session_factory, 2, "Huyện Phú Quốc")
    theirs = add_endpoints(session_factory, 2, "Huyện Châu Thành")
    my_meeting, my_run = make_meeting(session_factory, secretary.id, mine, "Giao ban tuần")
    their_meeting, their_run = make_meeting(session_factory, other.id, theirs, "Họp riêng")
    with session_factory.begin() as s:
        dropped = {"endpoint": "UBND", "meeting": "Giao ban", "reason": "remote_hangup"}
        raise_alarm(s, "call_dropped", "a1", "alarm.call_dropped", dropped, meeting_id=my_meeting,
                    endpoint_id=mine[0])
        raise_alarm(s, "call_dropped", "a2", "alarm.call_dropped", dropped, meeting_id=their_meeting,
                    endpoint_id=theirs[0])

    ws, snap = authed(live, token_for(secretary))
    tech_ws, tech_snap = authed(live, token_for(technician))
    with ws, tech_ws:
        assert {e["id"] for e in snap["endpoints"]} == set(mine)
        assert [c["id"] for c in snap["conferences"]] == [my_run]
        conf = snap["conferences"][0]
        assert conf["title"] == "Giao ban tuần" and (conf["invited"], conf["connected"]) == (2, 2)
        assert [a["key"] for a in snap["alarms"]] == ["a1"]
        assert {e["id"] for e in tech_snap["endpoints"]} == set(mine) | set(theirs)
        assert {c["id"] for c in tech_snap["conferences"]} == {my_run, their_run}

        bus.publish(Event("participant.state", {"conference_id": their_run, "endpoint_id": theirs[0],
                                                "state": "disconnected"}))
        bus.publish(Event("endpoint.status", {"endpoint_id": theirs[1], "status": "offline"}))
        bus.publish(Event("participant.state", {"conference_id": my_run, "endpoint_id": mine[0],
                                                "state": "disconnected"}))
        got: list[dict[str, Any]] = []
        while not any(e["type"] == "participant.state" for e in got):
            got += recv_events(ws)
        # The alarms raised just before connecting may arrive again after the snapshot (harmless:
        # same state); nothing about the other secretary's meeting ever does.
        assert [(e["type"], e["endpoint_id"]) for e in got if e["type"] != "alarm"] == \
            [("participant.state", mine[0])]
        assert {e["alarm"]["key"] for e in got if e["type"] == "alarm"} <= {"a1"}
        assert [e["seq"] for e in got] == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(got)))
        tech_got: list[dict[str, Any]] = []
        while len([e for e in tech_got if e["type"] != "alarm"]) < 3:
            tech_got += recv_events(tech_ws)
        assert {e.get("endpoint_id") for e in tech_got if e["type"] != "alarm"} == {theirs[0], theirs[1], mine[0]}


def test_secretary_sees_a_new_run_of_her_meeting(
    live: LiveServerThread, token_for: TokenFor, secretary: Any,
    session_factory: sessionmaker[Session], bus: MemoryBus,
) -> None:
    mine = add_endpoints(session_factory, 1, "Huyện Phú Quốc")
    meeting_id, _ = make_meeting(session_factory, secretary.id, mine, "Giao ban")
    ws, _ = authed(live, token_for(secretary))
    with ws:
        bus.publish(Event("conference.state", {"conference_id": 999, "meeting_id": meeting_id,
                                               "state": "starting"}))
        bus.publish(Event("participant.state", {"conference_id": 999, "endpoint_id": mine[0],
                                                "state": "dialling"}))
        got: list[dict[str, Any]] = []
        while len(got) < 2:
            got += recv_events(ws)
        assert [e["type"] for e in got] == ["conference.state", "participant.state"]


def test_secretary_never_learns_the_conference_of_another_meeting_on_her_endpoint(
    live: LiveServerThread, token_for: TokenFor, secretary: Any, make_user: Any,
    session_factory: sessionmaker[Session], bus: MemoryBus,
) -> None:
    from confbridge.monitor.models import EndpointStatus

    other = make_user("secretary", "thuky3")
    shared = add_endpoints(session_factory, 1, "Huyện An Biên")
    make_meeting(session_factory, secretary.id, shared, "Giao ban")
    _, their_run = make_meeting(session_factory, other.id, shared, "Họp riêng")  # the endpoint is in it now
    with session_factory.begin() as s:
        s.add(EndpointStatus(endpoint_id=shared[0], status="in_call", since=clock.now(), checked_at=clock.now(),
                             conference_id=their_run, packet_loss="none", detail=""))
    ws, snap = authed(live, token_for(secretary))
    with ws:
        assert [e["id"] for e in snap["endpoints"]] == shared
        assert "conference_id" not in snap["endpoints"][0]
        bus.publish(Event("endpoint.status", {"endpoint_id": shared[0], "status": "in_call",
                                              "conference_id": their_run}))
        got = recv_events(ws)
        assert got[0]["endpoint_id"] == shared[0] and "conference_id" not in got[0]
