"""Start the live server: ``run_live_server(settings)`` blocks until stopped (``confbridge live``, and a
thread of ``confbridge run``)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

from confbridge import events
from confbridge.db import make_engine, make_session_factory
from confbridge.live.bus import Bus, MemoryBus, RedisBus, install_bus
from confbridge.live.server import LiveServer
from confbridge.settings import Settings

log = logging.getLogger(__name__)


def current_bus(settings: Settings) -> Bus:
    """The process's installed bus, or a new one from ``live.bus`` (installed as the publisher)."""
    publisher = events.get_publisher()
    if isinstance(publisher, MemoryBus | RedisBus):
        return publisher
    return install_bus(settings.live)


def run_live_server(settings: Settings, stop_event: threading.Event | None = None, *,
                    bus: Bus | None = None) -> None:
    """Serve live connections until *stop_event* is set (or SIGINT/SIGTERM when run in the main thread).

    With the in-process bus the live server only sees events published in *this* process: ``confbridge
    run`` installs one bus (``install_bus``) before starting web, scheduler and this server as threads.
    Separate processes need ``live.bus = "redis"``.
    """
    bus = bus or current_bus(settings)
    if isinstance(bus, MemoryBus) and threading.current_thread() is threading.main_thread():
        log.warning("live: in-process bus in a process of its own: only events published here are seen; "
                    "set live.bus = \"redis\" when web and scheduler run as separate processes")
    from confbridge.monitor.service import check_scheduler_heartbeat

    engine = make_engine(settings.database.url)
    factory = make_session_factory(engine)
    server = LiveServer(settings.live, factory, bus,
                        heartbeat=lambda: check_scheduler_heartbeat(factory, settings))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if stop_event is not None:
            threading.Thread(target=lambda: (stop_event.wait(), loop.call_soon_threadsafe(stop.set)),
                             name="live-stop", daemon=True).start()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        await server.serve(stop.wait(), lambda port: log.info(
            "live server on ws://%s:%d", settings.live.host, port))

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
