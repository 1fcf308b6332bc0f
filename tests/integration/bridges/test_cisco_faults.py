"""Fault codes, retries and authentication: Cisco MCU driver against the emulator subprocess."""

from __future__ import annotations

import logging

import pytest

from confbridge.bridges.base import (
    AlreadyExists,
    AuthError,
    BridgeError,
    CapacityExceeded,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    TransientError,
    Unsupported,
)
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from tests.fixtures.mcu import EmulatorFactory, McuEmulator

DOCUMENTED = {
    1: Unsupported, 2: AlreadyExists, 3: AlreadyExists, 4: NotFound, 5: NotFound, 6: CapacityExceeded,
    7: CapacityExceeded, 8: InvalidRequest, 9: InvalidRequest, 10: InvalidRequest, 11: InvalidRequest,
    12: InvalidRequest, 13: InvalidRequest, 14: AuthError, 15: AuthError, 16: InvalidRequest,
    17: CapacityExceeded, 18: AlreadyExists, 19: InvalidRequest, 20: InvalidRequest, 35: InvalidRequest,
    101: InvalidRequest, 102: InvalidRequest, 103: InvalidRequest, 201: BridgeError, 202: Unsupported,
    203: TransientError,
}


def fast_driver(emulator: McuEmulator, **settings: object) -> CiscoMcuDriver:
    return CiscoMcuDriver(emulator.bridge_settings(**settings), attempts=4, backoff_base=0.01,
                          backoff_cap=0.05)


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_every_documented_fault_maps_to_a_normalised_error(mcu_emulator: McuEmulator, code: int) -> None:
    driver = fast_driver(mcu_emulator)
    mcu_emulator.faults(fail={"method": "device.query", "code": code, "count": 100})
    with pytest.raises(BridgeError) as caught:
        driver.probe()
    assert type(caught.value) is DOCUMENTED[code]
    assert caught.value.fault_code == code
    calls = mcu_emulator.state()["stats"]["calls"]["device.query"]
    # Retried: 203 (device busy) up to the attempt limit, 201 once; everything else never.
    assert calls == {203: 4, 201: 2}.get(code, 1)


def test_transient_faults_are_retried_until_success(mcu_emulator: McuEmulator) -> None:
    driver = fast_driver(mcu_emulator)
    mcu_emulator.faults(fail={"method": "device.query", "code": 203, "count": 2})
    assert driver.probe().api_version == "2.9"
    mcu_emulator.faults(fail={"method": "device.query", "code": 201, "count": 1})
    assert driver.probe().api_version == "2.9"
    mcu_emulator.faults(http_500=2)
    assert driver.probe().api_version == "2.9"


def test_wrong_password_is_an_auth_error_never_retried_never_echoed(
    mcu_emulator: McuEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-" + mcu_emulator.password
    monkeypatch.setenv(mcu_emulator.password_env, wrong)
    caplog.set_level(logging.DEBUG)
    driver = fast_driver(mcu_emulator)
    with pytest.raises(AuthError) as caught:
        driver.probe()
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)
    assert wrong not in repr(driver) and wrong not in caplog.text
    assert mcu_emulator.state()["stats"]["auth_failures"] == 1


def test_right_password_never_logged(mcu_emulator: McuEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    driver = fast_driver(mcu_emulator)
    mcu_emulator.faults(fail={"method": "device.query", "code": 203, "count": 1})
    driver.probe()
    assert "device.query" in caplog.text  # the retry was logged …
    assert mcu_emulator.password not in caplog.text  # … without the credentials


def test_auth_fault_14_is_an_auth_error(mcu_emulator_factory: EmulatorFactory) -> None:
    emulator = mcu_emulator_factory(auth_fault=14)
    driver = fast_driver(emulator, username="nobody")
    with pytest.raises(AuthError) as caught:
        driver.probe()
    assert caught.value.fault_code == 14


def test_unknown_user_is_refused(mcu_emulator: McuEmulator) -> None:
    with pytest.raises(AuthError):
        fast_driver(mcu_emulator, username="Admin").probe()  # user names are case-sensitive


def test_capacity_limits_are_capacity_errors(mcu_emulator_factory: EmulatorFactory) -> None:
    from confbridge.bridges.base import DialTarget

    emulator = mcu_emulator_factory(max_conferences=2, max_participants=3)
    driver = fast_driver(emulator)
    driver.ensure_conference("cb-1-20261201T0030Z")
    driver.ensure_conference("cb-2-20261201T0030Z")
    with pytest.raises(CapacityExceeded):
        driver.ensure_conference("cb-3-20261201T0030Z")
    for i in range(3):
        driver.ensure_participant("cb-1-20261201T0030Z", DialTarget(f"cb-ep-{i}", "sip", f"e{i}@x.example"))
    with pytest.raises(CapacityExceeded):
        driver.ensure_participant("cb-2-20261201T0030Z", DialTarget("cb-ep-9", "sip", "e9@x.example"))


def test_a_foreign_conference_with_the_same_name_is_not_adopted(mcu_emulator: McuEmulator) -> None:
    driver = fast_driver(mcu_emulator)
    driver.call("conference.create", conferenceName="Giao ban tuan", description="made by hand",
                durationSeconds=0)
    with pytest.raises(AlreadyExists):
        driver.ensure_conference("Giao ban tuan")


def test_invalid_pin_and_long_names_are_refused_before_sending(mcu_emulator: McuEmulator) -> None:
    driver = fast_driver(mcu_emulator)
    with pytest.raises(InvalidRequest):
        driver.ensure_conference("cb-1-20261201T0030Z", pin="12ab")
    with pytest.raises(InvalidRequest):
        driver.ensure_conference("x" * 32)
    assert "conference.create" not in mcu_emulator.state()["stats"]["calls"]


def test_timeouts_on_every_call(mcu_emulator: McuEmulator) -> None:
    driver = fast_driver(mcu_emulator, timeout_seconds=0.3)
    mcu_emulator.faults(timeout={"method": "device.health.query", "seconds": 1.0, "count": 100})
    with pytest.raises(OutcomeUnknown) as caught:
        driver.health()
    assert "no answer" in caught.value.message


def test_a_killed_bridge_is_reported_unreachable(mcu_emulator: McuEmulator) -> None:
    # (a per-test emulator: this test kills it)
    from confbridge.bridges.xmlrpc_transport import Unreachable

    driver = fast_driver(mcu_emulator)
    driver.probe()
    mcu_emulator.proc.process.kill()  # SIGKILL: no goodbye on the keep-alive connection
    mcu_emulator.proc.process.wait(5)
    with pytest.raises(Unreachable) as caught:
        driver.probe()
    assert caught.value.retryable


def test_set_layout_reaches_the_conference(mcu_emulator: McuEmulator) -> None:
    driver = fast_driver(mcu_emulator)
    assert driver.capabilities().layouts
    driver.ensure_conference("cb-5-20261201T0030Z")
    driver.set_layout("cb-5-20261201T0030Z", 5)
    assert [c["customLayout"] for c in mcu_emulator.state()["conferences"]] == [5]
    with pytest.raises(InvalidRequest):
        driver.set_layout("cb-5-20261201T0030Z", 60)
    with pytest.raises(NotFound):
        driver.set_layout("cb-6-20261201T0030Z", 2)
