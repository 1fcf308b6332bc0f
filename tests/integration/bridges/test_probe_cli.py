"""``confbridge bridges probe NAME`` against the emulator, a wrong password and a closed port."""

from __future__ import annotations

import socket
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from confbridge.bridges.cli import register
from tests.fixtures.mcu import McuEmulator


def run_probe(tmp_path: Path, url: str, password_env: str, name: str = "mcu",
              language: str = "en") -> tuple[int, str]:
    config = tmp_path / "confbridge.toml"
    config.write_text(
        f'[[bridges]]\nname = "{name}"\ndriver = "cisco-mcu"\nurl = "{url}"\nusername = "admin"\n'
        f'password_env = "{password_env}"\ntimeout_seconds = 2\n', encoding="utf-8")
    group = click.Group("confbridge")
    register(group)
    result = CliRunner(env={"CONFBRIDGE_LANG": language}).invoke(
        group, ["bridges", "probe", name], obj={"config": str(config)})
    return result.exit_code, result.output


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_probe_prints_model_versions_ports_health(tmp_path: Path, mcu_emulator: McuEmulator) -> None:
    code, out = run_probe(tmp_path, mcu_emulator.url, mcu_emulator.password_env)
    assert code == 0, out
    assert "Cisco TelePresence MCU 4510" in out
    assert "API 2.9" in out and "video 40" in out and "health:    ok" in out


def test_probe_wrong_password(tmp_path: Path, mcu_emulator: McuEmulator,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mcu_emulator.password_env, "not-" + mcu_emulator.password)
    code, out = run_probe(tmp_path, mcu_emulator.url, mcu_emulator.password_env)
    assert code == 1
    assert out.strip().count("\n") == 0
    assert "authentication failed" in out
    assert mcu_emulator.password not in out


def test_probe_closed_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCU_PROBE_TEST_PW", "x")
    code, out = run_probe(tmp_path, f"http://127.0.0.1:{closed_port()}/RPC2", "MCU_PROBE_TEST_PW")
    assert code == 1 and out.strip().count("\n") == 0
    assert "unreachable" in out


def test_probe_not_an_mcu(tmp_path: Path, mcu_emulator: McuEmulator) -> None:
    code, out = run_probe(tmp_path, mcu_emulator.control_url + "/RPC2", mcu_emulator.password_env)
    assert code == 1 and "not an MCU API" in out


def test_probe_timeout(tmp_path: Path, mcu_emulator: McuEmulator) -> None:
    mcu_emulator.faults(timeout={"method": "device.query", "seconds": 3, "count": 100})
    code, out = run_probe(tmp_path, mcu_emulator.url, mcu_emulator.password_env)
    assert code == 1 and "timed out" in out


def test_probe_unknown_bridge(tmp_path: Path, mcu_emulator: McuEmulator) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    group = click.Group("confbridge")
    register(group)
    result = CliRunner(env={"CONFBRIDGE_LANG": "en"}).invoke(
        group, ["bridges", "probe", "nope"], obj={"config": str(config)})
    assert result.exit_code == 1 and "no bridge named “nope” in the settings" in result.output


def test_probe_speaks_vietnamese_by_default(tmp_path: Path, mcu_emulator: McuEmulator) -> None:
    code, out = run_probe(tmp_path, mcu_emulator.url, mcu_emulator.password_env, language="vi")
    assert code == 0, out
    assert "tình trạng: tốt" in out and "API 2.9" in out and "hình 40" in out
    assert "health" not in out
