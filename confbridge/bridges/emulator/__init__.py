"""The Cisco TelePresence MCU emulator: a separate process speaking the MCU XML-RPC API 2.9 on loopback.

Start it with ``confbridge mcu-emulator`` (or ``python -m confbridge.bridges.emulator``); from Python
use ``confbridge.bridges.emulator.launcher.start_emulator``.  See ``README.md`` and ``server.py`` for the
control API.
"""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from types import FrameType

from confbridge.bridges.emulator.server import Emulator, EmulatorOptions

__all__ = ["Emulator", "EmulatorOptions", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(options: EmulatorOptions) -> None:
    """Run until SIGTERM/SIGINT; prints the ready line (flushed) once both servers listen."""
    if not is_loopback(options.host):
        raise ValueError(f"the emulator listens on loopback only, not {options.host!r}")
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    # Handlers first: whoever saw the ready line may send SIGTERM at once.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    emulator = Emulator(options)
    port, control_port = emulator.start()
    host = options.host
    print(f"mcu-emulator listening on http://{host}:{port}/RPC2 (control http://{host}:{control_port})",
          flush=True)
    while not stop.wait(0.05):
        pass
    emulator.stop()
    print("mcu-emulator stopped", file=sys.stderr, flush=True)
