"""The driver contract, run over real sockets: Cisco MCU driver -> emulator subprocess."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.registry import make_driver
from tests.fixtures.mcu import McuEmulator
from tests.integration.bridges.contract import DriverContract


class EmulatorHarness:
    def __init__(self, emulator: McuEmulator, driver: BridgeDriver) -> None:
        self.emulator = emulator
        self.driver = driver

    def address(self, behaviour: str = "answer", **kwargs: object) -> tuple[str, str]:
        address = f"ep-{secrets.token_hex(4)}@vc.example"
        self.emulator.set_endpoint(address, behaviour, **{"answer_delay": 0.05, **kwargs})
        return "sip", address

    def dial_attempts(self, conference: str, participant_name: str) -> int:
        return sum(1 for c in self.emulator.calls()
                   if c["conference"] == conference and c["participant"] == participant_name)

    def new_driver(self) -> BridgeDriver:
        return make_driver(self.emulator.bridge_settings())

    def far_end_hangs_up(self, conference: str, participant_name: str) -> None:
        self.emulator.drop(conference, participant_name)

    def dial_in(self, number: str, address: str) -> None:
        self.emulator.dial_in(number, address)

    def layout_shown(self, conference: str) -> object:
        conf = self.emulator.conference(conference)
        assert conf is not None and conf["customLayoutEnabled"]
        return conf["customLayout"]


class TestCiscoMcuContract(DriverContract):
    @pytest.fixture
    def harness(self, mcu_emulator_session: McuEmulator) -> Iterator[EmulatorHarness]:
        # One emulator for the whole suite: every test uses fresh conference names and addresses.
        driver = make_driver(mcu_emulator_session.bridge_settings())
        yield EmulatorHarness(mcu_emulator_session, driver)
        driver.close()
