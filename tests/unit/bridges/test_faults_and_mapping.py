from __future__ import annotations

import xmlrpc.client

import pytest
from defusedxml import EntitiesForbidden

from confbridge.bridges.base import AuthError, BridgeError, NotFound, TransientError
from confbridge.bridges.cisco_mcu import _participant_info
from confbridge.bridges.emulator.filters import FilterError, compile_filter
from confbridge.bridges.faults import FAULTS, error_for_fault, fault_string
from confbridge.bridges.xmlrpc_transport import safe_loads

DOCUMENTED = [*range(1, 21), 35, 101, 102, 103, 201, 202, 203]


def test_every_documented_code_has_a_normalised_error() -> None:
    for code in DOCUMENTED:
        error = error_for_fault(code, fault_string(code), "m")
        assert isinstance(error, BridgeError) and error.fault_code == code
    assert isinstance(error_for_fault(15, "x", "m"), AuthError) and not AuthError.retryable
    assert isinstance(error_for_fault(5, "x", "m"), NotFound)
    assert isinstance(error_for_fault(203, "x", "m"), TransientError)
    assert set(DOCUMENTED) <= set(FAULTS)
    assert fault_string(101, "pin") == "missing parameter - pin"
    assert type(error_for_fault(999, "x", "m")) is BridgeError


def test_entities_are_never_expanded() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>
<methodResponse><params><param><value><string>&b;</string></value></param></params></methodResponse>"""
    with pytest.raises(EntitiesForbidden):
        safe_loads(bomb)
    ok = xmlrpc.client.dumps(({"a": 1},), methodresponse=True).encode()
    assert safe_loads(ok)[0] == ({"a": 1},)


def _p(state: str, **current: object) -> dict[str, object]:
    return {"conferenceName": "c", "participantName": "cb-ep-1", "participantProtocol": "sip",
            "participantType": "by_address", "currentState": {"callState": state, **current}}


@pytest.mark.parametrize("struct,state,reason", [
    (_p("dormant"), "dialling", None),
    (_p("alerting"), "dialling", None),
    (_p("connected", connectTime=1), "connected", None),
    (_p("disconnected", disconnectReason="busy"), "failed", "busy"),
    (_p("disconnected", disconnectReason="noAnswer"), "failed", "no_answer"),
    (_p("disconnected", disconnectReason="rejectedImmediately"), "failed", "rejected"),
    (_p("disconnected", disconnectReason="dnsFailed"), "failed", "unreachable"),
    (_p("disconnected", disconnectReason="remoteTeardown", connectTime=1), "disconnected", "remote_hangup"),
    (_p("disconnected", disconnectReason="localTeardown", connectTime=1), "disconnected", "operator"),
    (_p("disconnected", disconnectReason="disconnectAll", connectTime=1), "disconnected", "ended"),
    (_p("disconnected", disconnectReason="protocolError"), "disconnected", "other"),
])
def test_call_states_are_normalised(struct: dict[str, object], state: str, reason: str | None) -> None:
    info = _participant_info(struct)
    assert (info.state, info.reason) == (state, reason)


def test_packet_loss_and_ownership() -> None:
    assert _participant_info(_p("connected", packetLossWarning=True)).packet_loss == "warning"
    crit = _participant_info(_p("connected", packetLossWarning=True, packetLossCritical=True))
    assert crit.packet_loss == "critical"
    adhoc = _participant_info({**_p("connected"), "participantType": "ad_hoc"})
    assert not adhoc.ours


def test_enumerate_filters() -> None:
    atoms = {"active", "completed", "scheduled"}
    f = compile_filter("!completed", atoms)
    assert f({"active"}) and not f({"completed"})
    g = compile_filter("(active || scheduled) && !completed", atoms)
    assert g({"scheduled"}) and not g({"completed"})
    for bad in ("active &&", "bogus", "(active", ""):
        with pytest.raises(FilterError):
            compile_filter(bad, atoms)
