"""Start the live server: ``run_live_server(settings)`` blocks until stopped (``confbridge live``);
``start_live_thread(runtime)`` runs it beside the web app (``confbridge run``).

Both take the bus from the process's runtime (:mod:`confbridge.runtime`) and accept the browser origins
derived by :mod:`confbridge.public_urls` (the web's own origin, ``[live] public_url``'s, and ``[live]
allowed_origins``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

from confbridge import metrics
from confbridge.health import probe_response
from confbridge.live.bus import Bus, MemoryBus
from confbridge.live.server import LiveServer, LiveServerThread
from confbridge.public_urls import live_allowed_origins
from confbridge.runtime import Runtime, open_runtime
from confbridge.settings import LiveSettings, Settings

log = logging.getLogger(__name__)


def effective_live_settings(settings: Settings) -> LiveSettings:
    """``[live]`` with ``allowed_origins`` completed by the web's own origins and ``public_url``'s."""
    return settings.live.model_copy(update={"allowed_origins": live_allowed_origins(settings)})


def make_live_server(runtime: Runtime, bus: Bus | None = None) -> LiveServer:
    from confbridge.monitor.service import check_scheduler_heartbeat

    settings, factory, engine = runtime.settings, runtime.session_factory, runtime.engine
    networks = metrics.parse_networks(settings.metrics.allowed_networks)
    return LiveServer(effective_live_settings(settings), factory, bus or runtime.bus,
                      heartbeat=lambda: check_scheduler_heartbeat(factory, settings),
                      probes=lambda path, client: probe_response(path, client, engine, factory, networks))


def start_live_thread(runtime: Runtime) -> LiveServerThread:
    """The live server on its own thread, listening when this returns (``RuntimeError`` when it cannot)."""
    return LiveServerThread(make_live_server(runtime)).start()


def run_live_server(settings: Settings, stop_event: threading.Event | None = None, *,
                    bus: Bus | None = None, runtime: Runtime | None = None) -> None:
    """Serve live connections until *stop_event* is set (or SIGINT/SIGTERM when run in the main thread).

    With the in-process bus the live server only sees events published in *this* process; separate
    processes need ``live.bus = "redis"``.
    """
    owned = runtime is None
    runtime = runtime or open_runtime(settings, "live", configure_logging=False)
    server = make_live_server(runtime, bus)
    if isinstance(server.bus, MemoryBus) and threading.current_thread() is threading.main_thread():
        log.warning("live: in-process bus in a process of its own: only events published here are seen; "
                    "set live.bus = \"redis\" when web and scheduler run as separate processes")

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
            "live server on ws://%s:%d (origins: %s)", settings.live.host, port,
            ", ".join(server.settings.allowed_origins)))

    try:
        asyncio.run(main())
    finally:
        if owned:
            runtime.close()
