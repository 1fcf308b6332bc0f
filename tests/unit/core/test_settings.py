"""Settings: the embedded default loads; overrides apply; unknown keys and bad values name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from confbridge.settings import SettingsError, load_settings


def test_embedded_default() -> None:
    s = load_settings(environ={})
    assert s.timezone == "Asia/Ho_Chi_Minh"
    assert s.database.url.startswith("sqlite:///")
    assert s.web.port == 8080
    assert s.default_bridge() is not None and s.default_bridge().driver == "cisco-mcu"
    assert s.endpoints_file == "config/endpoints/kien-giang.toml"


def test_env_overrides_one_key() -> None:
    s = load_settings(environ={"CONFBRIDGE_WEB_PORT": "9090", "CONFBRIDGE_DATABASE_URL": "sqlite:///x.db",
                               "CONFBRIDGE_TIMEZONE": "Europe/Berlin",
                               "CONFBRIDGE_BOOKING_DEFAULT_SETUP_MINUTES": "30"})
    assert (s.web.port, s.database.url, s.timezone, s.booking.default_setup_minutes) == (
        9090, "sqlite:///x.db", "Europe/Berlin", 30)


@pytest.mark.parametrize(("env", "named"), [
    ({"CONFBRIDGE_WEB_PORTT": "1"}, "CONFBRIDGE_WEB_PORTT"),
    ({"CONFBRIDGE_WEB_PORT": "eighty"}, "web.port"),
    ({"CONFBRIDGE_WEB_PORT": "70000"}, "web.port"),
    ({"CONFBRIDGE_TIMEZONE": "Mars/Olympus"}, "timezone"),
    ({"CONFBRIDGE_NOSUCH": "1"}, "CONFBRIDGE_NOSUCH"),
])
def test_bad_env_names_the_key(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ=env)
    assert named in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[web]\nport = 8080\nprot = 1\n[[bridges]]\nname = "a"\npasword_env = "X"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ={})
    assert "web.prot: unknown key" in str(info.value)
    assert "bridges.0.pasword_env: unknown key" in str(info.value)


def test_config_file_selected_by_env(tmp_path: Path) -> None:
    path = tmp_path / "prod.toml"
    path.write_text('timezone = "UTC"\n[database]\nurl = "postgresql+psycopg://u@127.0.0.1/cb"\n')
    s = load_settings(environ={"CONFBRIDGE_CONFIG": str(path)})
    assert s.timezone == "UTC" and s.database.url.startswith("postgresql")
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(environ={"CONFBRIDGE_CONFIG": str(tmp_path / "missing.toml")})


def test_bridge_password_comes_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    s = load_settings(environ={}).with_overrides(bridges=[
        {"name": "a", "password_env": "MCU_A_PASSWORD"}, {"name": "b", "password_file": str(secret)}])
    monkeypatch.setenv("MCU_A_PASSWORD", "from-env")
    assert s.bridge("a").password() == "from-env"
    assert s.bridge("b").password() == "s3cret"
    monkeypatch.delenv("MCU_A_PASSWORD")
    with pytest.raises(SettingsError, match="MCU_A_PASSWORD is not set"):
        s.bridge("a").password()
