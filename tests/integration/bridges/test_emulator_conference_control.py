"""The emulator's conference-control surface (issue 13), checked on the wire, not through our driver."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest

from tests.fixtures.mcu import McuEmulator
from tests.integration.bridges.test_emulator_protocol import call, fault_of

CONF = "c1"


def status(e: McuEmulator, name: str, scope: str = "currentState") -> dict[str, Any]:
    reply: dict[str, Any] = call(e, "participant.status", conferenceName=CONF, participantName=name,
                                 operationScope=[scope])
    return reply[scope]


def connected(e: McuEmulator, *names: str) -> None:
    e.wait_for(lambda s: {p["name"] for p in s["participants"] if p["callState"] == "connected"}
               >= set(names))


def test_numeric_id_is_unique_on_the_device(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF, numericId="7001")
    assert call(e, "conference.status", conferenceName=CONF)["numericId"] == "7001"
    assert fault_of(e, "conference.create", conferenceName="c2", numericId="7001") == \
        (18, "duplicate numeric ID")
    call(e, "conference.create", conferenceName="c2", numericId="7002")
    assert fault_of(e, "conference.modify", conferenceName="c2", numericId="7001")[0] == 18
    call(e, "conference.destroy", conferenceName=CONF)
    call(e, "conference.modify", conferenceName="c2", numericId="7001")  # free again once destroyed
    assert call(e, "conference.status", conferenceName="c2")["numericId"] == "7001"


def test_join_audio_muted_and_configured_mutes(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF, joinAudioMuted=True)
    assert call(e, "conference.status", conferenceName=CONF)["joinAudioMuted"] is True
    for name in ("host", "guest"):
        call(e, "participant.add", conferenceName=CONF, participantName=name, address=f"{name}@x.example")
    call(e, "participant.modify", conferenceName=CONF, participantName="host",
         operationScope="configuredState", audioRxMuted=False)
    # The configured state is what the *next* call starts with; the live call keeps its own.
    assert status(e, "host")["audioRxMuted"] is True
    assert status(e, "host", "configuredState")["audioRxMuted"] is False
    call(e, "participant.modify", conferenceName=CONF, participantName="host",
         operationScope="activeState", audioRxMuted=False)
    connected(e, "host", "guest")
    assert (status(e, "host")["audioRxMuted"], status(e, "guest")["audioRxMuted"]) == (False, True)
    call(e, "participant.modify", conferenceName=CONF, participantName="guest",
         operationScope="activeState", audioRxMuted=False)
    assert status(e, "guest")["audioRxMuted"] is False
    call(e, "participant.disconnect", conferenceName=CONF, participantName="guest")
    call(e, "participant.connect", conferenceName=CONF, participantName="guest")
    assert status(e, "guest")["audioRxMuted"] is True  # a new call: joinAudioMuted again


def test_important_is_active_state_only_and_one_per_conference(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF)
    for name in ("a", "b"):
        call(e, "participant.add", conferenceName=CONF, participantName=name, address=f"{name}@x.example")
    connected(e, "a", "b")
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="a",
                    operationScope="configuredState", important=True) == (102, "invalid parameter - important")
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="a",
                    operationScope="activeState", important="yes")[0] == 103
    call(e, "participant.modify", conferenceName=CONF, participantName="a", operationScope="activeState",
         important=True)
    assert (status(e, "a")["important"], status(e, "b")["important"]) == (True, False)
    call(e, "participant.modify", conferenceName=CONF, participantName="b", operationScope="activeState",
         important=True)
    assert (status(e, "a")["important"], status(e, "b")["important"]) == (False, True)
    call(e, "participant.disconnect", conferenceName=CONF, participantName="b")
    call(e, "participant.connect", conferenceName=CONF, participantName="b")
    assert status(e, "b")["important"] is False  # importance belonged to the call that ended


def test_focus_type_and_participant(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF)
    for name in ("a", "b"):
        call(e, "participant.add", conferenceName=CONF, participantName=name, address=f"{name}@x.example")
    ident = {"participantName": "b", "participantProtocol": "h323", "participantType": "by_address"}
    call(e, "participant.modify", conferenceName=CONF, participantName="a", operationScope="activeState",
         focusType="participant", focusParticipant=ident)
    assert status(e, "a")["focusType"] == "participant"
    assert status(e, "a")["focusParticipant"] == ident
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="a",
                    focusType="loudest") == (102, "invalid parameter - focusType")
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="b",
                    focusType="participant") == (101, "missing parameter - focusParticipant")
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="a",
                    focusParticipant={**ident, "participantName": "nobody"})[0] == 5
    assert fault_of(e, "participant.modify", conferenceName=CONF, participantName="a",
                    operationScope="configuredState", focusType="h239")[0] == 102
    call(e, "participant.modify", conferenceName=CONF, participantName="a", focusType="voiceActivated")
    assert "focusParticipant" not in status(e, "a")


def test_layout_and_extension_by_conference_modify(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF, durationSeconds=600)
    call(e, "conference.modify", conferenceName=CONF, customLayoutEnabled=True, customLayout=5,
         durationSeconds=2400)
    conf = call(e, "conference.status", conferenceName=CONF)
    assert (conf["customLayoutEnabled"], conf["customLayout"], conf["durationSeconds"]) == (True, 5, 2400)
    assert fault_of(e, "conference.modify", conferenceName=CONF, customLayout=60) == \
        (102, "invalid parameter - customLayout")
    assert fault_of(e, "conference.modify", conferenceName=CONF, durationSeconds=-1)[0] == 102
    assert fault_of(e, "conference.modify", conferenceName="nope", durationSeconds=60)[0] == 4


def test_dial_in_by_numeric_id(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF, numericId="7005", joinAudioMuted=True)
    name = e.dial_in("7005", "guest@x.example", display_name="Khách")
    state = call(e, "participant.status", conferenceName=CONF, participantName=name,
                 participantType="ad_hoc", participantProtocol="sip", operationScope=["currentState"])
    assert name.isdigit()  # the device names ad-hoc participants itself
    assert state["currentState"]["callState"] == "connected"
    assert state["currentState"]["audioRxMuted"] is True
    assert state["currentState"]["displayName"] == "Khách"
    assert state["currentState"]["callDirection"] == "incoming"
    with pytest.raises(urllib.error.HTTPError) as missing:
        e.dial_in("7999", "guest@x.example")
    assert missing.value.code == 404
    call(e, "participant.disconnect", conferenceName=CONF, participantName=name, participantType="ad_hoc",
         participantProtocol="sip")
    assert [p for p in e.state()["participants"] if p["type"] == "ad_hoc"] == []  # listed while connected


def test_dial_ins_leave_when_the_conference_ends(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName=CONF, numericId="7006", durationSeconds=1)
    e.dial_in("7006", "guest@x.example")
    call(e, "participant.add", conferenceName=CONF, participantName="ours", address="o@x.example")
    state = e.wait_for(lambda s: s["conferences"][0]["completed"], timeout=4)
    assert [(p["name"], p["callState"]) for p in state["participants"]] == [("ours", "disconnected")]
