"""Real SIP URIs are longer than the MCU's 31-character names: they must still be dialled."""

from __future__ import annotations

import pytest

from confbridge.bridges.base import DialTarget, InvalidRequest
from confbridge.bridges.registry import make_driver


def test_long_sip_uri_of_the_demo_network_is_dialled(mcu_emulator) -> None:  # type: ignore[no-untyped-def]
    driver = make_driver(mcu_emulator.bridge_settings())
    try:
        driver.ensure_conference("cb-9-20261207T0030Z")
        address = "ubnd-uminhthuong@vc.kiengiang.example"  # 37 characters
        driver.ensure_participant("cb-9-20261207T0030Z", DialTarget("cb-ep-18", "sip", address, "U Minh Thượng"))
        dialled = [c for c in mcu_emulator.calls() if c.get("address") == address]
        assert len(dialled) == 1
        with pytest.raises(InvalidRequest):
            driver.ensure_participant("cb-9-20261207T0030Z", DialTarget("cb-ep-19", "sip", "x" * 60 + "@a.example"))
    finally:
        driver.close()
