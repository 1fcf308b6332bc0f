from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.cisco_mcu import CiscoMcuDriver
from confbridge.bridges.registry import driver_names, make_driver
from confbridge.settings import BridgeSettings, SettingsError


def bridge(**values: Any) -> BridgeSettings:
    return BridgeSettings.model_validate({"name": "b", "url": "http://127.0.0.1:9/RPC2", **values})


def test_drivers_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_MCU_PW", "s3cret")
    for name in ("cisco-mcu", "emulator"):
        driver = make_driver(bridge(driver=name, username="admin", password_env="UNIT_MCU_PW"))
        assert isinstance(driver, CiscoMcuDriver) and isinstance(driver, BridgeDriver)
        assert "s3cret" not in repr(driver)
        driver.close()
    assert {"cisco-mcu", "emulator"} <= set(driver_names())


def test_missing_password_variable_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as caught:
        make_driver(bridge(password_env="NOPE_NOT_SET_X"))
    assert "NOPE_NOT_SET_X" in str(caught.value)


def test_password_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n", encoding="utf-8")
    driver = make_driver(bridge(password_file=str(secret)))
    assert isinstance(driver, CiscoMcuDriver)
    assert driver._password == "from-file"
