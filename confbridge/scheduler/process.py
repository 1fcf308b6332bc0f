"""The scheduler process: stand by until the lease is ours, then drive the launch engine with APScheduler.

APScheduler only provides ticks: a 1 s interval job (``tick``), the reconcile job, and ``date`` wake-ups
at planned instants for punctuality; what must happen is always read from our tables.  Jobs are
configured against silent drops: ``misfire_grace_time=None`` (a late tick still runs), ``coalesce=True``
(a backlog runs once), ``max_instances=1``.  Bridge calls run in the engine's own pool, so the small
APScheduler pool never blocks them.  The lease is renewed from the main loop, not from a job.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import UTC, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock, metrics
from confbridge.audit.service import PURGE_INTERVAL_SECONDS, purge_job
from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.registry import make_driver
from confbridge.bridges.view import ParticipantView
from confbridge.health import ProbeServer
from confbridge.launch.dbgate import gate_for
from confbridge.launch.executor import LaunchEngine
from confbridge.launch.fence import LostLease
from confbridge.monitor.loop import FeedbackReceiver, MonitorLoop
from confbridge.runtime import Runtime, open_runtime
from confbridge.scheduler.lease import Lease
from confbridge.settings import Settings

log = logging.getLogger(__name__)
STANDBY_POLL_SECONDS = 1.0
WAKEUP_HORIZON = timedelta(minutes=2)


def _guard(name: str, fn: object) -> object:
    def job() -> None:
        try:
            fn()  # type: ignore[operator]
        except LostLease:
            log.warning("%s: lease lost", name)
        except Exception:
            log.exception("%s failed", name)

    return job


def _drivers(settings: Settings) -> dict[str, BridgeDriver]:
    return {b.name: make_driver(b) for b in settings.bridges}


def _keep_lease(lease: Lease, stop: threading.Event, lost: threading.Event) -> None:
    """Renew the lease every third of its length, in its own thread: long bridge work never delays it."""
    every = max(0.2, lease.seconds / 3)
    while not stop.wait(every) and not lost.is_set():
        try:
            if not lease.renew():
                lost.set()
        except Exception:
            log.exception("lease renewal failed")
        if not lease.valid_locally():
            log.warning("lease expired locally; standing down")
            lost.set()


PURGE_SECONDS = 3600


def purge_credentials(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    """Delete expired sign-in sessions and expired or used token rows (hourly on the leader)."""
    from confbridge.auth.sessions import purge_expired
    from confbridge.db import unit_of_work

    with unit_of_work(session_factory) as session:
        return purge_expired(session)


def _lead(settings: Settings, lease: Lease, session_factory: object, stop: threading.Event) -> None:
    """Act as leader until *stop* or until the lease is lost."""
    lost = threading.Event()
    done = threading.Event()
    renewer = threading.Thread(target=_keep_lease, args=(lease, done, lost), name="lease", daemon=True)
    renewer.start()
    drivers = _drivers(settings)
    # One participant view per bridge, shared by the engine's polls and the monitor (delta reads).
    views = {name: ParticipantView(driver) for name, driver in drivers.items()}
    engine = LaunchEngine(session_factory, settings, drivers, fence=lease,  # type: ignore[arg-type]
                          gate=lease.gate, views=views)
    aps = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ApsThreadPool(4)},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    # Endpoint monitoring runs only on the leader, beside the launch engine (and yields to its dials).
    monitor = MonitorLoop(session_factory, settings, drivers,  # type: ignore[arg-type]
                          defer_polls=lambda: engine.dial_backlog() > 0, views=views)
    monitor_stop = threading.Event()
    monitor_thread = threading.Thread(target=monitor.run, args=(monitor_stop,), name="monitor", daemon=True)
    receiver: FeedbackReceiver | None = None
    try:
        receiver = FeedbackReceiver(monitor.hint).start()
        receiver.register(drivers)
    except Exception:  # push hints are an optimisation: polling still runs
        log.exception("bridge feedback receiver not available; monitoring by polling only")
    try:
        engine.reconcile(wait=True)  # start-up: adopt, re-drive, tear down before anything new
        monitor_thread.start()
        tick = _guard("tick", engine.tick)
        aps.add_job(tick, "interval", seconds=1, id="tick", next_run_time=clock.now())
        interval = settings.launch.reconcile_interval_seconds

        def periodic_reconcile() -> None:
            # A reconcile pages through every conference and participant on the bridge; in the middle
            # of a launch storm it waits (up to 10 intervals) rather than take request slots from dials.
            overdue = time.monotonic() - engine.last_reconcile > 10 * interval
            if engine.dial_backlog() == 0 or overdue:
                engine.reconcile(wait=False)

        aps.add_job(_guard("reconcile", periodic_reconcile), "interval", seconds=interval, id="reconcile")

        def plan_wakeups() -> None:
            for instant in engine.next_wakeups(clock.now(), WAKEUP_HORIZON):
                aps.add_job(tick, "date", run_date=instant, id=f"wake-{instant.isoformat()}",
                            replace_existing=True)

        aps.add_job(_guard("wakeups", plan_wakeups), "interval", seconds=5, id="wakeups",
                    next_run_time=clock.now())
        aps.add_job(_guard("audit-purge", lambda: purge_job(session_factory,  # type: ignore[arg-type]
                                                            settings.audit.retention_days)),
                    "interval", seconds=PURGE_INTERVAL_SECONDS, id="audit-purge", next_run_time=clock.now())
        # The active scheduler also delivers the invitation outbox (``confbridge mail worker`` may run
        # beside it: rows are claimed, so each message is sent by one of them).
        aps.add_job(_guard("outbox", lambda: _deliver_outbox(settings, session_factory)), "interval",
                    seconds=settings.mail.poll_seconds, id="outbox", next_run_time=clock.now())
        aps.add_job(_guard("purge", lambda: purge_credentials(session_factory)), "interval",  # type: ignore[arg-type]
                    seconds=PURGE_SECONDS, id="purge", next_run_time=clock.now())
        aps.start()
        while not stop.wait(0.2) and not lost.is_set():
            pass
    finally:
        done.set()
        monitor_stop.set()
        if receiver is not None:
            receiver.stop()
        if aps.running:
            aps.shutdown(wait=False)
        engine.close()
        for driver in drivers.values():
            driver.close()
        renewer.join(5)


def _start_probes(settings: Settings, db_engine: Engine, factory: sessionmaker[Session]) -> ProbeServer | None:
    """/healthz, /readyz and /metrics on ``[scheduler] metrics_port`` (0: off)."""
    port = settings.scheduler.metrics_port
    if port == 0:
        return None
    try:
        probes = ProbeServer(settings.scheduler.metrics_host, port, db_engine, factory,
                             metrics.parse_networks(settings.metrics.allowed_networks)).start()
    except OSError as exc:
        raise SystemExit(f"scheduler: cannot listen on {settings.scheduler.metrics_host}:{port} "
                         f"({exc.strerror}); change [scheduler] metrics_port") from None
    log.info("scheduler metrics on http://%s:%d/metrics", settings.scheduler.metrics_host, probes.port)
    return probes


def _deliver_outbox(settings: Settings, session_factory: object) -> None:
    from confbridge.invites.outbox import deliver_due

    report = deliver_due(session_factory, settings)  # type: ignore[arg-type]
    if report.attempted:
        log.info("outbox: %d sent, %d to retry, %d failed",
                 len(report.sent), len(report.retrying), len(report.failed))


def run_scheduler(settings: Settings, stop_event: threading.Event | None = None, *,
                  runtime: Runtime | None = None) -> None:
    """Run the scheduler until *stop_event* is set (or SIGTERM/SIGINT when run as a command).

    Several may run against one database: one leads, the others stand by and take over within
    ``launch.lease_seconds`` + 1 s of the leader's death.  The leader also delivers the outbox.
    *runtime* is the process's (``confbridge scheduler``, ``confbridge run``); without one, one is opened.
    """
    stop = stop_event or threading.Event()
    if stop_event is None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    owned = runtime is None
    runtime = runtime or open_runtime(settings, "scheduler", configure_logging=False)
    factory = runtime.session_factory
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    # The engine and the lease share one gate for SQLite transactions (confbridge.launch.dbgate).
    lease = Lease(factory, holder, settings.launch.lease_seconds, gate=gate_for(factory))
    log.info("scheduler %s starting (standby until the lease is free)", holder)
    metrics.SCHEDULER_LEADER.set(0)
    probes = _start_probes(settings, runtime.engine, factory)
    try:
        while not stop.is_set():
            try:
                acquired = lease.try_acquire()
            except Exception:
                log.exception("lease acquisition failed")
                acquired = False
            if acquired:
                log.info("scheduler %s is active", holder)
                metrics.SCHEDULER_LEADER.set(1)
                try:
                    _lead(settings, lease, factory, stop)
                finally:
                    metrics.SCHEDULER_LEADER.set(0)
                if not stop.is_set():
                    log.warning("scheduler %s lost leadership; back to standby", holder)
                continue
            stop.wait(STANDBY_POLL_SECONDS)
    finally:
        try:
            lease.release()
        except Exception:
            log.exception("lease release failed")
        if probes is not None:
            probes.stop()
        if owned:
            runtime.close()
