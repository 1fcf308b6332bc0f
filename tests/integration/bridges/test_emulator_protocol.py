"""The emulator speaks the documented MCU protocol (checked on the wire, not through our driver)."""

from __future__ import annotations

import http.client
import re
import signal
import time
import xmlrpc.client
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixtures.mcu import McuEmulator


def raw(emulator: McuEmulator, method: str, *params: Any) -> bytes:
    """POST one methodCall and return the raw reply body."""
    body = xmlrpc.client.dumps(params, method).encode()
    parts = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    conn.request("POST", parts.path, body, {"Content-Type": "text/xml"})
    reply = conn.getresponse()
    assert reply.status == 200
    data = reply.read()
    conn.close()
    return data


def call(emulator: McuEmulator, method: str, **params: Any) -> Any:
    auth = {"authenticationUser": emulator.username, "authenticationPassword": emulator.password}
    return xmlrpc.client.loads(raw(emulator, method, {**auth, **params}))[0][0]


def fault_of(emulator: McuEmulator, method: str, **params: Any) -> tuple[int, str]:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        call(emulator, method, **params)
    return caught.value.faultCode, caught.value.faultString


def test_wire_types_are_the_devices(mcu_emulator: McuEmulator) -> None:
    auth = {"authenticationUser": mcu_emulator.username, "authenticationPassword": mcu_emulator.password}
    body = raw(mcu_emulator, "device.query", auth).decode()
    assert re.search(r"<name>currentTime</name>\s*<value><dateTime.iso8601>\d{8}T\d\d:\d\d:\d\d<", body)
    assert re.search(r"<name>totalVideoPorts</name>\s*<value><int>40</int>", body)
    assert re.search(r"<name>apiVersion</name>\s*<value><string>2.9</string>", body)
    call(mcu_emulator, "conference.create", conferenceName="c1", durationSeconds=0)
    body = raw(mcu_emulator, "conference.status", {**auth, "conferenceName": "c1"}).decode()
    assert re.search(r"<name>conferenceActive</name>\s*<value><boolean>1</boolean>", body)
    assert "<nil" not in body


def test_documented_fault_codes_and_strings(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    assert fault_of(e, "no.such.method") == (1, "method not supported")
    call(e, "conference.create", conferenceName="c1")
    assert fault_of(e, "conference.create", conferenceName="c1") == (2, "duplicate conference name")
    call(e, "participant.add", conferenceName="c1", participantName="p", address="a@x.example")
    assert fault_of(e, "participant.add", conferenceName="c1", participantName="p",
                    address="a@x.example") == (3, "duplicate participant name")
    assert fault_of(e, "conference.status", conferenceName="zz") == \
        (4, "no such conference or auto attendant")
    assert fault_of(e, "participant.status", conferenceName="c1", participantName="q",
                    operationScope=["currentState"]) == (5, "no such participant")
    assert fault_of(e, "conference.create")[0] == 8
    assert fault_of(e, "participant.add", conferenceName="c1")[0] == 9
    assert fault_of(e, "participant.add", conferenceName="c1", participantName="r")[0] == 10
    assert fault_of(e, "conference.create", conferenceName="c2", pin="12a")[0] == 13
    assert fault_of(e, "conference.enumerate", enumerateID="bogus")[0] == 16
    assert fault_of(e, "participant.add", conferenceName="c1", participantName="s", address="a",
                    participantProtocol="skype")[0] == 19
    assert fault_of(e, "participant.add", conferenceName="c1", participantName="s", address="a",
                    participantType="by_name")[0] == 20
    assert fault_of(e, "conference.create", conferenceName="x" * 32)[0] == 35
    assert fault_of(e, "conference.create", conferenceName="c3", durationSeconds="60") == \
        (103, "malformed parameter - durationSeconds")
    assert fault_of(e, "participant.enumerate", operationScope=["everything"]) == \
        (102, "invalid parameter - operationScope")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(raw(e, "device.query"))
    assert caught.value.faultString == "missing parameter - authenticationUser"
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(raw(e, "device.query", {"authenticationUser": e.username,
                                                     "authenticationPassword": "nope"}))
    assert caught.value.faultCode == 15


def test_only_post_to_rpc2(mcu_emulator: McuEmulator) -> None:
    parts = urlsplit(mcu_emulator.url)
    for method, path, status in (("GET", "/RPC2", 405), ("POST", "/other", 404)):
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        conn.request(method, path, b"<x/>" if method == "POST" else None)
        assert conn.getresponse().status == status
        conn.close()


def test_revisions_report_changes_and_dead_records(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName="c1")
    for name in ("p1", "p2"):
        call(e, "participant.add", conferenceName="c1", participantName=name, address=f"{name}@x.example")
    first = call(e, "participant.enumerate", operationScope=["currentState"])
    revision = first["currentRevision"]
    time.sleep(0.3)  # let both calls connect (a change) …
    settled = call(e, "participant.enumerate", operationScope=["currentState"])["currentRevision"]
    call(e, "participant.modify", conferenceName="c1", participantName="p1", operationScope="activeState",
         audioRxMuted=True)
    call(e, "participant.remove", conferenceName="c1", participantName="p2")
    delta = call(e, "participant.enumerate", operationScope=["currentState"], lastRevision=settled)
    assert delta["currentRevision"] > settled > revision
    records = {(p["participantName"], bool(p.get("dead"))) for p in delta["participants"]}
    assert records == {("p1", False), ("p2", True)}
    p1 = next(p for p in delta["participants"] if p["participantName"] == "p1")
    assert p1["currentState"]["audioRxMuted"]
    full = call(e, "participant.enumerate", operationScope=["currentState"],
                lastRevision=delta["currentRevision"], listAll=True)
    assert [(p["participantName"], p.get("changed")) for p in full["participants"]] == [("p1", False)]


def test_enumerate_filter(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    e.set_endpoint("busy@x.example", "busy", answer_delay=0)
    call(e, "conference.create", conferenceName="c1")
    call(e, "participant.add", conferenceName="c1", participantName="ok", address="ok@x.example")
    call(e, "participant.add", conferenceName="c1", participantName="busy", address="busy@x.example")
    e.wait_for(lambda s: {p["callState"] for p in s["participants"]} == {"connected", "disconnected"})
    only = call(e, "participant.enumerate", operationScope=["currentState"], enumerateFilter="!connected")
    assert [p["participantName"] for p in only["participants"]] == ["busy"]
    assert fault_of(e, "participant.enumerate", enumerateFilter="connected &&")[0] == 102


def test_call_states_and_deferred_connection(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    e.set_endpoint("slow@x.example", answer_delay=0.5)
    call(e, "conference.create", conferenceName="c1")
    call(e, "participant.add", conferenceName="c1", participantName="later", address="slow@x.example",
         deferConnection=True)
    state = call(e, "participant.status", conferenceName="c1", participantName="later",
                 operationScope=["currentState"])
    assert state["currentState"]["callState"] == "dormant"
    call(e, "participant.connect", conferenceName="c1", participantName="later")
    state = call(e, "participant.status", conferenceName="c1", participantName="later",
                 operationScope=["currentState"])
    assert state["currentState"]["callState"] == "alerting"
    e.wait_for(lambda s: s["participants"][0]["callState"] == "connected")


def test_conference_end_disconnects_everyone(mcu_emulator: McuEmulator) -> None:
    e = mcu_emulator
    call(e, "conference.create", conferenceName="c1", durationSeconds=1)
    call(e, "participant.add", conferenceName="c1", participantName="p", address="p@x.example")
    e.wait_for(lambda s: s["conferences"][0]["completed"], timeout=4)
    state = call(e, "participant.status", conferenceName="c1", participantName="p",
                 operationScope=["currentState"])
    assert state["currentState"]["callState"] == "disconnected"
    assert state["currentState"]["disconnectReason"] == "disconnectAll"


def test_sigterm_stops_cleanly(mcu_emulator: McuEmulator) -> None:
    mcu_emulator.proc.process.send_signal(signal.SIGTERM)
    assert mcu_emulator.proc.process.wait(5) == 0
