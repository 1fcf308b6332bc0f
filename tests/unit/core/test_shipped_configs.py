"""Every settings file we ship loads (a typo in a shipped file would stop start-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from confbridge.settings import PROJECT_ROOT, load_settings


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "config").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_config_loads(path: Path) -> None:
    settings = load_settings(path, environ={})
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.default_bridge() is not None
