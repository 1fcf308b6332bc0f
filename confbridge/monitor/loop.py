"""The monitor as the active scheduler runs it: ``monitor_tick`` every ``monitor.poll_seconds``, and
at once (paced: ``HINT_MIN_GAP_SECONDS``) when a bridge's feedback event hints that something changed.

The bridge's feedback events carry no details ("participantLeft"), so they are only hints: a receiver
(:class:`FeedbackReceiver`, XML-RPC on loopback) calls :meth:`MonitorLoop.hint` and the next pass reads
the bridge as usual.  Usage in the scheduler's leader loop::

    loop = MonitorLoop(session_factory, settings, drivers)
    receiver = FeedbackReceiver(loop.hint).start()          # optional: push hints
    receiver.register(drivers)                              # drivers that support feedback receivers
    threading.Thread(target=loop.run, args=(stop_event,), daemon=True).start()
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import xmlrpc.server
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.view import ParticipantView
from confbridge.monitor.probes import Probe, make_probe
from confbridge.monitor.service import monitor_tick
from confbridge.settings import SchedulerSettings, Settings

log = logging.getLogger(__name__)
# Passes a hint asks for begin at most this often.  An isolated hint (a dropped call) starts a pass at
# once: a trailing debounce added its length to every drop on its way to the console.  A burst (a
# conference ending, a storm's joins) arrives while that pass reads the bridge and becomes one more pass.
HINT_MIN_GAP_SECONDS = 0.5


def hinted_pass_delay(last_began: float, now: float, gap: float = HINT_MIN_GAP_SECONDS) -> float:
    """Seconds to wait before the pass a hint asked for (monotonic times): none once the last pass
    began *gap* or more ago."""
    return max(0.0, last_began + gap - now)


class MonitorLoop:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings,
                 drivers: Mapping[str, BridgeDriver], probe: Probe | None = None,
                 defer_polls: Callable[[], bool] | None = None,
                 views: Mapping[str, ParticipantView] | None = None,
                 bridges: Collection[str] | None = None, probe_idle: bool = True) -> None:
        self.session_factory = session_factory
        # With bridge leases: the calls on these bridges only; the global lease's loop probes idle ones.
        self.bridges = bridges
        self.probe_idle = probe_idle
        # The scheduler shares its per-bridge participant views with the launch engine: each poll then
        # fetches only what changed since the other's last read.
        self.views = views
        # True while the launch engine has dials queued: a full participant enumeration would take the
        # bridge's few request slots from the launch that matters more.
        self.defer_polls = defer_polls
        self.settings = settings
        self.drivers = drivers
        self.probe = probe or make_probe(settings.monitor)
        self._hint = threading.Event()
        self.passes = 0

    def hint(self) -> None:
        """Something changed on a bridge: run a pass soon."""
        self._hint.set()

    def tick(self) -> int:
        self.passes += 1
        poll = not (self.defer_polls is not None and self.defer_polls())
        return monitor_tick(self.session_factory, self.settings, self.drivers, probe=self.probe,
                            poll_bridges=poll, views=self.views, bridges=self.bridges,
                            probe_idle=self.probe_idle)

    def run(self, stop: threading.Event) -> None:
        """Run until *stop* is set (a lost lease sets it: only the leader monitors)."""
        while not stop.is_set():
            # Cleared before the pass reads: a hint that arrives from here on asks for the next pass.
            self._hint.clear()
            began = time.monotonic()
            try:
                self.tick()
            except Exception:  # a database or bridge hiccup: the next pass tries again
                log.exception("monitor pass failed")
            if self._hint.wait(self.settings.monitor.poll_seconds):
                stop.wait(hinted_pass_delay(began, time.monotonic()))


class _Server(xmlrpc.server.SimpleXMLRPCServer):
    def __init__(self, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), logRequests=False, allow_none=True)


def _listen(host: str, ports: Iterable[int]) -> _Server:
    """The first port of *ports* free on *host* (several schedulers on one machine, several bridges per
    scheduler: each receiver needs its own)."""
    error: OSError | None = None
    for port in ports:
        try:
            return _Server(host, port)
        except OSError as exc:  # in use: the next one
            error = exc
    raise OSError(f"no free feedback port on {host}: {error}")


class FeedbackReceiver:
    """An XML-RPC endpoint (``http://<address>:<port>/RPC2``) for the MCU's ``eventNotification`` pushes.

    It listens on *host* (``[scheduler] feedback_host``), on the first free port of *ports* (any free
    port when ``(0, 0)``), and gives the bridges *address* (``feedback_address``: the scheduler as the
    bridge reaches it; default *host*)."""

    def __init__(self, on_event: Callable[[], None], host: str = "127.0.0.1", port: int = 0,
                 method_name: str = "eventNotification", *, ports: tuple[int, int] = (0, 0),
                 address: str | None = None) -> None:
        self.on_event = on_event
        self.host = host
        self.address = address or (f"[{host}]" if ":" in host else host)
        self.server = _listen(host, range(ports[0], ports[1] + 1) if ports != (0, 0) else [port])
        self.server.register_function(self._notify, method_name)
        self.received = 0
        self._registered: dict[str, int] = {}  # bridge name -> receiverIndex the bridge gave us
        self._thread = threading.Thread(target=self.server.serve_forever, name="mcu-feedback", daemon=True)

    @classmethod
    def for_scheduler(cls, on_event: Callable[[], None], settings: SchedulerSettings) -> FeedbackReceiver:
        return cls(on_event, settings.feedback_host, ports=settings.feedback_port_range(),
                   address=settings.feedback_uri_host())

    @property
    def uri(self) -> str:
        port = self.server.server_address[1]
        return f"http://{self.address}:{port}/RPC2"

    def _notify(self, params: Any = None, *_: Any) -> dict[str, str]:
        self.received += 1
        self.on_event()
        return {"status": "ok"}

    def start(self) -> FeedbackReceiver:
        self._thread.start()
        return self

    def register(self, drivers: Mapping[str, BridgeDriver]) -> list[str]:
        """Configure this receiver on every bridge that can push events; returns their names."""
        done = []
        for name, driver in drivers.items():
            configure = getattr(driver, "configure_feedback", None)
            if configure is None or not driver.capabilities().push_events:
                continue
            try:
                self._registered[name] = int(configure(self.uri))
                done.append(name)
            except Exception as exc:  # polling still works without hints
                log.warning("bridge %s: feedback receiver not configured: %s", name, type(exc).__name__)
        return done

    def unregister(self, drivers: Mapping[str, BridgeDriver]) -> None:
        """Remove this receiver from the bridges it was configured on.

        A bridge keeps a receiver until told otherwise (a Cisco MCU has 20 slots) and pushes to each in
        turn: a scheduler handing a bridge over must not leave a dead receiver that delays the next
        holder's hints and, after twenty hand-overs, leaves it no slot."""
        for name, index in list(self._registered.items()):
            driver = drivers.get(name)
            remove = getattr(driver, "remove_feedback", None)
            if remove is None:
                continue
            try:
                remove(index)
                del self._registered[name]
            except Exception as exc:  # best effort: the bridge may be unreachable (then it drops us itself)
                log.warning("bridge %s: feedback receiver %d not removed: %s", name, index, type(exc).__name__)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
