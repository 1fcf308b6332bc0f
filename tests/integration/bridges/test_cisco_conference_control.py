"""How the Cisco driver maps conference control onto the MCU API (checked in the emulator's state)."""

from __future__ import annotations

import pytest

from confbridge.bridges.base import (
    AlreadyExists,
    DialTarget,
    InvalidRequest,
    Unsupported,
    UnsupportedLayout,
)
from confbridge.bridges.cisco_mcu import CUSTOM_LAYOUTS, CiscoMcuDriver
from tests.fixtures.mcu import McuEmulator

CONF = "cb-13-20261203T0100Z"


def driver_for(emulator: McuEmulator) -> CiscoMcuDriver:
    return CiscoMcuDriver(emulator.bridge_settings(), attempts=2, backoff_base=0.01, backoff_cap=0.02)


def test_numeric_id_and_join_muted_reach_the_device(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    info = driver.ensure_conference(CONF, numeric_id="7013", join_audio_muted=True, duration_seconds=3600)
    assert info.numeric_id == "7013"
    conf = mcu_emulator.conference(CONF)
    assert conf is not None and (conf["numericId"], conf["joinAudioMuted"]) == ("7013", True)
    with pytest.raises(AlreadyExists) as taken:
        driver.ensure_conference("cb-14-20261203T0100Z", numeric_id="7013")
    assert taken.value.fault_code == 18
    assert mcu_emulator.conference("cb-14-20261203T0100Z") is None
    calls_before = mcu_emulator.state()["stats"]["calls"].get("conference.create", 0)
    for bad in ("70a3", "7" * 32, ""):
        with pytest.raises(InvalidRequest):
            driver.ensure_conference("cb-15-20261203T0100Z", numeric_id=bad)
    assert mcu_emulator.state()["stats"]["calls"].get("conference.create", 0) == calls_before  # never sent
    driver.close()


def test_layouts_map_to_custom_layouts(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.ensure_conference(CONF)
    assert driver.capabilities().layouts == {"voice-switched", "host-large", "grid"}
    for layout, index in CUSTOM_LAYOUTS.items():
        driver.apply_layout(CONF, layout)
        conf = mcu_emulator.conference(CONF)
        assert conf is not None and (conf["customLayoutEnabled"], conf["customLayout"]) == (True, index)
    with pytest.raises(Unsupported):  # an UnsupportedLayout is an Unsupported for generic callers
        driver.apply_layout(CONF, "presentation")
    assert issubclass(UnsupportedLayout, Unsupported)
    driver.close()


def test_host_in_focus_and_guests_muted_on_the_device(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.ensure_conference(CONF, join_audio_muted=True)
    host = driver.ensure_participant(CONF, DialTarget("cb-ep-1", "sip", "host@vc.example", important=True))
    guest = driver.ensure_participant(CONF, DialTarget("cb-ep-2", "sip", "g@vc.example", audio_rx_muted=True))
    plain = driver.ensure_participant(CONF, DialTarget("cb-ep-3", "sip", "p@vc.example"))
    assert (host.important, host.audio_muted) == (True, False)
    assert (guest.important, guest.audio_muted) == (False, True)
    assert plain.audio_muted  # no flag: the conference's joinAudioMuted decides
    state = mcu_emulator.wait_for(lambda s: all(p["callState"] == "connected" for p in s["participants"]))
    on_device = {p["name"]: (p["important"], p["audioRxMuted"]) for p in state["participants"]}
    assert on_device == {"cb-ep-1": (True, False), "cb-ep-2": (False, True), "cb-ep-3": (False, True)}
    assert [c["participant"] for c in mcu_emulator.calls()].count("cb-ep-1") == 1  # modify never redials
    driver.close()


def test_extend_sets_the_total_duration(mcu_emulator: McuEmulator) -> None:
    driver = driver_for(mcu_emulator)
    driver.ensure_conference(CONF, duration_seconds=1800)
    driver.modify_conference(CONF, duration_seconds=1800 + 15 * 60)
    conf = mcu_emulator.conference(CONF)
    assert conf is not None and conf["durationSeconds"] == 2700
    with pytest.raises(InvalidRequest):
        driver.modify_conference(CONF, duration_seconds=-60)
    driver.close()
