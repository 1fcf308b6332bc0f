"""Pick the driver for a bridge by its ``driver`` setting.

``make_driver(settings)`` is what callers use.  ``driver = "emulator"`` is the Cisco MCU driver: the
emulator speaks the same protocol, so pointing the real driver at it is the whole point.  Later drivers
(Janus) call ``register_driver`` from their module.
"""

from __future__ import annotations

from collections.abc import Callable

from confbridge.bridges.base import BridgeDriver, InvalidRequest
from confbridge.settings import BridgeSettings

DriverFactory = Callable[[BridgeSettings], BridgeDriver]


def _cisco(settings: BridgeSettings) -> BridgeDriver:
    from confbridge.bridges.cisco_mcu import CiscoMcuDriver

    return CiscoMcuDriver(settings)


_FACTORIES: dict[str, DriverFactory] = {"cisco-mcu": _cisco, "emulator": _cisco}


def register_driver(name: str, factory: DriverFactory) -> None:
    """Make ``driver = name`` in settings build drivers with *factory*."""
    _FACTORIES[name] = factory


def driver_names() -> list[str]:
    return sorted(_FACTORIES)


def make_driver(bridge: BridgeSettings) -> BridgeDriver:
    """A ready driver for *bridge* (reads its password from env/file now; raises ``SettingsError``)."""
    try:
        factory = _FACTORIES[bridge.driver]
    except KeyError:
        raise InvalidRequest(f"bridge {bridge.name!r}: unknown driver {bridge.driver!r}") from None
    return factory(bridge)
