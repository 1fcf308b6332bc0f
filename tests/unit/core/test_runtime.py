"""The composition root: what open_runtime installs, and that nothing else installs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from confbridge import events
from confbridge.booking import hooks as booking_hooks
from confbridge.invites.hooks import on_booking_change
from confbridge.live.bus import MemoryBus, RedisBus
from confbridge.runtime import open_runtime
from confbridge.settings import Settings, load_settings

PACKAGE = Path(__file__).resolve().parents[3] / "confbridge"


@pytest.fixture
def base(tmp_path: Path) -> Settings:
    return load_settings(environ={}).with_overrides(**{"database.url": f"sqlite:///{tmp_path / 'x.db'}"})


@pytest.fixture(autouse=True)
def _restore_publisher():
    before = events.get_publisher()
    yield
    events.set_publisher(before)


def test_redis_bus_and_hooks_are_installed_and_reused(base: Settings) -> None:
    settings = base.with_overrides(**{"live.bus": "redis", "live.redis_url": "redis://127.0.0.1:1/0"})
    first = open_runtime(settings, "scheduler", configure_logging=False)
    second = open_runtime(settings, "cli", configure_logging=False)
    try:
        assert isinstance(first.bus, RedisBus) and events.get_publisher() is first.bus is second.bus
        assert first.hooks == ("invitations",) and on_booking_change in booking_hooks._listeners
        assert booking_hooks._listeners.count(on_booking_change) == 1
    finally:
        first.close()
        second.close()


def test_memory_bus_for_the_embedded_default_and_unknown_kinds_refused(base: Settings) -> None:
    runtime = open_runtime(base, "run", configure_logging=False)
    try:
        assert isinstance(runtime.bus, MemoryBus) and events.get_publisher() is runtime.bus
    finally:
        runtime.close()
    with pytest.raises(ValueError, match="unknown process kind"):
        open_runtime(base, "worker", configure_logging=False)  # type: ignore[arg-type]


def test_no_module_but_the_composition_root_installs_publishers_or_hooks() -> None:
    installs = re.compile(r"\b(set_publisher|install_bus|hooks\.install|install_invitations|basicConfig)\(")
    allowed = {"runtime.py", "live/bus.py", "events.py"}
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if installs.search(p.read_text(encoding="utf-8"))
                 and str(p.relative_to(PACKAGE)) not in allowed]
    assert offenders == []
