"""Idempotent retries: an ambiguous failure never creates a duplicate or dials twice."""

from __future__ import annotations

from confbridge.bridges.base import DialTarget
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from tests.fixtures.mcu import McuEmulator

CONF = "cb-77-20261201T0030Z"


def driver_for(emulator: McuEmulator, timeout: float = 0.4) -> CiscoMcuDriver:
    return CiscoMcuDriver(emulator.bridge_settings(timeout_seconds=timeout), attempts=4,
                          backoff_base=0.01, backoff_cap=0.05)


def test_create_that_timed_out_after_taking_effect_is_adopted(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    # The MCU creates the conference but the reply comes too late: the driver must re-read, not duplicate.
    mcu_emulator.faults(timeout={"method": "conference.create", "seconds": 0.8, "count": 1})
    info = driver.ensure_conference(CONF, duration_seconds=600)
    assert info.name == CONF
    stats = mcu_emulator.state()
    assert [c["name"] for c in stats["conferences"]] == [CONF]
    assert stats["stats"]["calls"]["conference.create"] == 2  # the retry hit "duplicate" and adopted


def test_dial_that_timed_out_is_not_dialled_again(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.ensure_conference(CONF)
    mcu_emulator.faults(timeout={"method": "participant.add", "seconds": 0.8, "count": 1})
    info = driver.ensure_participant(CONF, DialTarget("cb-ep-1", "sip", "a@vc.example"))
    assert info.participant_name == "cb-ep-1"
    calls = [c for c in mcu_emulator.calls() if c["participant"] == "cb-ep-1"]
    assert len(calls) == 1
    assert mcu_emulator.state()["stats"]["calls"]["participant.add"] == 2


def test_dropped_connections_are_retried(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.ensure_conference(CONF)  # warm a keep-alive connection
    mcu_emulator.faults(drop_connections=3)
    driver.ensure_participant(CONF, DialTarget("cb-ep-2", "sip", "b@vc.example"))
    state = mcu_emulator.state()
    assert state["stats"]["dropped"] == 3
    assert len([p for p in state["participants"] if p["name"] == "cb-ep-2"]) == 1
    assert len([c for c in mcu_emulator.calls() if c["participant"] == "cb-ep-2"]) == 1


def test_idle_keepalive_reset_is_transparent(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.probe()
    mcu_emulator.faults(drop_connections=1)
    driver.probe()  # the device dropped the connection: reconnected without a visible error
    assert mcu_emulator.state()["stats"]["dropped"] == 1


def test_garbage_reply_is_not_an_mcu_api(mcu_emulator: McuEmulator) -> None:
    from confbridge.bridges.xmlrpc_transport import NotAnMcuApi

    driver = driver_for(mcu_emulator)
    mcu_emulator.faults(malformed=1)
    try:
        driver.probe()
    except NotAnMcuApi:
        pass
    else:
        raise AssertionError("a non-XML reply must raise NotAnMcuApi")
