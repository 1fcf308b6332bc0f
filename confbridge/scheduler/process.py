"""The scheduler process: drive the launch engine with APScheduler for every lease it holds.

Two kinds of lease (``confbridge.scheduler.share``): one per bridge — the holder runs that bridge's
launch engine (scope: the runs on that bridge, fenced by that lease) and its monitor — and the global
one (``launch``) — its holder delivers the outbox, purges, probes idle endpoints, and fails the runs on a
bridge that is not configured.  Several schedulers share the bridges (a fair share each); one alone holds
everything.

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
from contextlib import AbstractContextManager
from datetime import UTC, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock, metrics
from confbridge.audit.service import PURGE_INTERVAL_SECONDS, purge_job
from confbridge.bridges.base import BridgeDriver
from confbridge.bridges.registry import make_driver
from confbridge.bridges.view import ParticipantView
from confbridge.db import make_engine, make_session_factory
from confbridge.health import ProbeServer
from confbridge.launch.dbgate import gate_for
from confbridge.launch.executor import LaunchEngine
from confbridge.launch.fence import LostLease
from confbridge.launch.scope import Scope
from confbridge.monitor.loop import FeedbackReceiver, MonitorLoop
from confbridge.runtime import Runtime, open_runtime
from confbridge.scheduler import share
from confbridge.scheduler.lease import Lease
from confbridge.settings import BridgeSettings, Settings

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


def _drivers(bridges: list[BridgeSettings]) -> dict[str, BridgeDriver]:
    return {b.name: make_driver(b) for b in bridges}


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
ALARM_MAIL_SECONDS = 5  # alarm e-mail and escalation: a raised alarm is mailed within this
REMINDER_POLL_SECONDS = 30


def purge_credentials(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    """Delete expired sign-in sessions and expired or used token rows (hourly on the leader)."""
    from confbridge.auth.sessions import purge_expired
    from confbridge.db import unit_of_work

    with unit_of_work(session_factory) as session:
        return purge_expired(session)


def _lead(settings: Settings, lease: Lease, session_factory: object, stop: threading.Event,
          bridge: BridgeSettings | None = None) -> None:
    """Drive what *lease* covers until *stop* or until the lease is lost: one *bridge*'s launches and
    monitoring, or (without one) the global work."""
    lost = threading.Event()
    done = threading.Event()
    renewer = threading.Thread(target=_keep_lease, args=(lease, done, lost), name=f"lease-{lease.name}",
                               daemon=True)
    renewer.start()
    drivers = _drivers([bridge] if bridge is not None else [])
    # One participant view per bridge, shared by the engine's polls and the monitor (delta reads).
    views = {name: ParticipantView(driver) for name, driver in drivers.items()}
    scope = (Scope.bridge(bridge.name) if bridge is not None
             else Scope.unconfigured(frozenset(b.name for b in settings.bridges)))
    engine = LaunchEngine(session_factory, settings, drivers, fence=lease,  # type: ignore[arg-type]
                          gate=lease.gate, views=views, scope=scope)
    aps = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ApsThreadPool(4)},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    # Endpoint monitoring runs beside each bridge's engine (and yields to its dials); the global lease's
    # monitor probes the endpoints in no call.
    monitor = MonitorLoop(session_factory, settings, drivers,  # type: ignore[arg-type]
                          defer_polls=lambda: engine.dial_backlog() > 0, views=views,
                          bridges=set(drivers), probe_idle=bridge is None)
    monitor_stop = threading.Event()
    monitor_thread = threading.Thread(target=monitor.run, args=(monitor_stop,), name=f"monitor-{lease.name}",
                                      daemon=True)
    receiver: FeedbackReceiver | None = None
    if drivers:
        try:
            receiver = FeedbackReceiver.for_scheduler(monitor.hint, settings.scheduler).start()
            receiver.register(drivers)
        except Exception:  # push hints are an optimisation: polling still runs
            log.exception("bridge feedback receiver not available; monitoring by polling only")
    try:
        # Start-up: adopt, re-drive, tear down before anything new.  A big bridge's reconcile pages
        # through every participant (600 legs: 120 pages on a Cisco MCU) and may take minutes in a
        # storm: it is waited for as long as the lease is held, never given up after a fixed time
        # (the holder then let go, the next one started over, and the bridge stalled for minutes).
        engine.reconcile(wait=False)
        while True:
            try:
                engine.wait(timeout=1.0)
                break
            except TimeoutError:
                if stop.is_set() or lost.is_set():
                    return
        monitor_thread.start()
        tick = _guard("tick", engine.tick)
        aps.add_job(tick, "interval", seconds=1, id="tick", next_run_time=clock.now())
        interval = settings.launch.reconcile_interval_seconds

        def periodic_reconcile() -> None:
            # A reconcile pages through every conference and participant on the bridge; in the middle
            # of a launch storm it waits (up to 10 intervals) rather than take request slots from dials.
            overdue = time.monotonic() - engine.last_reconcile > 10 * interval
            if engine.dial_backlog() == 0 or overdue:
                engine.reconcile(wait=False, full=False)

        aps.add_job(_guard("reconcile", periodic_reconcile), "interval", seconds=interval, id="reconcile")

        wake = _guard("wake", engine.wake)

        def plan_wakeups() -> None:
            for instant in engine.next_wakeups(clock.now(), WAKEUP_HORIZON):
                aps.add_job(wake, "date", run_date=instant, id=f"wake-{instant.isoformat()}",
                            replace_existing=True)

        aps.add_job(_guard("wakeups", plan_wakeups), "interval", seconds=5, id="wakeups",
                    next_run_time=clock.now())
        if bridge is None:
            _global_jobs(aps, settings, session_factory)
        aps.start()
        while not stop.wait(0.2) and not lost.is_set():
            pass
    finally:
        done.set()
        monitor_stop.set()
        if receiver is not None:
            receiver.unregister(drivers)
            receiver.stop()
        if aps.running:
            # A bridge given up to another scheduler: its running tick ends before the lease is released.
            aps.shutdown(wait=not lost.is_set())
        engine.close()
        for driver in drivers.values():
            driver.close()
        renewer.join(5)


def _global_jobs(aps: BackgroundScheduler, settings: Settings, session_factory: object) -> None:
    """The work that is not per bridge, done by the holder of the global lease."""
    aps.add_job(_guard("audit-purge", lambda: purge_job(session_factory,  # type: ignore[arg-type]
                                                        settings.audit.retention_days)),
                "interval", seconds=PURGE_INTERVAL_SECONDS, id="audit-purge", next_run_time=clock.now())
    # The active scheduler also delivers the invitation outbox (``confbridge mail worker`` may run
    # beside it: rows are claimed, so each message is sent by one of them).
    aps.add_job(_guard("outbox", lambda: _deliver_outbox(settings, session_factory)), "interval",
                seconds=settings.mail.poll_seconds, id="outbox", next_run_time=clock.now())
    aps.add_job(_guard("purge", lambda: purge_credentials(session_factory)), "interval",  # type: ignore[arg-type]
                seconds=PURGE_SECONDS, id="purge", next_run_time=clock.now())
    # Alarm e-mail and escalation ([alerts]): queued to the outbox from the alarm tables.
    aps.add_job(_guard("alarm-mail", lambda: _mail_alarms(settings, session_factory)), "interval",
                seconds=ALARM_MAIL_SECONDS, id="alarm-mail", next_run_time=clock.now())
    # Reminders to the endpoints' contacts are queued into that outbox (idempotent per occurrence and
    # contact: confbridge.invites.reminders); first round after one interval, not in the start-up burst.
    aps.add_job(_guard("contact-reminders", lambda: _queue_reminders(settings, session_factory)), "interval",
                seconds=REMINDER_POLL_SECONDS, id="contact-reminders")


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


def _mail_alarms(settings: Settings, session_factory: object) -> None:
    from confbridge.invites.alarm_mail import mail_alarms

    mail_alarms(session_factory, settings)  # type: ignore[arg-type]


def _queue_reminders(settings: Settings, session_factory: object) -> None:
    from confbridge.invites.reminders import queue_due_reminders

    queue_due_reminders(session_factory, settings)  # type: ignore[arg-type]


def _deliver_outbox(settings: Settings, session_factory: object) -> None:
    from confbridge.invites.outbox import deliver_due

    report = deliver_due(session_factory, settings)  # type: ignore[arg-type]
    if report.attempted:
        log.info("outbox: %d sent, %d to retry, %d failed",
                 len(report.sent), len(report.retrying), len(report.failed))


class _Worker:
    """One held lease and the thread driving it (``_lead``); the lease is released when the thread ends."""

    def __init__(self, settings: Settings, lease: Lease, factory: sessionmaker[Session],
                 bridge: BridgeSettings | None) -> None:
        self.lease = lease
        self.bridge = bridge
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(settings, factory), name=f"drive-{lease.name}",
                                       daemon=True)

    def _run(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        try:
            _lead(settings, self.lease, factory, self.stop, self.bridge)
        except Exception:
            log.exception("driving %s failed", self.lease.name)
        finally:
            try:
                self.lease.release()
            except Exception:
                log.exception("lease %s release failed", self.lease.name)

    def start(self) -> _Worker:
        self.thread.start()
        return self


def _gauge(bridge: BridgeSettings | None, value: int) -> None:
    if bridge is None:
        metrics.SCHEDULER_LEADER.set(value)
    else:
        metrics.BRIDGE_LEASE.labels(bridge.name).set(value)


def _share_pass(settings: Settings, factory: sessionmaker[Session], holder: str, gate: AbstractContextManager[Any],
                workers: dict[str, _Worker], lease_factory: sessionmaker[Session] | None = None) -> None:
    """Take the global lease when free; take or give bridges toward this scheduler's fair share."""
    seconds = settings.launch.lease_seconds
    lease_factory = lease_factory or factory
    if share.GLOBAL_LEASE not in workers:
        lease = Lease(lease_factory, holder, seconds, gate=gate)
        if lease.try_acquire():
            log.info("scheduler %s is active", holder)
            _gauge(None, 1)
            workers[share.GLOBAL_LEASE] = _Worker(settings, lease, factory, None).start()
    bridges = {b.name: b for b in settings.bridges}
    held = [name for name in workers if name != share.GLOBAL_LEASE]
    census = share.read_census(lease_factory, bridges, clock.now(), gate)
    decision = share.decide(census, holder, held)
    taken = 0
    for name in decision.take:
        if taken >= decision.want:
            break
        lease = Lease(lease_factory, holder, seconds, name=share.bridge_lease_name(name), gate=gate)
        if lease.try_acquire():
            taken += 1
            log.info("scheduler %s drives bridge %s", holder, name)
            _gauge(bridges[name], 1)
            workers[name] = _Worker(settings, lease, factory, bridges[name]).start()
    if decision.give is not None and not workers[decision.give].stop.is_set():
        log.info("scheduler %s gives bridge %s up (fair share %d of %d bridges)", holder, decision.give,
                 share.fair_share(len(bridges), len(census.nodes | {holder})), len(bridges))
        workers[decision.give].stop.set()


def _lease_sessions(engine: Engine, factory: sessionmaker[Session], settings: Settings,
                    ) -> tuple[sessionmaker[Session], Engine | None]:
    """Sessions for taking and renewing leases.  On PostgreSQL, a pool of their own: the engines'
    steps (up to 3 × a bridge's request slots each, several bridges per scheduler) can hold every
    connection of the shared pool, and a renewal queued behind them let the lease run out in the middle
    of a storm.  (SQLite keeps one engine: its renewals go first through the process's gate.)"""
    if engine.dialect.name != "postgresql":
        return factory, None
    own = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2,
                      max_overflow=len(settings.bridges) + 2)
    return make_session_factory(own), own


def _reap(workers: dict[str, _Worker], holder: str, stop: threading.Event) -> None:
    for name, worker in list(workers.items()):
        if worker.thread.is_alive():
            continue
        del workers[name]
        _gauge(worker.bridge, 0)
        if stop.is_set():
            continue
        if worker.bridge is None:
            log.warning("scheduler %s lost leadership; back to standby", holder)
        elif not worker.stop.is_set():
            log.warning("scheduler %s lost bridge %s", holder, name)


def run_scheduler(settings: Settings, stop_event: threading.Event | None = None, *,
                  runtime: Runtime | None = None) -> None:
    """Run the scheduler until *stop_event* is set (or SIGTERM/SIGINT when run as a command).

    Several may run against one database: they share the bridges (one lease each, a fair share per
    scheduler) and one holds the global lease; a dead scheduler's leases are taken by the others within
    ``launch.lease_seconds`` + 1 s.  One alone drives every bridge and does the global work.
    *runtime* is the process's (``confbridge scheduler``, ``confbridge run``); without one, one is opened.
    """
    stop = stop_event or threading.Event()
    if stop_event is None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    owned = runtime is None
    runtime = runtime or open_runtime(settings, "scheduler", configure_logging=False)
    factory = runtime.session_factory
    node_id = uuid.uuid4().hex[:12]
    holder = f"{socket.gethostname()}:{os.getpid()}:{node_id}"
    # Every lease and engine of the process shares one gate for SQLite transactions (confbridge.launch.dbgate).
    gate = gate_for(factory)
    lease_factory, lease_engine = _lease_sessions(runtime.engine, factory, settings)
    presence = Lease(lease_factory, holder, settings.launch.lease_seconds, name=share.node_lease_name(node_id),
                     gate=gate)
    log.info("scheduler %s starting (standby until a lease is free)", holder)
    metrics.SCHEDULER_LEADER.set(0)
    probes = _start_probes(settings, runtime.engine, factory)
    workers: dict[str, _Worker] = {}
    try:
        share.forget_departed(factory, clock.now())
    except Exception:
        log.exception("could not delete the presence rows of departed schedulers")
    try:
        while not stop.is_set():
            _reap(workers, holder, stop)
            try:
                if not presence.renew():
                    presence.try_acquire()
                _share_pass(settings, factory, holder, gate, workers, lease_factory)
            except Exception:
                log.exception("lease acquisition failed")
            stop.wait(STANDBY_POLL_SECONDS)
    finally:
        for worker in workers.values():
            worker.stop.set()
        for worker in workers.values():
            worker.thread.join(30)
            _gauge(worker.bridge, 0)
        try:
            presence.release()
        except Exception:
            log.exception("lease release failed")
        if probes is not None:
            probes.stop()
        if lease_engine is not None:
            lease_engine.dispose()
        if owned:
            runtime.close()
