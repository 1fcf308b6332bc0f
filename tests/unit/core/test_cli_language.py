"""The command line speaks CONFBRIDGE_LANG, else the POSIX locale, else Vietnamese."""

from __future__ import annotations

import pytest

from confbridge.i18n import cli_locale
from confbridge.settings import load_settings


def test_the_cli_language_follows_the_environment() -> None:
    assert cli_locale({}) == "vi"
    assert cli_locale({"LANG": "C.UTF-8"}) == "vi"  # C names no language
    assert cli_locale({"LANG": "en_US.UTF-8"}) == "en"
    assert cli_locale({"LANG": "en_GB.UTF-8", "CONFBRIDGE_LANG": "vi"}) == "vi"
    assert cli_locale({"LC_ALL": "en_US.UTF-8", "LANG": "vi_VN.UTF-8"}) == "en"
    assert cli_locale({"CONFBRIDGE_LANG": "fr"}) == "vi"  # a language we do not speak


def test_the_cli_language_variable_is_not_a_settings_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFBRIDGE_LANG", "en")
    assert load_settings().timezone  # loads: CONFBRIDGE_LANG is not refused as an unknown key
