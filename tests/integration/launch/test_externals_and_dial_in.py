"""Issue 13 points 6 and 7 at launch, against the MCU emulator: external and uplink participants are dialled
like endpoints (the uplink first, shown first), the conference is created with the meeting's dial-in number,
and someone who dials that number shows in the roster as ``dial_in``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confbridge.booking.models import Meeting
from confbridge.bridges.naming import external_participant_name
from confbridge.launch.models import LegState, RunState
from confbridge.launch.serialise import run_dict
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, drive, engine_for, make_endpoints, run_for, timeline

EXTERNALS = [
    {"name": "Sở Y tế", "address": "soyte@127.0.0.1", "protocol": "sip", "uplink": False},
    {"name": "Văn phòng Chính phủ", "address": "vpcp@127.0.0.1", "protocol": "sip", "uplink": True},
]


def _roster(factory: Any, run_id: int) -> list[dict[str, Any]]:
    with factory() as s:
        from confbridge.launch.models import ConferenceRun

        run = s.get(ConferenceRun, run_id)
        return list(run_dict(s, run)["participants"])


@both_databases
def test_externals_uplink_first_numeric_id_and_dial_ins(settings: Any, session_factory: Any, frozen_clock: Any,
                                                        mcu_emulator: Any) -> None:
    fc = frozen_clock
    eps = make_endpoints(session_factory, 2)
    start = fc.now() + timedelta(minutes=20)
    meeting_id, occ_id = book(session_factory, start, minutes=30, setup=10, endpoints=eps)
    with session_factory.begin() as s:
        meeting = s.get(Meeting, meeting_id)
        meeting.external_participants = EXTERNALS
        meeting.dial_in_number = "7042"
    settings, engine = engine_for(settings, session_factory, mcu_emulator.bridge_settings(),
                                  launch={"workers": 1})
    uplink = external_participant_name("sip", "vpcp@127.0.0.1")
    other = external_participant_name("sip", "soyte@127.0.0.1")
    try:
        engine.tick(wait=True)
        run = run_for(session_factory, occ_id)
        fc.set(run.planned_start)
        drive(engine, fc, lambda: run_for(session_factory, occ_id).state == RunState.LIVE and all(
            p["state"] == LegState.CONNECTED for p in _roster(session_factory, run.id)))
        # The conference carries the meeting's dial-in number.
        conference = mcu_emulator.conference(run.conference_name)
        assert conference is not None and conference["numericId"] == "7042"
        # Everyone dialled once; the uplink first.
        dialled = [c["participant"] for c in mcu_emulator.calls()]
        assert dialled[0] == uplink
        assert sorted(dialled) == sorted([uplink, other, *(f"cb-ep-{e}" for e in eps)])
        roster = _roster(session_factory, run.id)
        assert [(p["kind"], p["participant_name"]) for p in roster] == [
            ("uplink", uplink), ("endpoint", f"cb-ep-{eps[0]}"), ("endpoint", f"cb-ep-{eps[1]}"),
            ("external", other)]
        assert roster[0]["display_name"] == "Văn phòng Chính phủ" and roster[0]["address"] == "vpcp@127.0.0.1"
        entries = timeline(session_factory, run.id)
        assert any(e.kind == "bridge_call" and "Văn phòng Chính phủ" in e.message and e.outcome == "ok"
                   for e in entries)

        # Someone dials the number: a dial_in participant in the roster (not dialled by us).
        name = mcu_emulator.dial_in("7042", "khach@127.0.0.1", display_name="Phòng họp Sở Tài chính")
        drive(engine, fc, lambda: any(p["kind"] == "dial_in" for p in _roster(session_factory, run.id)))
        dial_in = [p for p in _roster(session_factory, run.id) if p["kind"] == "dial_in"]
        assert len(dial_in) == 1 and dial_in[0]["participant_name"] == name[:31]
        assert dial_in[0]["state"] == "connected" and dial_in[0]["display_name"] == "Phòng họp Sở Tài chính"
        # Nobody dialled it: the only new call on the bridge is the incoming one.
        assert [c["participant"] for c in mcu_emulator.calls()][4:] == [name]

        # The uplink drops: it is redialled (same retries as an endpoint).
        mcu_emulator.drop(run.conference_name, uplink)
        drive(engine, fc, lambda: [c["participant"] for c in mcu_emulator.calls()].count(uplink) >= 2
              and _roster(session_factory, run.id)[0]["state"] == "connected")

        # Removing an external participant from the meeting hangs it up.
        with session_factory.begin() as s:
            s.get(Meeting, meeting_id).external_participants = EXTERNALS[1:]
        drive(engine, fc, lambda: next(p for p in _roster(session_factory, run.id)
                                       if p["participant_name"] == other)["state"] == "removed")

        fc.set(start + timedelta(minutes=30))
        engine.tick(wait=True)
        engine.tick(wait=True)
        assert run_for(session_factory, occ_id).state == RunState.ENDED
        assert mcu_emulator.state()["conferences"] == []
    finally:
        engine.close()
